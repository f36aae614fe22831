"""tools/analysis/iteration_time.py splits a tools/train.py iteration into
the bare step, the data loading and each hook's share."""
import json
import time

import pytest

from hrformer_mm.datasets import generate_coco_keypoints

from e2e_utils import load_tool, pose_config


#: seconds one hook is made to take per iteration: well above what a shared
#: machine's load adds to the micro step's median, so that the runner's
#: iteration is longer than the bare step whatever the load
HOOK_S = 1.0


@pytest.mark.slow
def test_reports_runner_step_data_and_hook_times(tmp_path, capsys,
                                                 monkeypatch):
    # one hook made slow by a known amount: the runner's iterations hold
    # it, the bare step does not
    from hrformer_mm.engine.hooks import RNGStateHook
    after = RNGStateHook.after_train_iter

    def slow(self, *args, **kwargs):
        time.sleep(HOOK_S)
        return after(self, *args, **kwargs)

    monkeypatch.setattr(RNGStateHook, 'after_train_iter', slow)
    root = tmp_path / 'coco'
    generate_coco_keypoints(str(root), num_train=16, num_val=4, seed=1)
    cfg = pose_config(tmp_path, str(root), epochs=3)
    tool = load_tool('analysis/iteration_time.py')
    result = tool.main([cfg, '--iters', '3', '--warmup', '1',
                        '--work-dir', str(tmp_path / 'work')])
    out = capsys.readouterr().out
    assert json.loads(out[out.rindex('{\n "config"'):]) == result
    assert result['batch_size'] == 4 and result['iters'] == 3
    for key in ('runner_s', 'step_s', 'data_s'):
        assert result[key] > 0, key
    # each timed iteration ran the slow hook once
    assert result['hooks_s']['RNGStateHook'] >= HOOK_S
    assert result['runner_s'] >= HOOK_S
    assert result['runner_s'] > result['step_s']
    assert result['runner_over_step'] > 1
    # mmengine's hooks and this project's, each timed
    for hook in ('LoggerHook', 'RuntimeInfoHook', 'NonFiniteLossHook',
                 'RNGStateHook'):
        assert hook in result['hooks_s'], hook
    # nothing was trained to the end: no checkpoint written
    assert not list((tmp_path / 'work').glob('*.pth'))


@pytest.mark.slow
def test_too_short_a_run_is_named(tmp_path):
    root = tmp_path / 'coco'
    generate_coco_keypoints(str(root), num_train=4, num_val=4, seed=1)
    cfg = pose_config(tmp_path, str(root), epochs=1)
    tool = load_tool('analysis/iteration_time.py')
    with pytest.raises(SystemExit, match='fewer than --warmup'):
        tool.main([cfg, '--iters', '5', '--warmup', '1',
                   '--work-dir', str(tmp_path / 'work')])
