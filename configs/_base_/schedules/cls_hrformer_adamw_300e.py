# The reference HRFormer cls/ recipe (Swin's training code: cls/config.py,
# run_dist.sh), which is mmpretrain's Swin schedule: AdamW, base lr 5e-4
# per 512 images (1e-3 at its 8 x 128), weight decay 0.05, 20 warm-up
# epochs from 5e-7 per 512, cosine to 5e-6 per 512 over 300 epochs,
# gradient norm clipped at 5.  What differs from mmpretrain's Swin
# schedule: the reference exempts only 1-D parameters and biases from
# weight decay (build_optimizer; HRFormer has no no_weight_decay list), so
# its relative position bias tables decay.
_base_ = 'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py'
optim_wrapper = dict(
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0,
                       bias_decay_mult=0.0, flat_decay_mult=0.0))
