"""The number of dataloader workers does not change what a run learns:
each sample's augmentation is drawn from its own seed, whichever process
draws it, and the main process's random streams (drop path, dropout) are
not advanced by the pipeline or by starting the workers.  One process,
drop path on: the iteration-based seg demo config (random resize, crop,
flip, photometric distortion) and the epoch-based pose demo config (random
flip, half-body, box transform; ``num_workers=0`` starts an iterator each
epoch, persistent workers one per run)."""
import pytest

from cluster_utils import assert_same_training_state
from e2e_utils import PYTHON, ade_data, coco_data, pose_config, run, \
    seg_config

pytestmark = pytest.mark.cluster


def _train(cfg, work, workers: int, last: str):
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(work),
         '--cfg-options', 'model.backbone.drop_path_rate=0.2',
         f'train_dataloader.num_workers={workers}',
         f'train_dataloader.persistent_workers={workers > 0}'])
    return work / last


def test_num_workers_0_and_2_end_with_the_same_weights(tmp_path_factory,
                                                        tmp_path):
    cfg = seg_config(tmp_path, ade_data(tmp_path_factory, num_val=1),
                     iters=6)
    assert_same_training_state(_train(cfg, tmp_path / 'w0', 0, 'iter_6.pth'),
                               _train(cfg, tmp_path / 'w2', 2, 'iter_6.pth'))


def test_num_workers_0_and_2_end_with_the_same_weights_epoch_based(
        tmp_path_factory, tmp_path):
    # 13 people, batch 4: 4 iterations an epoch
    cfg = pose_config(tmp_path, coco_data(tmp_path_factory, num_val=1),
                      drop_path=0.2, epochs=2)
    assert_same_training_state(_train(cfg, tmp_path / 'w0', 0, 'epoch_2.pth'),
                               _train(cfg, tmp_path / 'w2', 2, 'epoch_2.pth'))
