"""Procedural textures, backgrounds and occluders shared by the synthetic
datasets.  Pure functions of a numpy ``Generator``."""
import math
from typing import Tuple

import cv2
import numpy as np

__all__ = ['texture', 'background', 'occluder', 'paste', 'noise']


def noise(rng: np.random.Generator, h: int, w: int,
          scale: float) -> np.ndarray:
    """Smooth noise in [0, 1] with features of about ``scale`` pixels."""
    gh, gw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    coarse = rng.random((gh, gw)).astype(np.float32)
    up = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(up, 0, 1)


def _random_colour(rng: np.random.Generator, lo: int = 30,
                   hi: int = 230) -> np.ndarray:
    return rng.integers(lo, hi, 3).astype(np.float32)


def texture(rng: np.random.Generator, h: int, w: int,
            kind: str = None) -> np.ndarray:
    """A (h, w, 3) uint8 texture: blotches, stripes, checks or grain."""
    kind = kind or rng.choice(['blotch', 'stripes', 'checks', 'grain'])
    c1, c2 = _random_colour(rng), _random_colour(rng)
    if kind == 'blotch':
        t = noise(rng, h, w, rng.uniform(4, 30))
    elif kind == 'stripes':
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, math.pi)
        period = rng.uniform(4, 16)
        t = 0.5 + 0.5 * np.sin(
            (xx * math.cos(a) + yy * math.sin(a)) * 2 * math.pi / period)
    elif kind == 'checks':
        s = int(rng.integers(4, 14))
        yy, xx = np.mgrid[0:h, 0:w]
        t = (((yy // s) + (xx // s)) % 2).astype(np.float32)
    else:
        t = rng.random((h, w)).astype(np.float32)
        t = cv2.GaussianBlur(t, (0, 0), 0.8)
    t = t[..., None]
    img = c1 * t + c2 * (1 - t)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def paste(dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> None:
    dst[mask] = src[mask]


def background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = texture(rng, h, w)
    for _ in range(int(rng.integers(1, 4))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        rw, rh = int(rng.integers(10, w // 2)), int(rng.integers(10, h // 2))
        m = np.zeros((h, w), np.uint8)
        cv2.rectangle(m, (x0, y0), (x0 + rw, y0 + rh), 1, -1)
        paste(img, texture(rng, h, w), m.astype(bool))
    return img


def occluder(rng: np.random.Generator, h: int, w: int,
              box: Tuple[float, float, float, float]) -> np.ndarray:
    """A textured ellipse or rectangle over part of ``box`` (x, y, w, h)."""
    x, y, bw, bh = box
    m = np.zeros((h, w), np.uint8)
    cx = int(x + rng.uniform(0, bw))
    cy = int(y + rng.uniform(0.2, 1.0) * bh)
    ax, ay = int(rng.uniform(0.15, 0.35) * bw), int(rng.uniform(0.08, 0.2) * bh)
    if rng.random() < 0.5:
        cv2.ellipse(m, (cx, cy), (max(ax, 2), max(ay, 2)),
                    rng.uniform(0, 180), 0, 360, 1, -1)
    else:
        cv2.rectangle(m, (cx - ax, cy - ay), (cx + ax, cy + ay), 1, -1)
    return m.astype(bool)
