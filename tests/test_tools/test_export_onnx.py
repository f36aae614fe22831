"""tools/deploy/export_onnx.py (over hrformer_mm.deploy): a pose and a
segmentation model exported to ONNX compute, under onnxruntime, what
PyTorch computes, at any batch."""
import pytest

from hrformer_mm.deploy import export

from e2e_utils import load_tool, pose_config, seg_config

onnx = pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')


@pytest.fixture(scope='module')
def tool():
    return load_tool('deploy/export_onnx.py')


def _batch_is_dynamic(path):
    dim = onnx.load(path).graph.input[0].type.tensor_type.shape.dim[0]
    return dim.dim_param == 'batch' and not dim.dim_value


@pytest.mark.parametrize('task', ['pose', 'seg'])
@pytest.mark.slow
def test_exported_model_matches_pytorch_at_two_batch_sizes(tool, tmp_path,
                                                           task):
    make = pose_config if task == 'pose' else seg_config
    config = make(tmp_path, str(tmp_path / 'no_data'))
    out = str(tmp_path / f'{task}.onnx')
    # 40 x 56 is not a multiple of 7 * 4: padded windows are exported too
    result = tool.main([config, 'none', '--out', out, '--shape', '64', '56',
                        '--batch', '1'])
    assert result['fused']
    assert result['max_abs_diff'] < 1e-4
    assert _batch_is_dynamic(out)


def test_export_keeps_the_wrapped_model_in_eval_mode(tmp_path):
    """The pose export once differed by O(1) from PyTorch: torch.onnx.export
    restores the exported wrapper's mode recursively, and a wrapper built in
    training mode switched the model to batch-statistics BatchNorm before
    the PyTorch reference ran."""
    import torch
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3),
                                torch.nn.BatchNorm2d(4)).eval()
    model._forward = model.forward
    export(model, str(tmp_path / 'm.onnx'), (8, 8), 1, 17)
    assert not model.training and not model[1].training


def test_backbone_exported_alone_matches_pytorch(tmp_path):
    """The backbone itself, padded windows included, exports correctly."""
    import torch
    from hrformer_mm.models.backbones import HRFormer
    torch.manual_seed(0)
    m = HRFormer(dict(channels=(8, 16, 32, 64), num_heads=(1, 1, 2, 2),
                      num_modules=(1, 1, 1), num_blocks=1),
                 out_indices=(0, )).eval()
    x = torch.randn(1, 3, 64, 56)
    path = str(tmp_path / 'backbone.onnx')
    torch.onnx.export(m, (x, ), path, opset_version=17, dynamo=False)
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    with torch.no_grad():
        expected = m(x)[0].numpy()
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    assert abs(got - expected).max() < 1e-4
