# HRFormer-B, COCO top-down, 256x192, with the GPU fast path switched on
# from the config (same model, same weights and checkpoints as
# hrformer_b_coco.py; see docs/benchmarks.md, "GPU"):
#   * backbone.compile_cfg: every transformer block compiled on its own
#     (torch.compile, inductor); the blocks of one stream share their
#     compiled graphs, so compiling stays short.  With several GPUs the
#     FFN's SyncBN layers synchronise eagerly between the compiled pieces
#     of a block (docs/benchmarks.md).  dict(mode='reduce-overhead') adds
#     CUDA graphs;
#   * model.train_cfg.compute_acc=False: mmpose's heatmap head otherwise
#     copies the heatmaps to the host and computes a PCK accuracy in numpy
#     every iteration, for the log only;
#   * batches copied to the GPU from pinned memory without blocking.
# Train with --amp (fp16 loss scaling; for bf16 add
# --cfg-options optim_wrapper.dtype=bfloat16).  Measure what the loop adds
# around the step with tools/analysis/iteration_time.py.
_base_ = ['./hrformer_b_coco.py']
model = dict(
    backbone=dict(compile_cfg=dict()),
    data_preprocessor=dict(non_blocking=True),
    train_cfg=dict(compute_acc=False))
train_dataloader = dict(pin_memory=True)
