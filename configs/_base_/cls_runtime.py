# Runtime shared by every ImageNet classification config: mmpretrain's own
# (scope, hooks, logging, checkpoint every epoch keeping the best top-1 is
# left to the user), plus our package.
_base_ = 'mmpretrain::_base_/default_runtime.py'
custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='accuracy/top1', rule='greater'))
