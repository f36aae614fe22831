"""hrformer_mm.inference.PersonDetector's class names: the checkpoint's
when it saved them, else the config's (never mmdet's COCO fallback)."""
import pytest
import torch

from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.inference import PersonDetector

from e2e_utils import det_demo_config

DEMO_CLASSES = ('person', 'car', 'sports ball')


@pytest.fixture(scope='module')
def det_setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('person_detector')
    cfg = det_demo_config(tmp, str(tmp / 'coco_det'))
    torch.manual_seed(0)
    _, model = build_model_from_config(cfg)
    return cfg, model.state_dict(), tmp


@pytest.mark.parametrize('meta,classes', [
    (dict(seed=0), DEMO_CLASSES),
    (dict(dataset_meta=dict(classes=('a', 'b'))), ('a', 'b')),
    (dict(CLASSES=('c', )), ('c', )),
])
def test_class_names_come_from_the_checkpoint_or_the_config(
        det_setup, meta, classes):
    cfg, state_dict, tmp = det_setup
    path = tmp / 'det.pth'
    torch.save(dict(state_dict=state_dict, meta=meta), path)
    det = PersonDetector(cfg, str(path), 'cpu')
    assert tuple(det.model.dataset_meta['classes']) == classes
    # the weights are the checkpoint's
    key = next(iter(state_dict))
    assert torch.equal(det.model.state_dict()[key], state_dict[key])
