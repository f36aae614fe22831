from .checks import (ConfigMismatchError, check_checkpoint_matches,
                     check_data_files, check_dataset_matches_head,
                     check_head_channels, load_state_dict_from_file)
from .dist_utils import PeerRankError
from .hooks import (DatasetModelCheckHook, NonFiniteLossError,
                    NonFiniteLossHook, RNGStateHook, SkippedImagesHook)
from .cluster import (PREEMPTED_EXIT_CODE, ResumableDefaultSampler,
                      ResumableEpochBasedTrainLoop, ResumableInfiniteSampler,
                      ResumableIterBasedTrainLoop, TrainingPreempted)
from .launch import build_runner, parse_cfg_for_test, parse_cfg_for_train

__all__ = [
    'check_checkpoint_matches', 'check_data_files',
    'load_state_dict_from_file', 'RNGStateHook', 'build_runner',
    'parse_cfg_for_test', 'parse_cfg_for_train', 'ConfigMismatchError',
    'check_dataset_matches_head', 'check_head_channels',
    'DatasetModelCheckHook', 'NonFiniteLossError', 'NonFiniteLossHook',
    'SkippedImagesHook', 'PREEMPTED_EXIT_CODE', 'PeerRankError',
    'ResumableDefaultSampler', 'ResumableEpochBasedTrainLoop',
    'ResumableInfiniteSampler', 'ResumableIterBasedTrainLoop',
    'TrainingPreempted'
]
