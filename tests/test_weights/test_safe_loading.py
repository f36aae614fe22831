"""Checkpoints load with torch's weights-only unpickler and an allow-list:
everything mmengine's Runner writes loads, a pickle that would run code is
refused before it runs, and the error says how to accept a trusted file."""
import io
import os
import zipfile

import numpy as np
import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from hrformer_mm.engine.checks import load_state_dict_from_file
from hrformer_mm.safe_load import (EXTRA_GLOBALS_ENV, TRUST_ENV,
                                   CorruptCheckpointError,
                                   UntrustedCheckpointError,
                                   load_checkpoint_file)


class _Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class _Harmless:
    """A user's plain data class, not on the allow-list."""


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(1)),
                    meta=dict(x=_Payload(marker))), path)
    return path, marker


@pytest.fixture(autouse=True)
def _no_trust(monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    monkeypatch.delenv(EXTRA_GLOBALS_ENV, raising=False)


def _runner_like_checkpoint():
    """What mmengine's Runner puts into a checkpoint besides weights."""
    from mmengine.config import ConfigDict
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('safe_load_test')
    for v in (1.5, 0.5):
        hub.update_scalar('train/loss', v)
    hub.update_info('iter', 3)
    return dict(
        state_dict=dict(w=torch.arange(3.)),
        message_hub=hub.state_dict(),
        meta=dict(seed=np.int64(7), best=np.float64(0.25),
                  dataset_meta=dict(sigmas=np.linspace(0, 1, 17,
                                                       dtype=np.float32)),
                  cfg=ConfigDict(model=dict(type='HRFormer'))),
        rng_states=[dict(numpy=np.random.get_state(),
                         torch=torch.get_rng_state())])


def test_runner_checkpoint_round_trips_through_mmengine(tmp_path):
    path = tmp_path / 'runner.pth'
    torch.save(_runner_like_checkpoint(), path)
    ckpt = _load_checkpoint(str(path), map_location='cpu')
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert loss.mean() == 1.0 and loss.min() == 0.5  # statistics work
    assert ckpt['meta']['seed'] == 7 and ckpt['meta']['best'] == 0.25
    assert ckpt['meta']['dataset_meta']['sigmas'][-1] == 1.0
    assert ckpt['meta']['cfg'].model.type == 'HRFormer'
    assert ckpt['rng_states'][0]['numpy'][1].dtype == np.uint32
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(3.))


def test_empty_array_metainfo_loads(tmp_path):
    """The face datasets' metainfo holds ``sigmas=[]``: an empty array,
    whose raw data b'' protocol 2 pickles as ``bytes()``."""
    path = tmp_path / 'faces.pth'
    torch.save(dict(meta=dict(dataset_meta=dict(sigmas=np.array([])))), path)
    ckpt = load_checkpoint_file(str(path))
    assert ckpt['meta']['dataset_meta']['sigmas'].shape == (0, )


def _pickle_file(path, payload):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', payload)
        z.writestr('archive/version', '3\n')
        z.writestr('archive/byteorder', 'little')


def test_bytes_of_a_size_is_refused_without_allocating(tmp_path):
    """``builtins.bytes`` is on the list for empty arrays only: a file
    calling ``bytes(10**9)`` would have it allocate a gigabyte."""
    import pickle
    import tracemalloc
    # bytes(10**9): a protocol-2 pickle by hand
    payload = b'\x80\x02cbuiltins\nbytes\nJ\x00\xca\x9a\x3b\x85R.'
    assert pickle.loads(payload.replace(b'\x00\xca\x9a\x3b',
                                        b'\x03\x00\x00\x00')) == bytes(3)
    path = tmp_path / 'bytes.pth'
    _pickle_file(path, payload)
    tracemalloc.start()
    try:
        with pytest.raises(UntrustedCheckpointError,
                           match=r'builtins\.bytes is allowed only for'):
            load_checkpoint_file(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10**8


def test_numpy1_checkpoint_names_load(tmp_path):
    """Files written under NumPy 1 name ``numpy.core.multiarray``."""
    path = tmp_path / 'np1.pth'
    torch.save(dict(a=np.arange(4), s=np.float32(2)), path)
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    pkl = [n for n in files if n.endswith('data.pkl')][0]
    assert b'numpy._core.multiarray' in files[pkl]
    files[pkl] = files[pkl].replace(b'numpy._core.multiarray',
                                    b'numpy.core.multiarray')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
        for n, data in files.items():
            z.writestr(n, data)
    path.write_bytes(buf.getvalue())
    ckpt = load_checkpoint_file(str(path))
    assert ckpt['a'].tolist() == [0, 1, 2, 3] and ckpt['s'] == 2.0


def test_malicious_checkpoint_is_refused_without_running(evil):
    path, marker = evil
    with pytest.raises(UntrustedCheckpointError) as err:
        _load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()
    msg = str(err.value)
    system = f'{os.system.__module__}.system'  # posix.system on Linux
    assert system in msg  # names the offending global
    assert f'{TRUST_ENV}={path}' in msg and '--trust-checkpoint' in msg
    assert err.value.names == [system]


def test_state_dict_helper_refuses_it_too(evil):
    """The path tools/convert_checkpoint.py and load_from checks take."""
    path, marker = evil
    with pytest.raises(UntrustedCheckpointError, match=r'\.system'):
        load_state_dict_from_file(str(path))
    assert not marker.exists()


def test_trusting_one_file_unpickles_it_fully(evil, monkeypatch):
    path, marker = evil
    monkeypatch.setenv(TRUST_ENV, str(path) + os.pathsep + '/other.pth')
    load_checkpoint_file(str(path))
    assert marker.exists()


def test_trusting_another_file_does_not_help(evil, monkeypatch, tmp_path):
    path, marker = evil
    monkeypatch.setenv(TRUST_ENV, str(tmp_path / 'other.pth'))
    with pytest.raises(UntrustedCheckpointError):
        load_checkpoint_file(str(path))
    assert not marker.exists()


def test_extra_safe_globals_admit_a_named_type(tmp_path, monkeypatch):
    path = tmp_path / 'custom.pth'
    torch.save(dict(meta=_Harmless()), path)
    name = f'{_Harmless.__module__}.{_Harmless.__qualname__}'
    with pytest.raises(UntrustedCheckpointError, match=name):
        load_checkpoint_file(str(path))
    monkeypatch.setenv(EXTRA_GLOBALS_ENV, name)
    assert isinstance(load_checkpoint_file(str(path))['meta'], _Harmless)


def test_getattr_is_limited_to_history_buffer_methods(tmp_path):
    """``builtins.getattr`` is on the list only for HistoryBuffer's
    statistics; any other attribute look-up is refused."""
    import pickle
    # getattr(numpy.ndarray, 'tofile'): a protocol-2 pickle by hand
    payload = (b'\x80\x02cbuiltins\ngetattr\ncnumpy\nndarray\n'
               b'X\x06\x00\x00\x00tofile\x86R.')
    assert pickle.loads(payload) is np.ndarray.tofile
    path = tmp_path / 'getattr.pth'
    _pickle_file(path, payload)
    with pytest.raises(UntrustedCheckpointError, match="'tofile'"):
        load_checkpoint_file(str(path))


def test_http_loader_refuses_a_malicious_download(evil, monkeypatch,
                                                  tmp_path):
    import shutil
    path, marker = evil
    monkeypatch.setattr(torch.hub, 'download_url_to_file',
                        lambda url, dst, *a, **k: shutil.copy(path, dst))
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    with pytest.raises(UntrustedCheckpointError):
        _load_checkpoint('https://example.com/model.pth', map_location='cpu')
    assert not marker.exists()


def test_truncated_file_is_corrupt_not_untrusted(tmp_path):
    path = tmp_path / 'cut.pth'
    torch.save(_runner_like_checkpoint(), path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(CorruptCheckpointError, match='cut.pth is corrupt'):
        load_checkpoint_file(str(path))


def test_trust_checkpoint_flag_sets_the_environment(tmp_path, monkeypatch):
    from hrformer_mm.datasets import generate_coco_keypoints
    from hrformer_mm.engine.launch import parse_cfg_for_test

    from e2e_utils import pose_config
    generate_coco_keypoints(str(tmp_path / 'coco'), num_train=1, num_val=1)
    cfg = pose_config(tmp_path, str(tmp_path / 'coco'))
    # unset here, and unset again after the test (the flag sets it in this
    # process: left behind, it would trust every checkpoint loaded later)
    monkeypatch.delenv(TRUST_ENV, raising=False)
    parse_cfg_for_test([cfg, 'x.pth'])
    assert TRUST_ENV not in os.environ
    parse_cfg_for_test([cfg, 'x.pth', '--trust-checkpoint'])
    assert os.environ[TRUST_ENV] == '1'
