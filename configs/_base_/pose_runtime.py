# Runtime shared by every pose config: mmpose scope, hooks, logging.
custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
default_scope = 'mmpose'
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, save_best='coco/AP',
                    rule='greater', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='PoseVisualizationHook', enable=False))
# Keep BN statistics identical on every rank at the end of each epoch.
custom_hooks = [
    dict(type='SyncBuffersHook'),
    # Resume reproduces an uninterrupted run exactly (drop path included).
    dict(type='hrformer_mm.RNGStateHook'),
]
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='PoseLocalVisualizer', vis_backends=vis_backends,
                  name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True,
                     num_digits=6)
log_level = 'INFO'
load_from = None
resume = False
backend_args = dict(backend='local')
