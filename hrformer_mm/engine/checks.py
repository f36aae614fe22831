"""Early, specific errors for the mistakes users make most.

A missing annotation file or a checkpoint of the wrong model otherwise
surfaces deep inside a dataset constructor, or worse, as a warning that
half the weights were skipped followed by a run that silently trains from
scratch.
"""
import os.path as osp
from typing import Dict, List

import torch
from mmengine.config import Config

from hrformer_mm.safe_load import (CheckpointError, UntrustedCheckpointError,
                                   load_checkpoint_file)


class DataFileNotFoundError(FileNotFoundError):
    """A dataset file a config points at does not exist."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint does not fit the model it is loaded into."""


_DEMO_HINT = ('For the built-in demo data run `python '
              'tools/generate_demo_data.py`; for the real datasets see '
              'README "Datasets".')


def _join(root, path):
    if not path or osp.isabs(path) or not root:
        return path
    return osp.join(root, path)


def _dataset_files(dataset: dict) -> Dict[str, str]:
    """Files and folders a dataset config reads, by config key."""
    if dataset.get('type') in ('ConcatDataset', 'RepeatDataset',
                               'ClassBalancedDataset'):
        inner = dataset.get('datasets') or [dataset.get('dataset')]
        files = {}
        for k, d in enumerate(inner):
            files.update({f'{k}.{n}': p
                          for n, p in _dataset_files(d).items()})
        return files
    root = dataset.get('data_root', '')
    files = {}
    if dataset.get('ann_file'):
        files['ann_file'] = _join(root, dataset['ann_file'])
    if dataset.get('bbox_file'):
        files['bbox_file'] = dataset['bbox_file']
    for name, prefix in (dataset.get('data_prefix') or {}).items():
        if prefix:
            files[f'data_prefix.{name}'] = _join(root, prefix)
    return files


def check_data_files(cfg: Config, splits: List[str]) -> None:
    """Raise :class:`DataFileNotFoundError` naming every missing file.

    ``splits`` are the config prefixes to check: ``'train'``, ``'val'``,
    ``'test'``.
    """
    missing = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        for key, path in _dataset_files(loader['dataset']).items():
            if path and not osp.exists(path):
                missing.append(f'{split}_dataloader.dataset.{key}: {path}')
        evaluators = cfg.get(f'{split}_evaluator') or []
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        for k, ev in enumerate(evaluators):
            if ev.get('ann_file') and not osp.exists(ev['ann_file']):
                missing.append(f'{split}_evaluator.ann_file: {ev["ann_file"]}')
    if missing:
        raise DataFileNotFoundError(
            'dataset files named in the config do not exist:\n  ' +
            '\n  '.join(missing) + '\n' + _DEMO_HINT)


def load_state_dict_from_file(filename: str) -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of a checkpoint file, with a clear error if the file
    is missing, truncated or not a PyTorch checkpoint."""
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} not found')
    try:
        ckpt = load_checkpoint_file(filename, map_location='cpu')
    except UntrustedCheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - torch raises many kinds here
        raise CheckpointMismatchError(
            f'checkpoint {filename} is corrupt or not a PyTorch checkpoint '
            f'({type(e).__name__}: {e})') from e
    if isinstance(ckpt, dict):
        ckpt = ckpt.get('state_dict', ckpt.get('model', ckpt))
    if not isinstance(ckpt, dict) or not all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise CheckpointMismatchError(
            f'checkpoint {filename} holds no state dict of tensors')
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in ckpt.items()}


def check_checkpoint_matches(model: torch.nn.Module, filename: str,
                             max_listed: int = 5) -> None:
    """Raise :class:`CheckpointMismatchError` unless every tensor in the
    checkpoint has the shape of the model's tensor of the same name, and
    the checkpoint covers the model's backbone.

    mmengine only warns on such mismatches and then evaluates or trains a
    half-random model, which is how a wrong ``--checkpoint`` (say HRFormer-B
    weights for an HRFormer-S config) goes unnoticed.
    """
    state = load_state_dict_from_file(filename)
    own = model.state_dict()
    wrong_shape = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state.items() if k in own and own[k].shape != v.shape
    ]
    tracked = [k for k in own if not k.endswith('num_batches_tracked')]
    missing = [k for k in tracked if k not in state]
    matched = len(tracked) - len(missing)
    hint = ''
    if matched == 0 and any(f'backbone.{k}' in own for k in state):
        hint = (' Its keys are those of a bare backbone: load it with '
                "model.backbone.init_cfg=dict(type='Pretrained', "
                'checkpoint=...) instead of load_from.')
    if wrong_shape or matched == 0:
        detail = '\n  '.join(wrong_shape[:max_listed])
        more = len(wrong_shape) - max_listed
        raise CheckpointMismatchError(
            f'checkpoint {filename} does not match the model: '
            f'{len(wrong_shape)} tensors have other shapes, '
            f'{len(missing)} of {len(tracked)} model tensors are missing from '
            'it. It was probably saved from another architecture or variant '
            '(check arch / channels / num_classes), or needs converting '
            '(tools/convert_checkpoint.py).' + hint +
            (f'\n  {detail}' if detail else '') +
            (f'\n  ... and {more} more' if more > 0 else ''))
