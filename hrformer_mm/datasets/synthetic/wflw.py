"""The synthetic face: WFLW's 98 facial landmarks, posed in 3-D, and a
picture drawn from them (``faces.py`` writes it in the on-disk format of
each landmark dataset).

Each face is drawn from its landmarks, so every point sits on a visible
edge: the jaw line (0-32) bounds the skin, the brows (33-50) are dark
bands, the eyes (60-75) almond shapes with iris and pupil (96, 97), the nose
(51-59) a shaded bridge and nostril line, the lips (76-95) a coloured outer
contour around a dark mouth when open.  What varies: face shape, head yaw /
pitch / roll, size and position, expression (brow raise, eye opening, smile,
open mouth), gaze, colours, hair, background, blur and occluders (WFLW's
occlusion subset: occluded points stay annotated).  Left and right follow
WFLW's flip pairs (point i's mirror image is its ``swap`` partner in
mmpose's ``wflw.py``).
"""
import math
from typing import Dict, Tuple

import cv2
import numpy as np

from .textures import background, occluder, paste, texture

__all__ = ['WFLW_NUM_KEYPOINTS', 'WFLW_FLIP_PAIRS', 'face_keypoints',
           'draw_face', 'face_image']

WFLW_NUM_KEYPOINTS = 98
# mmpose's configs/_base_/datasets/wflw.py
WFLW_FLIP_PAIRS = [(i, 32 - i) for i in range(16)] + [
    (33, 46), (34, 45), (35, 44), (36, 43), (37, 42), (38, 50), (39, 49),
    (40, 48), (41, 47), (55, 59), (56, 58), (60, 72), (61, 71), (62, 70),
    (63, 69), (64, 68), (65, 75), (66, 74), (67, 73), (76, 82), (77, 81),
    (78, 80), (83, 87), (84, 86), (88, 92), (89, 91), (93, 95), (96, 97)
]
_FOREHEAD = 15  # outline points over the forehead (drawn, not annotated)


def _face_points(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Canonical 3-D landmarks (98, 3) and forehead outline: x right, y
    down, z towards the camera, face half-width about 1."""
    p = np.zeros((WFLW_NUM_KEYPOINTS, 3))
    rx, ry = rng.uniform(0.9, 1.1), rng.uniform(1.05, 1.3)
    chin = rng.uniform(0.75, 1.25)  # < 1: square jaw, > 1: pointed chin
    d = 0.35  # the jaw line starts a little above the face's centre
    phi = np.pi - d + np.arange(33) * (np.pi + 2 * d) / 32
    c = np.cos(phi)
    p[:33, 0] = np.sign(c) * np.abs(c)**chin * rx
    p[:33, 1] = -np.sin(phi) * ry
    # brows: 33-37 upper edge outer -> inner, 38-41 lower edge inner ->
    # outer; mirrored: 42-46 upper inner -> outer, 47-50 lower outer -> inner
    raise_ = rng.uniform(-0.05, 0.12)
    by = -0.55 - raise_
    arch, thick = rng.uniform(0.03, 0.1), rng.uniform(0.06, 0.11)

    def brow(dist, offset=0.):
        return np.stack([dist, by - arch * np.sin(
            np.pi * (dist - 0.18) / 0.67) + offset], 1)

    upper, lower = np.linspace(0.85, 0.18, 5), np.linspace(0.25, 0.8, 4)
    p[33:38, :2] = brow(upper) * [-1, 1]
    p[38:42, :2] = brow(lower, thick) * [-1, 1]
    p[42:47, :2] = brow(upper[::-1])
    p[47:51, :2] = brow(lower[::-1], thick)
    # nose: bridge top to tip, then the nostril line left to right
    tip = rng.uniform(0.15, 0.3)
    p[51:55, 1] = np.linspace(-0.3, tip, 4)
    p[51:55, 2] = np.linspace(0.1, 0.45, 4)
    nw = rng.uniform(0.15, 0.25)
    p[55:60, 0] = np.linspace(-nw, nw, 5)
    p[55:60, 1] = tip + 0.1 - 0.04 * np.cos(np.linspace(-1, 1, 5) * 1.2)
    p[55:60, 2] = 0.25
    # eyes: corners, upper lid, lower lid; pupils
    ey, ew = rng.uniform(-0.35, -0.25), rng.uniform(0.16, 0.22)
    eo = rng.uniform(0.02, 0.1) * (1 + raise_)
    gaze = rng.uniform(-0.4, 0.4, 2)
    for side, idx, pupil in ((-1, [60, 61, 62, 63, 64, 65, 66, 67], 96),
                             (1, [72, 71, 70, 69, 68, 75, 74, 73], 97)):
        cx = side * 0.42
        outer, inner = cx + side * ew, cx - side * ew
        p[idx[0], :2] = outer, ey
        p[idx[4], :2] = inner, ey
        for k, t in zip(idx[1:4], (0.25, 0.5, 0.75)):
            p[k, :2] = (outer + (inner - outer) * t,
                        ey - eo * math.sin(math.pi * t) * 1.1)
        for k, t in zip(idx[5:8], (0.25, 0.5, 0.75)):
            p[k, :2] = (inner + (outer - inner) * t,
                        ey + eo * math.sin(math.pi * t) * 0.8)
        p[pupil, :2] = cx + gaze[0] * ew * 0.5, ey + gaze[1] * eo * 0.3
    # lips: outer 76-87, inner 88-95
    my = rng.uniform(0.55, 0.7)
    mw = rng.uniform(0.28, 0.4)
    smile = rng.uniform(-0.04, 0.12)
    mw *= 1 + smile
    opening = rng.uniform(0, 0.22) if rng.random() < 0.5 else 0.0
    lip_u, lip_l = rng.uniform(0.04, 0.08), rng.uniform(0.05, 0.1)

    def lip(u, w, off):
        return u * w, my - smile * u * u + off * (1 - u * u)**0.7

    for k, u in zip(range(76, 83), (-1, -0.6, -0.3, 0, 0.3, 0.6, 1)):
        p[k, :2] = lip(u, mw, -(lip_u + opening / 2))
    for k, u in zip(range(83, 88), (0.6, 0.3, 0, -0.3, -0.6)):
        p[k, :2] = lip(u, mw, lip_l + opening / 2)
    for k, u in zip(range(88, 93), (-1, -0.5, 0, 0.5, 1)):
        p[k, :2] = lip(u, 0.8 * mw, -opening / 2)
    for k, u in zip(range(93, 96), (0.5, 0, -0.5)):
        p[k, :2] = lip(u, 0.8 * mw, opening / 2)
    # the face is a curved surface; the nose stands out of it
    inside = np.arange(33, WFLW_NUM_KEYPOINTS)
    p[inside, 2] += 0.5 * np.sqrt(np.clip(1 - p[inside, 0]**2, 0, 1))
    fh = np.linspace(-d, -np.pi + d, _FOREHEAD)
    forehead = np.stack([np.cos(fh) * rx, np.sin(fh) * ry * 0.95,
                         np.zeros(_FOREHEAD)], 1)
    return p, forehead


def _pose_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ rx @ ry


def _posed_face(rng: np.random.Generator, h: int, w: int
                ) -> Tuple[np.ndarray, np.ndarray, float]:
    pts, forehead = _face_points(rng)
    yaw = rng.uniform(-0.6, 0.6)
    rot = _pose_matrix(yaw, rng.uniform(-0.25, 0.25), rng.normal(0, 0.25))
    size = rng.uniform(0.17, 0.3) * min(h, w)
    centre = np.array([rng.uniform(0.38, 0.62) * w,
                       rng.uniform(0.35, 0.6) * h])
    project = (lambda q: (q @ rot.T)[:, :2] * size + centre)
    return project(pts), project(forehead), yaw


def face_keypoints(rng: np.random.Generator, h: int,
                   w: int) -> Tuple[np.ndarray, np.ndarray]:
    """A random face's 98 landmarks in pixels (98, 2) and its forehead
    outline, posed and placed inside an (h, w) image."""
    kp, forehead, _ = _posed_face(rng, h, w)
    return kp, forehead


def _poly(points: np.ndarray) -> np.ndarray:
    return np.round(points * 16).astype(np.int32)  # 4 fractional bits


def _fill(canvas, points, colour):
    cv2.fillPoly(canvas, [_poly(points)], colour, cv2.LINE_AA, shift=4)


def _line(canvas, points, colour, thickness, closed=False):
    cv2.polylines(canvas, [_poly(points)], closed, colour, thickness,
                  cv2.LINE_AA, shift=4)


def draw_face(rng: np.random.Generator, canvas: np.ndarray, kp: np.ndarray,
              forehead: np.ndarray) -> None:
    """Draw the face of landmarks ``kp`` onto ``canvas`` (in place)."""
    h, w = canvas.shape[:2]
    scale = np.linalg.norm(kp[60] - kp[72])
    line = max(1, int(round(scale * 0.03)))
    skin = np.array(rng.uniform([150, 110, 80], [240, 200, 170]))[::-1]
    hair = rng.uniform(0, 90, 3) if rng.random() < 0.8 else \
        rng.uniform(120, 220, 3)
    # hair behind the head, then the face (jaw line + forehead)
    head = np.concatenate([kp[:33], forehead])
    centre = head.mean(0)
    if rng.random() < 0.85:
        _fill(canvas, centre + (head - centre) * rng.uniform(1.05, 1.25),
              hair.tolist())
    face = np.zeros((h, w, 3), np.uint8)
    _fill(face, head, (255, 255, 255))
    mask = face[..., 0] > 127
    shade = texture(rng, h, w, 'blotch').astype(np.float32).mean(
        2, keepdims=True)
    skin_img = np.clip(skin * (0.85 + 0.3 * shade / 255.), 0, 255)
    paste(canvas, skin_img.astype(np.uint8), mask)
    _line(canvas, kp[:33], (skin * 0.7).tolist(), line)
    if rng.random() < 0.5:  # a fringe over the forehead
        top = forehead[::-1]
        brow = (kp[33:38].mean(0) + kp[42:47].mean(0)) / 2
        low = top + (brow - top.mean(0)) * rng.uniform(0.2, 0.5)
        _fill(canvas, np.concatenate([top, low[::-1]]), hair.tolist())
    brow_colour = (hair * rng.uniform(0.5, 1.0)).tolist()
    _fill(canvas, kp[33:42], brow_colour)
    _fill(canvas, kp[42:51], brow_colour)
    # eyes: white, iris (clipped to the eye), pupil, lid line
    iris = rng.uniform(20, 160, 3).tolist()
    for idx, pupil in ((slice(60, 68), 96), (slice(68, 76), 97)):
        eye = kp[idx]
        em = np.zeros((h, w), np.uint8)
        _fill(em, eye, 255)
        white = np.empty_like(canvas)
        white[:] = rng.uniform(200, 250)
        r = np.linalg.norm(eye[0] - eye[4]) * 0.28
        cv2.circle(white, tuple(int(v) for v in kp[pupil]), max(1, int(r)),
                   iris, -1, cv2.LINE_AA)
        cv2.circle(white, tuple(int(v) for v in kp[pupil]),
                   max(1, int(r * 0.45)), (10, 10, 10), -1, cv2.LINE_AA)
        paste(canvas, white, em > 127)
        _line(canvas, eye, (skin * 0.35).tolist(), line, closed=True)
    # nose: bridge shading and the nostril line
    _line(canvas, kp[51:55], (skin * 0.75).tolist(), line)
    _line(canvas, kp[55:60], (skin * 0.55).tolist(), line)
    for k in (56, 58):
        cv2.circle(canvas, tuple(int(v) for v in kp[k]), max(1, line),
                   (skin * 0.4).tolist(), -1)
    # lips, and the mouth inside when open
    lips = rng.uniform([40, 40, 120], [120, 110, 220]).tolist()
    _fill(canvas, kp[76:88], lips)
    inner = kp[88:96]
    if np.linalg.norm(kp[90] - kp[94]) > 1.0:
        _fill(canvas, inner, (30, 20, 40))
    else:
        _line(canvas, inner[:5], (40, 30, 60), line)


def face_image(rng: np.random.Generator, h: int, w: int,
               occlusion: float = 0.25) -> Tuple[np.ndarray, np.ndarray, Dict]:
    """A picture (h, w, 3) of a random face, its 98 landmarks (98, 2) and
    what makes it hard: ``yaw`` (radians), ``occluded`` (an object over
    part of it, with probability ``occlusion``; occluded points stay
    annotated) and ``blurred``."""
    img = background(rng, h, w)
    kp, forehead, yaw = _posed_face(rng, h, w)
    draw_face(rng, img, kp, forehead)
    occluded = bool(rng.random() < occlusion)  # a hand, a scarf, a cup
    if occluded:
        x0, y0 = kp.min(0)
        x1, y1 = kp.max(0)
        paste(img, texture(rng, h, w),
              occluder(rng, h, w, (x0, y0, x1 - x0, y1 - y0)))
    blurred = bool(rng.random() < 0.3)  # WFLW's blur subset
    if blurred:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
    img = img.astype(np.float32) * rng.uniform(0.6, 1.3) + \
        rng.normal(0, 4, img.shape)  # illumination, sensor noise
    return (np.clip(img, 0, 255).astype(np.uint8), kp,
            dict(yaw=float(yaw), occluded=occluded, blurred=blurred))
