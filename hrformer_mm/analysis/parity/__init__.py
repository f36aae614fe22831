"""Numerical parity with the reference code, and its golden records.

Each submodule checks one reference against this project's models:
:mod:`.hrvit` (github.com/facebookresearch/HRViT, the backbone),
:mod:`.cls` (the HRFormer and HRViT ImageNet classifiers) and :mod:`.seg`
(the HRFormer segmentation release).  The reference weights are seeded
random values in the reference's own key scheme
(:func:`hrformer_mm.testing.seeded_state`), converted and loaded as a user's
checkpoint would be.  The reference code is a checkout the user fetches at
check time, never part of this repository; the golden records under
``tests/data`` (key names, shapes, seed and reference outputs) let the
test-suite check parity without it.

The command lines are ``tools/analysis/parity_*.py``; the options and the
run they share are here (:func:`parity_parser`, :func:`run_parity`).
"""
import argparse
import contextlib
import importlib.util
import sys
from typing import Callable, Dict, Iterable, Iterator, Sequence


class ReferenceCheckoutError(RuntimeError):
    """A folder is not a usable checkout of the reference code."""


@contextlib.contextmanager
def reference_on_path(root: str) -> Iterator[None]:
    """``root`` first on ``sys.path`` while the block runs, then removed.

    The reference code is not a package: its modules import each other by
    top-level names (``config``, ``models.hrt``, ``lib.models...``)
    relative to their checkout.  Import the modules inside the block; they
    stay in ``sys.modules`` afterwards.
    """
    sys.path.insert(0, root)
    try:
        yield
    finally:
        sys.path.remove(root)


def load_module_from_file(path: str, name: str):
    """Import the single file ``path`` as module ``name`` (registered in
    ``sys.modules``: timm's ``register_model`` looks it up there)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def parity_parser(description: str, checkouts: Dict[str, str],
                  variants_flag: str, variants: Sequence[str],
                  variants_help: str, tol: float, tol_help: str,
                  golden_help: str) -> argparse.ArgumentParser:
    """The options every parity tool has: the reference checkouts (one
    ``--flag`` per entry of ``checkouts``, its help the value), which
    variants to check, the tolerance and ``--write-golden``."""
    p = argparse.ArgumentParser(description=description)
    for flag, help_ in checkouts.items():
        p.add_argument(flag, required=True, help=help_)
    p.add_argument(variants_flag, nargs='+', default=list(variants),
                   choices=list(variants), help=variants_help +
                   ' (default: all)')
    p.add_argument('--tol', type=float, default=tol,
                   help=f'{tol_help} (default {tol:.0e})')
    p.add_argument('--write-golden', metavar='PATH', help=golden_help)
    return p


def run_parity(variants: Iterable[str], compare: Callable[[str], float],
               tol: float) -> bool:
    """``compare(variant)`` (the largest difference it found, printing its
    details) for every variant; prints the worst and the verdict per
    variant.  True when every difference is at most ``tol``."""
    worst = {}
    for variant in variants:
        print(f'{variant}:')
        worst[variant] = compare(variant)
        verdict = 'OK' if worst[variant] <= tol else 'FAIL'
        print(f'  worst {worst[variant]:.2e} -> {verdict}')
    failed = [v for v, w in worst.items() if not w <= tol]
    print(f'worst {max(worst.values()):.2e} (tolerance {tol:.0e})' +
          (f'; failed: {", ".join(failed)}' if failed else ''))
    return not failed

