from .checks import (check_checkpoint_matches, check_data_files,
                     load_state_dict_from_file)
from .hooks import RNGStateHook
from .launch import build_runner, parse_cfg_for_test, parse_cfg_for_train

__all__ = [
    'check_checkpoint_matches', 'check_data_files',
    'load_state_dict_from_file', 'RNGStateHook', 'build_runner',
    'parse_cfg_for_test', 'parse_cfg_for_train'
]
