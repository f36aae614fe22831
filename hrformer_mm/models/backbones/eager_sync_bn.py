"""SyncBN inside regionally compiled blocks.

With more than one rank, a training-mode ``nn.SyncBatchNorm`` gathers every
rank's statistics with a collective and then drops the ranks that saw no
data by boolean-mask indexing, whose result shape depends on the gathered
values; under CUDA-graph capture torch takes another branch again.  None of
that belongs in a compiled graph: the compiler would split torch's SyncBN
code at arbitrary points, compiling fragments of it with the collective
inside.  :class:`EagerSyncBatchNorm` runs exactly that synchronising call
eagerly, with torch's own kernels, between the compiled pieces of a block;
in evaluation and in single-rank runs (nothing to synchronise) it is a plain
batch norm inside the graph.
"""
import torch
import torch.distributed as dist
import torch.nn as nn

__all__ = ['EagerSyncBatchNorm', 'keep_sync_batchnorm_eager']


def _synchronises(process_group) -> bool:
    """Whether a training-mode SyncBN of ``process_group`` (None: the
    default group) runs a collective now."""
    if not (dist.is_available() and dist.is_initialized()):
        return False
    return dist.get_world_size(process_group or dist.group.WORLD) > 1


@torch.compiler.disable
def _synchronised_forward(module: nn.SyncBatchNorm,
                          x: torch.Tensor) -> torch.Tensor:
    return nn.SyncBatchNorm.forward(module, x)


class EagerSyncBatchNorm(nn.SyncBatchNorm):
    """``nn.SyncBatchNorm`` whose synchronising forward (training, more
    than one rank) always runs eagerly, also when called from a compiled
    region; otherwise the same module (state-dict keys, buffers, numerics).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and _synchronises(self.process_group):
            return _synchronised_forward(self, x)
        return super().forward(x)


def keep_sync_batchnorm_eager(root: nn.Module) -> int:
    """Turn every SyncBN under ``root`` into :class:`EagerSyncBatchNorm` in
    place (a class swap, as ``torch.nn.utils.parametrize`` does: same
    parameters, buffers, hooks and flags); returns how many.

    Only SyncBN classes that keep torch's forward are swapped (torch's, and
    mmengine's, which changes the input check alone); a subclass with a
    forward of its own would lose it, so it is refused by name.
    """
    swapped = 0
    for name, m in root.named_modules():
        if not isinstance(m, nn.SyncBatchNorm) or \
                isinstance(m, EagerSyncBatchNorm):
            continue
        if type(m).forward is not nn.SyncBatchNorm.forward:
            raise TypeError(
                f'{name}: {type(m).__qualname__} is a SyncBatchNorm subclass '
                f'with a forward of its own, which compiled blocks cannot '
                f'keep out of their graphs; use SyncBN or BN in the blocks, '
                f'or compile_cfg=None')
        m.__class__ = EagerSyncBatchNorm
        swapped += 1
    return swapped
