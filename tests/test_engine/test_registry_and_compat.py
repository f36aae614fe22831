"""Importing hrformer_mm registers our modules without shadowing the hosts'
and applies the environment fixes."""
import sys

import pytest
import torch

import hrformer_mm
from hrformer_mm.models.backbones import HRFormer


def test_scoped_name_resolves_from_both_hosts():
    from mmpose.registry import MODELS as POSE
    from mmseg.registry import MODELS as SEG
    assert POSE.get('hrformer_mm.HRFormer') is HRFormer
    assert SEG.get('hrformer_mm.HRFormer') is HRFormer


def test_mmpose_keeps_its_own_hrformer():
    from mmpose.models.backbones import HRFormer as MMPoseHRFormer
    from mmpose.registry import MODELS as POSE
    assert POSE.get('HRFormer') is MMPoseHRFormer
    # every host ships an HRNet: ours is hrformer_mm.HRNet
    assert hrformer_mm.SHADOWED_BY_HOST['mmpose'] == ['HRFormer', 'HRNet']


def test_bare_name_registered_where_free():
    from mmseg.registry import MODELS as SEG
    assert SEG.get('HRFormer') is HRFormer
    assert hrformer_mm.SHADOWED_BY_HOST['mmseg'] == ['HRNet']


def test_register_into_hosts_is_idempotent():
    assert hrformer_mm.register_into_hosts() == hrformer_mm.SHADOWED_BY_HOST


def test_missing_compiled_op_raises_naming_the_op():
    ext = sys.modules.get('mmcv._ext')
    if not getattr(ext, 'is_placeholder', False):
        pytest.skip('full mmcv with compiled ops is installed')
    # nms and roi_align are served by torchvision (tests/test_models/test_mmcv_ops.py)
    from mmcv.ops import soft_nms
    from hrformer_mm.compat import MissingCompiledOpError
    with pytest.raises(MissingCompiledOpError, match='"softnms"'):
        soft_nms(torch.rand(3, 4), torch.rand(3))


def test_find_spec_of_placeholder_works():
    """mmpose's init_model calls importlib.util.find_spec('mmcv._ext')."""
    import importlib.util
    spec = importlib.util.find_spec('mmcv._ext')  # ValueError without one
    assert spec.name == 'mmcv._ext'
    assert spec is sys.modules['mmcv._ext'].__spec__


def test_mmengine_loads_checkpoints_written_by_the_runner(tmp_path):
    """torch>=2.6 defaults to weights_only=True, which rejects the message hub
    and numpy objects mmengine stores; our loader accepts them."""
    import numpy as np
    from mmengine.runner.checkpoint import _load_checkpoint
    path = tmp_path / 'c.pth'
    torch.save(dict(meta=dict(seed=np.int64(3), hist=np.zeros(2)),
                    state_dict=dict(w=torch.ones(1))), path)
    ckpt = _load_checkpoint(str(path), map_location='cpu')
    assert ckpt['meta']['seed'] == 3


def test_corrupt_checkpoint_error_names_the_file(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    path = tmp_path / 'broken.pth'
    path.write_bytes(b'not a checkpoint')
    with pytest.raises(RuntimeError, match='broken.pth is corrupt'):
        _load_checkpoint(str(path), map_location='cpu')


def test_mmpose_visualizer_accepts_keypoint_lists_on_numpy2():
    import numpy as np
    from mmpose.visualization import local_visualizer
    kpts = [[1, 2], [3, 4]]  # needs a copy: np.array(copy=False) would fail
    out = local_visualizer.np.array(kpts, copy=False)
    assert isinstance(out, np.ndarray) and out.tolist() == kpts


def test_mmpose_visualizer_draws_keypoints_on_numpy2(tmp_path):
    """mmpose passes radius=np.array([r]) to int(): NumPy 2 raises unless
    the compat patch is in place."""
    import numpy as np
    from mmengine.structures import InstanceData
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.structures import PoseDataSample
    from mmpose.visualization import PoseLocalVisualizer
    vis = PoseLocalVisualizer(name='compat_test', radius=3)
    vis.set_dataset_meta(parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/coco.py')))
    pred = InstanceData()
    pred.keypoints = np.full((1, 17, 2), 40, np.float32)
    pred.keypoint_scores = np.ones((1, 17), np.float32)
    sample = PoseDataSample(pred_instances=pred)
    img = np.zeros((80, 80, 3), np.uint8)
    out = tmp_path / 'kpts.png'
    vis.add_datasample('x', img, sample, draw_gt=False, out_file=str(out))
    import cv2
    drawn = cv2.imread(str(out))
    assert drawn.shape == img.shape
    # the keypoint (a filled circle of radius 3 at 40, 40) is drawn there
    assert drawn[38:43, 38:43].any(-1).all()
    assert not drawn[:20, :20].any()  # and nothing far from it


def test_neck_reaches_all_three_hosts():
    from mmdet.registry import MODELS as DET
    from mmpose.registry import MODELS as POSE
    from mmseg.registry import MODELS as SEG

    from hrformer_mm.models.necks import HRNetV2Neck
    for registry in (POSE, SEG, DET):
        assert registry.get('HRNetV2Neck') is HRNetV2Neck
    assert hrformer_mm.SHADOWED_BY_HOST['mmdet'] == ['HRNet']
