"""The hosts' APIs as their own documentation writes them: the API import as
a script's first line, hrformer_mm not imported, then inference with this
project's configs (which bring the package in through ``custom_imports``).

On mmcv-lite this needs the start-up finder that the install puts in place
(``hrformer_mm_mmcv_ext.pth`` -> ``_hrformer_mm_ext_finder``).  Each case
runs in a fresh interpreter (the whole point is what is imported first)."""
import glob
import os.path as osp
import textwrap

import pytest

from e2e_utils import PYTHON, ROOT, run

POSE_CFG = 'configs/pose/hrformer_demo_coco.py'
SEG_CFG = 'configs/seg/hrformer_demo_ade20k.py'
DET_CFGS = ['configs/det/hrnetv2p_w32_faster_rcnn_coco.py',
            'configs/det/hrnetv2p_demo_mask_rcnn.py']


def run_script(source: str, **kwargs):
    proc = run([PYTHON, '-c', textwrap.dedent(source)], timeout=300,
               **kwargs)
    return proc.stdout


def run_api_first(api_import: str, build: str, use: str) -> str:
    """A script whose first line is ``api_import``; it checks that
    hrformer_mm is not imported yet, runs ``build`` (which makes ``model``
    from one of this project's configs), checks the backbone is ours, runs
    ``use`` and prints OK (and what ``use`` prints)."""
    return run_script('\n'.join([
        api_import, 'import sys', 'import numpy as np',
        "assert 'hrformer_mm' not in sys.modules",
        textwrap.dedent(build),
        "assert type(model.backbone).__module__.startswith('hrformer_mm.')",
        textwrap.dedent(use), "print('OK')"]))


def test_startup_installs_the_finder_and_nothing_heavy():
    out = run_script("""
        import sys
        names = [getattr(f, '__name__', type(f).__name__)
                 for f in sys.meta_path]
        print(names)
        print(sorted(m for m in ('torch', 'numpy', 'mmcv', 'hrformer_mm',
                                 'hrformer_mm.ops_fallback')
                     if m in sys.modules))
    """).splitlines()
    finders = eval(out[0])
    assert 'MmcvExtFallbackFinder' in finders, (
        'the start-up finder is not installed: hrformer_mm_mmcv_ext.pth is '
        'missing from site-packages (bash tools/setup_env.sh reinstalls)')
    # after the finder that finds real extension modules on disk
    assert finders.index('MmcvExtFallbackFinder') > finders.index(
        'PathFinder')
    assert out[1] == '[]'


@pytest.mark.e2e
def test_pose_api_first():
    out = run_api_first(
        'from mmpose.apis import MMPoseInferencer, inference_topdown, '
        'init_model',
        f"model = init_model('{POSE_CFG}', None, device='cpu')", f"""
        img = np.random.RandomState(0).randint(0, 255, (96, 72, 3), np.uint8)
        res = inference_topdown(model, img, bboxes=np.array([[0, 0, 72, 96]]))
        assert res[0].pred_instances.keypoints.shape == (1, 17, 2)
        inferencer = MMPoseInferencer(pose2d='{POSE_CFG}',
                                      det_model='whole_image', device='cpu')
        out = next(inferencer(img))
        assert len(out['predictions'][0][0]['keypoints']) == 17
    """)
    assert out.strip().endswith('OK')


@pytest.mark.e2e
def test_seg_api_first():
    out = run_api_first(
        'from mmseg.apis import MMSegInferencer, inference_model, init_model',
        f"model = init_model('{SEG_CFG}', None, device='cpu')", f"""
        img = np.random.RandomState(0).randint(0, 255, (64, 96, 3), np.uint8)
        res = inference_model(model, img)
        assert res.pred_sem_seg.data.shape == (1, 64, 96)
        inferencer = MMSegInferencer(model='{SEG_CFG}', device='cpu')
        assert inferencer(img)['predictions'].shape == (64, 96)
    """)
    assert out.strip().endswith('OK')


@pytest.mark.e2e
@pytest.mark.parametrize('config', DET_CFGS)
def test_det_api_first(config):
    if not osp.isfile(osp.join(ROOT, config)):
        pytest.skip(f'{config} is not in this checkout')
    # init_cfg=None: the W32 config's backbone points at an open-mmlab:// URL
    # (no download here; init_detector builds without init anyway)
    out = run_api_first(
        'from mmdet.apis import inference_detector, init_detector', f"""
        ext = sys.modules['mmcv._ext']
        calls = []
        if getattr(ext, 'is_placeholder', False):
            for name in ('nms', 'roi_align_forward'):
                def counted(*args, _op=getattr(ext, name), _name=name,
                            **kwargs):
                    calls.append(_name)
                    return _op(*args, **kwargs)
                setattr(ext, name, counted)
        model = init_detector('{config}', None, device='cpu', cfg_options={{
            'model.backbone.init_cfg': None,
            'test_dataloader.dataset.pipeline.1.scale': (192, 160)}})
    """, """
        img = np.random.RandomState(0).randint(0, 255, (120, 160, 3),
                                               np.uint8)
        res = inference_detector(model, img)
        boxes = res.pred_instances.bboxes
        assert boxes.ndim == 2 and boxes.shape[1] == 4
        assert len(res.pred_instances.scores) == len(boxes)
        if getattr(ext, 'is_placeholder', False):
            assert {'nms', 'roi_align_forward'} <= set(calls), calls
        print(len(boxes), sorted(set(calls)))
    """)
    assert out.strip().endswith('OK')


@pytest.mark.e2e
def test_finder_stays_out_of_the_way_of_a_real_extension(tmp_path):
    """A real ``mmcv/_ext*.so`` is found by the ordinary path finder before
    ours is asked; a fake ``_ext.py`` first on mmcv's path stands in for
    it."""
    fake = tmp_path / '_ext.py'
    fake.write_text(textwrap.dedent("""
        REAL = True
        def __getattr__(name):
            if name.startswith('__'):
                raise AttributeError(name)
            def op(*args, **kwargs):
                raise RuntimeError('compiled ' + name)
            return op
    """))
    out = run_script(f"""
        import sys
        import mmcv
        mmcv.__path__.insert(0, {str(tmp_path)!r})
        from mmdet.apis import init_detector
        import mmcv._ext
        import torch
        from mmcv.ops import nms
        assert mmcv._ext.__file__ == {str(fake)!r}, mmcv._ext
        assert 'hrformer_mm.ops_fallback' not in sys.modules
        try:
            nms(torch.rand(3, 4), torch.rand(3), 0.5)
        except RuntimeError as e:
            assert str(e) == 'compiled nms', e
        else:
            raise AssertionError('nms did not reach the real extension')
        import hrformer_mm
        assert hrformer_mm.compat.install_mmcv_ops_placeholder() is False
        assert sys.modules['mmcv._ext'].REAL
        print('OK')
    """)
    assert out.strip().endswith('OK')


@pytest.mark.slow
def test_every_project_config_imports_the_package():
    """The host APIs build a config's model with the host's registry only
    after ``custom_imports`` has imported hrformer_mm."""
    from mmengine.config import Config
    configs = sorted(
        p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                             recursive=True)
        if '_base_' not in osp.relpath(p, ROOT).split(osp.sep))
    assert len(configs) > 40
    missing = []
    for path in configs:
        cfg = Config.fromfile(path, import_custom_modules=False,
                              format_python_code=False)
        if 'hrformer_mm' not in cfg.get('custom_imports', {}).get(
                'imports', []):
            missing.append(osp.relpath(path, ROOT))
    assert not missing
