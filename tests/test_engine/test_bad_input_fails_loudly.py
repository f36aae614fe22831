"""Bad input fails early and loudly, with a message that names the problem:
missing data files, configs and checkpoints, checkpoints of another model,
heads that do not fit the backbone or the dataset, undecodable images,
non-finite losses, interrupted checkpoint writes: each stops the run
early, naming the config keys, numbers and files involved, where the hosts
would fail late or silently."""
import os
import os.path as osp
import types

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from hrformer_mm.datasets import generate_coco_keypoints
from hrformer_mm.engine import check_checkpoint_matches
from hrformer_mm.engine.checks import (CheckpointMismatchError,
                                       ConfigMismatchError,
                                       DataFileNotFoundError,
                                       check_dataset_matches_head,
                                       check_head_channels, feature_channels)
from hrformer_mm.engine.hooks import NonFiniteLossError, NonFiniteLossHook
from hrformer_mm.engine.launch import (apply_bad_image_policy,
                                       build_model_from_config,
                                       latest_readable_checkpoint,
                                       parse_cfg_for_test,
                                       parse_cfg_for_train)
from hrformer_mm.models.backbones import HRFormer

from e2e_utils import (MICRO_ARCH, PYTHON, ROOT, head_check_message,
                       pose_config, run)

POSE_CFG = osp.join(ROOT, 'configs/pose/hrformer_s_coco.py')


# -- missing data files and configs ------------------------------------------
def test_missing_annotation_file_is_named_before_training(tmp_path):
    with pytest.raises(DataFileNotFoundError) as err:
        parse_cfg_for_train([POSE_CFG, '--work-dir', str(tmp_path),
                             '--cfg-options',
                             f'train_dataloader.dataset.data_root={tmp_path}/'])
    msg = str(err.value)
    assert f'{tmp_path}/annotations/person_keypoints_train2017.json' in msg
    assert 'train_dataloader.dataset.ann_file' in msg
    assert 'generate_demo_data.py' in msg


@pytest.mark.e2e
def test_missing_test_files_are_named_by_test_py(tmp_path):
    proc = run([PYTHON, 'tools/test.py', POSE_CFG, 'none.pth',
                '--work-dir', str(tmp_path)], check=False)
    assert proc.returncode != 0
    assert 'DataFileNotFoundError' in proc.stderr
    assert 'data/coco/annotations/person_keypoints_val2017.json' in \
        proc.stderr


def test_missing_config_is_named():
    with pytest.raises(FileNotFoundError, match='configs/nope.py'):
        parse_cfg_for_test(['configs/nope.py', 'x.pth'])


def test_amp_without_gpu_says_so(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(RuntimeError, match='--amp needs a GPU'):
        parse_cfg_for_train([POSE_CFG, '--amp'])


# -- checkpoints of another model --------------------------------------------
def test_checkpoint_of_another_variant_is_rejected(tmp_path):
    base = HRFormer('base', out_indices=(0, ))
    path = tmp_path / 'hrformer_b.pth'
    torch.save(dict(state_dict=base.state_dict()), path)
    with pytest.raises(CheckpointMismatchError,
                       match='other shapes') as err:
        check_checkpoint_matches(HRFormer('small', out_indices=(0, )),
                                 str(path))
    msg = str(err.value)
    assert 'conv1.weight' not in msg  # the stem matches, the streams don't
    assert 'checkpoint (78,) vs model (32,)' in msg  # B's vs S's width
    assert '... and' in msg  # long lists are cut


def test_checkpoint_of_another_model_entirely_is_rejected(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save(dict(state_dict={'fc.weight': torch.zeros(2, 2)}), path)
    with pytest.raises(CheckpointMismatchError, match='are missing'):
        check_checkpoint_matches(HRFormer('tiny'), str(path))


def test_matching_checkpoint_passes_also_as_ddp_saves_it(tmp_path):
    """No false alarm on the model's own checkpoint, nor on one saved from
    a DistributedDataParallel wrapper (``module.`` in front of each key)."""
    m = HRFormer('tiny')
    path = tmp_path / 'ok.pth'
    torch.save(dict(state_dict=m.state_dict(), meta={}), path)
    check_checkpoint_matches(m, str(path))
    ddp = tmp_path / 'ddp.pth'
    torch.save(dict(state_dict={f'module.{k}': v
                                for k, v in m.state_dict().items()}), ddp)
    check_checkpoint_matches(m, str(ddp))


def test_truncated_checkpoint_is_called_corrupt(tmp_path):
    m = HRFormer('tiny')
    path = tmp_path / 'cut.pth'
    torch.save(dict(state_dict=m.state_dict()), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointMismatchError, match='corrupt'):
        check_checkpoint_matches(m, str(path))


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        check_checkpoint_matches(HRFormer('tiny'), str(tmp_path / 'nope.pth'))


def test_bare_backbone_checkpoint_as_load_from_gets_a_hint(tmp_path):
    model = nn.Module()
    model.backbone = HRFormer('tiny')
    path = tmp_path / 'imagenet.pth'
    torch.save(dict(state_dict=HRFormer('tiny').state_dict()), path)
    with pytest.raises(CheckpointMismatchError, match="type='Pretrained'"):
        check_checkpoint_matches(model, str(path))


def _pose_cfg(**head):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pose/hrformer_demo_coco.py'))
    cfg.model.backbone.arch = eval(MICRO_ARCH.replace('_delete_=True, ', ''))
    cfg.model.head.update(dict(dict(in_channels=8), **head))
    return cfg


def _seg_cfg(in_channels):
    cfg = Config.fromfile(osp.join(ROOT,
                                   'configs/seg/hrformer_demo_ade20k.py'))
    cfg.model.backbone.arch = eval(MICRO_ARCH.replace('_delete_=True, ', ''))
    for head in cfg.model.decode_head:
        head.in_channels = in_channels
    return cfg


# -- head vs backbone --------------------------------------------------------
def test_pose_head_in_channels_mismatch_names_both_numbers_and_keys():
    cfg, model = build_model_from_config(_pose_cfg(in_channels=32))
    msg = head_check_message(cfg, model, ConfigMismatchError)
    assert 'model.head.in_channels=32' in msg
    assert 'expects 32 channels at feature map -1' in msg
    assert 'HRFormer) puts out 8 there' in msg  # the micro arch's stream 1


def test_matching_pose_head_passes():
    cfg, model = build_model_from_config(_pose_cfg())
    # the micro arch's stream 1, read by the head
    assert feature_channels(model)[-1] == cfg.model.head.in_channels == 8
    check_head_channels(cfg.model, model)


def test_seg_head_in_channels_mismatch_names_the_feature_map():
    cfg, model = build_model_from_config(_seg_cfg([8, 16, 32, 48]))
    msg = head_check_message(cfg, model, ConfigMismatchError)
    assert 'model.decode_head[0].in_channels=[8, 16, 32, 48]' in msg
    assert 'expects 48 channels at feature map 3' in msg
    assert 'puts out 64 there' in msg


# -- dataset vs head ---------------------------------------------------------
def test_keypoint_count_mismatch_is_named():
    _, model = build_model_from_config(_pose_cfg())
    with pytest.raises(ConfigMismatchError) as err:
        check_dataset_matches_head(model, dict(num_keypoints=14),
                                   'train_dataloader.dataset')
    assert 'model.head.out_channels=17 but train_dataloader.dataset has ' \
        '14 keypoints' in str(err.value)
    check_dataset_matches_head(model, dict(num_keypoints=17), 'x')


def test_class_count_mismatch_is_named():
    _, model = build_model_from_config(_seg_cfg([8, 16, 32, 64]))
    with pytest.raises(ConfigMismatchError) as err:
        check_dataset_matches_head(model, dict(classes=('a', 'b', 'c')),
                                   'val_dataloader.dataset')
    msg = str(err.value)
    assert 'model.decode_head[1].num_classes=150 but ' \
        'val_dataloader.dataset has 3 classes' in msg


# -- undecodable images ------------------------------------------------------
@pytest.fixture
def broken_image(tmp_path):
    path = tmp_path / 'broken.jpg'
    path.write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    return str(path)


def _guard(on_error):
    from hrformer_mm.datasets.transforms import GuardedLoadImage
    return GuardedLoadImage(dict(type='mmcv.LoadImageFromFile'),
                            on_error=on_error)


def test_undecodable_image_stops_the_run_naming_the_file(broken_image):
    from hrformer_mm.datasets.transforms import ImageDecodeError
    with pytest.raises(ImageDecodeError) as err:
        _guard('raise')(dict(img_path=broken_image))
    assert broken_image in str(err.value)
    assert "bad_images = 'skip'" in str(err.value)


def test_undecodable_image_is_skipped_with_a_warning_and_counted(
        broken_image, tmp_path):
    from hrformer_mm.datasets.transforms import skipped_images
    before = skipped_images()
    with pytest.warns(UserWarning, match='skipping undecodable image .*'
                      'broken.jpg'):
        assert _guard('skip')(dict(img_path=broken_image)) is None
    assert skipped_images() == before + 1
    good = tmp_path / 'good.png'
    cv2.imwrite(str(good), np.zeros((5, 7, 3), np.uint8))
    assert _guard('skip')(dict(img_path=str(good)))['img'].shape == (5, 7, 3)


def test_bad_images_option_wraps_every_loader():
    cfg = _pose_cfg()
    cfg.bad_images = 'skip'
    apply_bad_image_policy(cfg)
    train = cfg.train_dataloader.dataset.pipeline[0]
    val = cfg.val_dataloader.dataset.pipeline[0]
    assert train['type'] == val['type'] == 'hrformer_mm.GuardedLoadImage'
    assert train['load']['type'] == 'LoadImage'
    # only training can drop a sample; evaluation must see every image
    assert (train['on_error'], val['on_error']) == ('skip', 'raise')
    assert cfg.custom_hooks[-1]['type'] == 'hrformer_mm.SkippedImagesHook'


# -- non-finite loss ---------------------------------------------------------
def test_nan_loss_stops_naming_iteration_and_last_checkpoint(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    runner = types.SimpleNamespace(iter=41, epoch=3, work_dir=str(tmp_path))
    hook = NonFiniteLossHook()
    hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(0.5)))
    with pytest.raises(NonFiniteLossError) as err:
        hook.after_train_iter(runner, 0, outputs=dict(
            loss=torch.tensor(float('nan')), acc_pose=torch.tensor(0.1)))
    msg = str(err.value)
    assert 'iteration 42' in msg and 'loss=nan' in msg
    assert f'last good checkpoint is {tmp_path}/epoch_3.pth' in msg


def test_inf_loss_before_any_checkpoint_says_none_saved(tmp_path):
    runner = types.SimpleNamespace(iter=0, epoch=0, work_dir=str(tmp_path))
    with pytest.raises(NonFiniteLossError, match='none \\(nothing saved'):
        NonFiniteLossHook().after_train_iter(
            runner, 0, outputs={'decode.loss_ce': torch.tensor(float('inf'))})


def test_non_finite_check_reads_the_losses_runtime_info_copied_to_host(
        tmp_path):
    """mmengine's RuntimeInfoHook (same priority, registered first) has
    already copied each loss to the host: the check uses that copy instead
    of reading the device tensor again (a second synchronisation per
    iteration on a GPU)."""
    from mmengine.logging import MessageHub
    hub = MessageHub(f'nonfinite-{tmp_path.name}')
    runner = types.SimpleNamespace(iter=7, epoch=0, work_dir=str(tmp_path),
                                   message_hub=hub)
    hub.update_scalar('train/loss', float('inf'))
    with pytest.raises(NonFiniteLossError, match='loss=inf'):
        NonFiniteLossHook().after_train_iter(
            runner, 0, outputs=dict(loss=torch.tensor(0.5)))
    hub.update_scalar('train/loss', 0.5)
    NonFiniteLossHook().after_train_iter(
        runner, 0, outputs=dict(loss=torch.tensor(float('nan'))))


# -- checkpoint writes and auto-resume ---------------------------------------
def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import save_checkpoint
    path = tmp_path / 'epoch_1.pth'
    save_checkpoint(dict(w=torch.ones(2)), str(path))
    good = path.read_bytes()

    def crash(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(OSError, match='disk full'):
        save_checkpoint(dict(w=torch.zeros(1000)), str(path))
    assert path.read_bytes() == good  # the old file, whole
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no temp file left


def test_auto_resume_skips_an_unreadable_latest_checkpoint(tmp_path,
                                                           capsys):
    from mmengine.logging import MMLogger
    MMLogger.get_instance('hrformer_mm_test')  # print_log needs a logger
    torch.save(dict(state_dict=dict(w=torch.ones(1))),
               tmp_path / 'epoch_1.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(1000))),
               tmp_path / 'epoch_2.pth')
    cut = tmp_path / 'epoch_2.pth'
    cut.write_bytes(cut.read_bytes()[:3000])
    (tmp_path / 'last_checkpoint').write_text(str(cut))
    assert latest_readable_checkpoint(str(tmp_path)) == \
        str(tmp_path / 'epoch_1.pth')
    out = capsys.readouterr()
    assert f'skipping unreadable checkpoint {cut}' in out.out + out.err


def test_resume_flag_uses_the_newest_complete_checkpoint(tmp_path):
    generate_coco_keypoints(str(tmp_path / 'coco'), num_train=1, num_val=1)
    cfg = pose_config(tmp_path, str(tmp_path / 'coco'))
    work = tmp_path / 'work'
    work.mkdir()
    cut = work / 'epoch_2.pth'
    torch.save(dict(w=torch.ones(1000)), cut)
    cut.write_bytes(cut.read_bytes()[:3000])
    (work / 'last_checkpoint').write_text(str(cut))
    args = [cfg, '--work-dir', str(work), '--resume']
    resumed = parse_cfg_for_train(args)
    assert (resumed.resume, resumed.load_from) == (False, None)
    torch.save(dict(w=torch.ones(1)), work / 'epoch_1.pth')
    resumed = parse_cfg_for_train(args)
    assert (resumed.resume, resumed.load_from) == (True,
                                                   str(work / 'epoch_1.pth'))
