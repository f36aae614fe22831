# HRNet / OCR segmentation recipe as in mmseg: SGD lr 0.01, momentum 0.9,
# weight decay 5e-4, poly (power 0.9) to 1e-4 over 160k iterations; with
# the segmentation runtime.
_base_ = ['../seg_runtime.py']
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005),
    clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=160000,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=160000,
                 val_interval=16000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
