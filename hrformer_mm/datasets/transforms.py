"""A guard around the image-loading transform of any mmpose / mmseg
pipeline: an image that cannot be read or decoded either stops the run
naming the file, or (training only) is skipped with a warning and counted.

:func:`hrformer_mm.engine.launch.apply_bad_image_policy` wraps the loader of
each pipeline according to the config key ``bad_images = 'raise' | 'skip'``.
"""
import multiprocessing
import warnings

from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS

from hrformer_mm.registry import TRANSFORMS

# Shared with forked dataloader workers, so the main process can report the
# total.
_SKIPPED = multiprocessing.Value('i', 0)


def skipped_images() -> int:
    return _SKIPPED.value


class ImageDecodeError(IOError):
    """An image file is missing, unreadable or cannot be decoded."""


@TRANSFORMS.register_module()
class GuardedLoadImage(BaseTransform):
    """Run ``load`` (a loading transform config such as
    ``dict(type='LoadImage')``); on failure raise :class:`ImageDecodeError`
    naming the file, or with ``on_error='skip'`` return None (mmengine's
    training datasets then draw another sample) after a warning."""

    def __init__(self, load: dict, on_error: str = 'raise',
                 key: str = 'train_dataloader'):
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"bad_images must be 'raise' or 'skip', got "
                             f'{on_error!r}')
        self.load = ROOT_TRANSFORMS.build(load)
        self.on_error = on_error
        self.key = key

    def transform(self, results: dict):
        path = results.get('img_path', results.get('filename', '?'))
        try:
            out = self.load(results)
            error = None if out is not None else 'empty or missing file'
        except Exception as e:  # noqa: BLE001 - decoders raise many kinds
            out, error = None, f'{type(e).__name__}: {e}'
        if error is None:
            return out
        if self.on_error == 'skip':
            with _SKIPPED.get_lock():
                _SKIPPED.value += 1
                count = _SKIPPED.value
            warnings.warn(f'skipping undecodable image {path} ({error}); '
                          f'{count} skipped so far')
            return None
        raise ImageDecodeError(
            f'cannot read image {path} in {self.key} ({error}). Fix or '
            "remove the file, or set bad_images = 'skip' in the config to "
            'skip such images in training.')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(load={self.load!r}, '
                f'on_error={self.on_error!r})')
