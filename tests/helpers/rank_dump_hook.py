"""Test helper: every rank saves its final weights, so a test can check that
distributed training kept the replicas identical."""
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):

    def after_run(self, runner):
        rank = dist.get_rank() if dist.is_initialized() else 0
        world = dist.get_world_size() if dist.is_initialized() else 1
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        torch.save(dict(world_size=world, state_dict=model.state_dict()),
                   osp.join(runner.work_dir, f'rank{rank}_weights.pth'))
