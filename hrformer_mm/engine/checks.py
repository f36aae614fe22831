"""Early, specific errors for the mistakes users make most.

A missing annotation file or a checkpoint of the wrong model otherwise
surfaces deep inside a dataset constructor, or worse, as a warning that
half the weights were skipped followed by a run that silently trains from
scratch.  A head whose input channels or output size disagree with the
backbone or the dataset fails at the first batch with a shape error that
names neither config key.
"""
import contextlib
import os
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


class CheckpointUnavailableError(CheckpointError, FileNotFoundError):
    """A checkpoint the config names cannot be read on this machine: a
    local file that is not there, or a URL that is neither in torch hub's
    cache nor downloadable now."""


def _local_copy_hint(cfg: Config, source, training: bool) -> str:
    name = osp.basename(source.path or source.spec) or 'checkpoint.pth'
    if source.key != 'load_from':
        return f'--cfg-options {source.key}=/path/to/{name}'
    if not training:
        return f'give the local file as CHECKPOINT (tools/test.py CONFIG ' \
            f'/path/to/{name})'
    if cfg.get('resume'):
        return f'--resume /path/to/{name}'
    return f'--cfg-options load_from=/path/to/{name}'


def check_checkpoints_available(cfg: Config, training: bool = True) -> None:
    """Raise :class:`CheckpointUnavailableError` naming every checkpoint of
    ``cfg`` that cannot be read here: with ``training``, every
    ``type='Pretrained'`` initialiser of the model and ``load_from`` (also
    the file ``--resume`` reads); else ``load_from`` alone, which is all
    evaluation reads.

    A URL (or an ``open-mmlab://`` / ``torchvision://`` name, resolved to
    its URL) passes when its file is in torch hub's cache.  When it is not,
    one HEAD request asks its server, with a short timeout, whether it could
    be downloaded (nothing is downloaded here); with ``HRFORMER_OFFLINE=1``
    no server is asked and the URL fails at once.  Schemes other storage
    backends read (``s3://``, ...) are not checked.

    Without this, a compute node without internet builds the whole runner
    and then stops in ``init_weights`` with a bare ``URLError`` that names
    neither the config key nor the file it looked for.
    """
    from hrformer_mm.checkpoint_sources import (OFFLINE_ENV,
                                                checkpoints_named,
                                                url_problem)
    offline = os.environ.get(OFFLINE_ENV, '').strip().lower() in (
        '1', 'true', 'yes')
    problems, asked, any_url = [], {}, False
    for source in checkpoints_named(cfg, training=training):
        if source.error:
            reason = source.error
        elif not source.checked or source.present:
            continue
        elif source.url is None:
            reason = 'no such file'
        elif offline:
            reason = f'not in the cache, and {OFFLINE_ENV}=1 is set'
        else:
            if source.url not in asked:
                asked[source.url] = url_problem(source.url)
            if asked[source.url] is None:
                continue
            reason = f'not in the cache, and {asked[source.url]}'
        given_by = ''
        if source.key == 'load_from' and not training:
            given_by = ' (the CHECKPOINT argument)'
        elif source.key == 'load_from' and cfg.get('resume'):
            given_by = ' (--resume)'
        lines = [f'{source.key} = {source.spec}{given_by}']
        if source.url not in (None, source.spec):
            lines.append(f'  URL: {source.url}')
        if source.url is not None:
            lines.append(f"  read from torch hub's cache: {source.path}")
            any_url = True
        elif source.path not in (None, source.spec):
            lines.append(f'  read from: {source.path}')
        lines.append(f'  {reason}')
        hint = f'  use a local copy: {_local_copy_hint(cfg, source, training)}'
        if source.url is not None:
            hint += ', or put the file at the path above'
        lines.append(hint)
        problems.append('\n  '.join(lines))
    if problems:
        message = ('checkpoints named in the config cannot be read on this '
                   'machine:\n  ' + '\n  '.join(problems))
        if any_url:
            message += (
                "\nThe cache is torch.hub.get_dir()/checkpoints "
                '($TORCH_HOME/hub/checkpoints; by default '
                '~/.cache/torch/hub/checkpoints). For compute nodes without '
                'internet, fill it on a machine that has internet with '
                f'`python tools/fetch_weights.py {cfg.filename or "CONFIG"}` '
                'and copy the files to the same place here (or point '
                'TORCH_HOME at a shared copy).')
        raise CheckpointUnavailableError(message)


def load_state_dict_from_file(filename: str) -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of a checkpoint file, with a clear error if the file
    is missing, truncated or not a PyTorch checkpoint.  URLs and the other
    names mmengine's ``CheckpointLoader`` reads go through it (a cached URL
    is read from torch hub's cache)."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from hrformer_mm.checkpoint_sources import is_local
    local = is_local(filename)
    if local and not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} not found')
    try:
        ckpt = load_checkpoint_file(filename, map_location='cpu') if local \
            else CheckpointLoader.load_checkpoint(filename, 'cpu', 'silent')
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
    from hrformer_mm.models.backbones.base import \
        adapt_state_dict_for_model

    # compared as the backbones' load pre-hooks will read it: other
    # releases' formats, bias tables of another window size
    state = adapt_state_dict_for_model(model,
                                       load_state_dict_from_file(filename))
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
            '(check arch / channels / num_classes), or is in a format the '
            'backbone does not read (docs/weights.md).' + hint +
            (f'\n  {detail}' if detail else '') +
            (f'\n  ... and {more} more' if more > 0 else ''))


class ConfigMismatchError(ValueError):
    """Two parts of a config disagree (a head and its backbone, a head and
    its dataset)."""


def _head_configs(model_cfg: dict) -> List[tuple]:
    """``(config key, head config)`` for every head of a model config."""
    heads = []
    for key in ('head', 'decode_head', 'auxiliary_head'):
        node = model_cfg.get(key)
        if isinstance(node, dict):
            heads.append((f'model.{key}', node))
        elif isinstance(node, (list, tuple)):
            heads += [(f'model.{key}[{k}]', h) for k, h in enumerate(node)
                      if isinstance(h, dict)]
    return heads


def input_channels(model: torch.nn.Module) -> int:
    """Channels of the images the model takes: its backbone's
    ``in_channels``, else the input channels of the backbone's first
    convolution, else 3.

    Raises :class:`ConfigMismatchError` when the data preprocessor
    normalises another number of channels (mmengine's ``mean`` / ``std``
    have one value, any channel count, or three).
    """
    backbone = getattr(model, 'backbone', model)
    channels = getattr(backbone, 'in_channels', None)
    if not isinstance(channels, int):
        conv = next((m for m in backbone.modules()
                     if isinstance(m, torch.nn.Conv2d)), None)
        channels = conv.in_channels if conv is not None else 3
    mean = getattr(getattr(model, 'data_preprocessor', None), 'mean', None)
    if isinstance(mean, torch.Tensor) and mean.numel() not in (1, channels):
        raise ConfigMismatchError(
            f'model.data_preprocessor normalises {mean.numel()} channels '
            f'(mean / std of {mean.numel()} values) but model.backbone '
            f'takes {channels}-channel images: give mean and std '
            f'{channels} values (or one), or set the backbone\'s '
            f'in_channels to {mean.numel()}')
    return channels


class ModelProbeError(ConfigMismatchError):
    """The model cannot run a small blank image: the first batch would fail
    the same way."""


#: probe sizes (H, W) tried in turn: a small one, then the input size of
#: the config's codec / data preprocessor where it names one
PROBE_SIZE = (64, 64)


def _config_input_size(model_cfg: dict):
    """(H, W) the config feeds the model, where it says so: a pose codec's
    ``input_size`` (W, H), a data preprocessor's ``size`` (H, W)."""
    head = model_cfg.get('head') if isinstance(model_cfg, dict) else None
    decoder = head.get('decoder') if isinstance(head, dict) else None
    if isinstance(decoder, dict) and decoder.get('input_size'):
        w, h = decoder['input_size']
        return int(h), int(w)
    pre = model_cfg.get('data_preprocessor') if isinstance(
        model_cfg, dict) else None
    if isinstance(pre, dict) and pre.get('size'):
        h, w = pre['size']
        return int(h), int(w)
    return None


@contextlib.contextmanager
def _eager(model: torch.nn.Module):
    """Run ``torch.compile``-d code of ``model`` eagerly inside the block.

    The probe's blank images have shapes training never feeds: compiling
    for them (and, with ``mode='reduce-overhead'``, recording CUDA graphs)
    would cost start-up time on every rank and fill the compiler's cache
    with graphs never used again.  torch >= 2.6 has a switch for it; before
    that, the blocks :meth:`torch.nn.Module.compile` compiled in place (the
    ``compile_cfg`` option) are called uncompiled.
    """
    set_stance = getattr(torch.compiler, 'set_stance', None)
    if set_stance is not None:
        with set_stance('force_eager'):
            yield
        return
    compiled = {m: m._compiled_call_impl for m in model.modules()
                if getattr(m, '_compiled_call_impl', None) is not None}
    try:
        for m in compiled:
            m._compiled_call_impl = None
        yield
    finally:
        for m, impl in compiled.items():
            m._compiled_call_impl = impl


def feature_channels(model: torch.nn.Module, size=PROBE_SIZE,
                     model_cfg: dict = None) -> List[int]:
    """Channels of each feature map the model's heads receive (backbone and
    neck), found by one forward pass of a blank image of the model's input
    channels (:func:`input_channels`) and ``size`` (an int: square);
    failing that, of the config's input size (``model_cfg``).

    Raises :class:`ModelProbeError`, naming the input and the error, when
    the model runs neither: the first batch would fail the same way.
    Compiled parts of the model run eagerly here (nothing is compiled for
    the probe's shapes).
    """
    size = (size, size) if isinstance(size, int) else tuple(size)
    channels = input_channels(model)
    sizes = [size]
    config_size = _config_input_size(model_cfg or {})
    if config_size is not None and config_size != size:
        sizes.append(config_size)
    param = next(model.parameters(), None)
    device = param.device if param is not None else 'cpu'
    was_training = model.training
    model.eval()
    errors = []
    try:
        for h, w in sizes:
            x = torch.zeros(1, channels, h, w, device=device)
            try:
                with torch.no_grad(), _eager(model):
                    feats = model.extract_feat(x)
                break
            except torch.cuda.OutOfMemoryError:
                raise
            except Exception as e:  # noqa: BLE001 - named in the error
                errors.append(f'1x{channels}x{h}x{w}: {type(e).__name__}: '
                              f'{e}')
        else:
            raise ModelProbeError(
                'the model cannot run a blank image of its input channels '
                '(' + '; '.join(errors) + '). The first batch would fail '
                'the same way: check model.backbone (arch, in_channels) and '
                'model.neck against each other.')
    finally:
        model.train(was_training)
    if isinstance(feats, torch.Tensor):
        feats = [feats]
    return [f.shape[1] for f in feats]


def check_head_channels(model_cfg: dict, model: torch.nn.Module) -> None:
    """Raise :class:`ConfigMismatchError` when a head's ``in_channels`` is
    not what the backbone (and neck) put out, naming both numbers and keys.

    mmseg heads read ``feats[in_index]`` (``in_channels`` a list with
    ``input_transform``); mmpose heads read the last feature map.
    Heads without ``in_channels`` are not checked.
    """
    heads = [(k, h) for k, h in _head_configs(model_cfg)
             if h.get('in_channels') is not None]
    if not heads or not hasattr(model, 'extract_feat'):
        return
    try:
        channels = feature_channels(model, model_cfg=model_cfg)
    except torch.cuda.OutOfMemoryError as e:
        # advisory: the device is full now, the check could not run
        import warnings
        warnings.warn('could not check the heads\' in_channels: the trial '
                      f'forward of the backbone ran out of memory ({e})')
        return
    source = 'model.neck' if model_cfg.get('neck') else 'model.backbone'
    problems = []
    for key, head in heads:
        in_channels = head['in_channels']
        index = head.get('in_index', -1)
        wanted = list(in_channels) if isinstance(
            in_channels, (list, tuple)) else [in_channels]
        indices = list(index) if isinstance(index, (list, tuple)) else [index]
        if len(wanted) != len(indices):
            problems.append(f'{key}.in_channels={list(wanted)} has '
                            f'{len(wanted)} entries but {key}.in_index='
                            f'{index} selects {len(indices)} feature maps')
            continue
        for w, i in zip(wanted, indices):
            try:
                got = channels[i]
            except IndexError:
                problems.append(f'{key}.in_index={index}: {source} puts '
                                f'out only {len(channels)} feature maps')
                break
            if w != got:
                problems.append(
                    f'{key}.in_channels={in_channels} expects {w} channels '
                    f'at feature map {i}, but {source} '
                    f'({model_cfg[source.split(".")[1]].get("type")}) puts '
                    f'out {got} there (all outputs: {channels})')
                break
    if problems:
        raise ConfigMismatchError(
            'head input channels do not match the backbone output channels:'
            '\n  ' + '\n  '.join(problems) + '\nSet the head\'s in_channels '
            'to the backbone\'s output channels (they follow from '
            'model.backbone arch / out_indices).')


def check_dataset_matches_head(model: torch.nn.Module, metainfo: dict,
                               dataset_key: str) -> None:
    """Raise :class:`ConfigMismatchError` when the dataset's keypoint count
    (pose) or class count (segmentation) differs from what the head
    predicts."""
    problems = []
    num_keypoints = metainfo.get('num_keypoints')
    head = getattr(model, 'head', None)
    if num_keypoints is not None and head is not None:
        out = getattr(head, 'out_channels', None)
        if isinstance(out, int) and out != num_keypoints:
            problems.append(
                f'model.head.out_channels={out} but {dataset_key} has '
                f'{num_keypoints} keypoints (metainfo '
                f'{metainfo.get("dataset_name", "")!r})')
    classes = metainfo.get('classes')
    if classes is not None:
        for key in ('decode_head', 'auxiliary_head'):
            node = getattr(model, key, None)
            if node is None:
                continue
            nodes = list(node) if isinstance(node, torch.nn.ModuleList) \
                else [node]
            for k, h in enumerate(nodes):
                n = getattr(h, 'num_classes', None)
                name = f'model.{key}' + (f'[{k}]' if len(nodes) > 1 else '')
                if isinstance(n, int) and n != len(classes):
                    problems.append(
                        f'{name}.num_classes={n} but {dataset_key} has '
                        f'{len(classes)} classes')
    if problems:
        raise ConfigMismatchError(
            'the dataset does not match the model:\n  ' +
            '\n  '.join(problems) + '\nChange the head (out_channels / '
            'num_classes) or the dataset metainfo so that they agree.')
