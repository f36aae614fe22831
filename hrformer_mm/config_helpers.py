"""Functions that config files call to spell out list-valued settings.

mmengine replaces (rather than merges) lists on config inheritance, and
mmseg's ``CascadeEncoderDecoder`` takes its heads as a list, so a config that
changes the backbone width or the number of classes would otherwise repeat
the whole head definition.  Configs import these; the results are plain
dicts in the dumped config.
"""
from typing import List, Optional, Sequence, Union


#: Head details that differ between the reference HRFormer segmentation
#: release (``seg/lib/models/nets/hrt.py``, ``HRT_{SMALL,BASE}_OCR_V2``) and
#: mmseg's HRNet-OCR (``configs/ocrnet/ocrnet_hr18_*``).
OCR_PRESETS = {
    'hrformer': dict(aux_channels=512, aux_kernel_size=3, dropout_ratio=0.05,
                     align_corners=True),
    'mmseg': dict(aux_channels=None, aux_kernel_size=1, dropout_ratio=-1,
                  align_corners=False),
}


def ocr_heads(arch: Union[str, int, Sequence[int]],
              num_classes: int,
              norm_cfg: Optional[dict] = None,
              channels: int = 512,
              ocr_channels: int = 256,
              ohem_min_kept: Optional[int] = 131072,
              aux_weight: float = 0.4,
              preset: str = 'hrformer',
              **overrides) -> List[dict]:
    """An auxiliary FCN head and an OCR head (OCRNet; HRFormer paper Sec.
    4.3): the auxiliary head (a conv + BN + ReLU, 1x1 classifier, loss
    weight 0.4) gives the soft object regions; the OCR head (3x3 conv to
    ``channels``, object context with ``ocr_channels`` keys) makes the
    prediction, trained with OHEM cross-entropy (plain cross-entropy with
    ``ohem_min_kept=None``).

    ``arch``: an HRFormer arch name (``HRFormer.arch_zoo``) or the
    streams' widths, which the heads resize to 1/4 and concatenate
    themselves (mmseg's ``resize_concat`` over every stream: ``in_index``
    counts the streams), or one width: the output of an
    ``HRNetV2Neck(mode='v2')`` that has already concatenated them.

    ``norm_cfg``: the heads' norm layers, SyncBN by default.

    ``preset`` (:data:`OCR_PRESETS`), each entry overridable by keyword
    (``aux_channels``, ``aux_kernel_size``, ``dropout_ratio``,
    ``align_corners``):

    * ``'hrformer'``: as the reference HRFormer segmentation release builds
      it, so its checkpoints convert exactly: resize with
      align_corners=True, auxiliary 3x3 conv to 512 channels, dropout 0.05
      before the OCR classifier.  The reference's 3x3 convs carry a bias in
      front of BatchNorm; mmseg's ``ConvModule`` has none, and loading a
      reference checkpoint folds those biases into the BatchNorm running means, which
      is exact.
    * ``'mmseg'``: mmseg's HRNet-OCR: align_corners=False, auxiliary 1x1
      conv keeping the concatenated width (``aux_channels=None``), no
      dropout.
    """
    unknown = set(overrides) - set(OCR_PRESETS['hrformer'])
    if unknown:
        raise TypeError(f'ocr_heads: unknown arguments {sorted(unknown)}')
    opts = {**OCR_PRESETS[preset], **overrides}
    if norm_cfg is None:
        norm_cfg = dict(type='SyncBN', requires_grad=True)
    if isinstance(arch, str):
        from hrformer_mm.models.backbones.hrformer import HRFormer
        in_channels = HRFormer.arch_zoo[arch]['channels']
    else:
        in_channels = arch
    if isinstance(in_channels, int):
        width = in_channels
        inputs = dict(in_channels=in_channels, in_index=0)
    else:
        width = sum(in_channels)
        inputs = dict(in_channels=list(in_channels),
                      in_index=tuple(range(len(in_channels))),
                      input_transform='resize_concat')
    common = dict(num_classes=num_classes, norm_cfg=norm_cfg,
                  align_corners=opts['align_corners'], **inputs)
    return [
        dict(type='FCNHead',
             channels=width if opts['aux_channels'] is None else
             opts['aux_channels'],
             kernel_size=opts['aux_kernel_size'], num_convs=1,
             concat_input=False, dropout_ratio=-1,
             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                              loss_weight=aux_weight),
             **common),
        dict(type='OCRHead', channels=channels, ocr_channels=ocr_channels,
             dropout_ratio=opts['dropout_ratio'],
             sampler=None if ohem_min_kept is None else dict(
                 type='OHEMPixelSampler', thresh=0.9, min_kept=ohem_min_kept),
             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                              loss_weight=1.0),
             **common),
    ]


def seg_pipelines(scale, crop_size, reduce_zero_label: bool = False,
                  ratio_range=(0.5, 2.0)):
    """mmseg's training and test pipelines (``mmseg::_base_/datasets/*``) at
    another resize scale or crop size: random resize (``ratio_range`` of
    ``scale``), random crop with ``cat_max_ratio=0.75``, flip, photometric
    distortion; testing resizes to ``scale`` and loads the annotations after
    the resize, so the metrics are computed at the original size.

    Returns ``(train_pipeline, test_pipeline)``.
    """
    annotations = dict(type='LoadAnnotations')
    if reduce_zero_label:
        annotations['reduce_zero_label'] = True
    train = [
        dict(type='LoadImageFromFile'),
        dict(annotations),
        dict(type='RandomResize', scale=scale, ratio_range=ratio_range,
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs'),
    ]
    test = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=scale, keep_ratio=True),
        dict(annotations),
        dict(type='PackSegInputs'),
    ]
    return train, test


def parsing_pipelines(crop_size, flip_pairs, ratio_range=(0.5, 1.5)):
    """Human parsing's (LIP's) training and test pipelines: images resized
    to ``crop_size`` whatever their aspect ratio (randomly scaled by
    ``ratio_range`` and cropped when training), the horizontal flip
    exchanging the left / right labels of ``flip_pairs``.

    Returns ``(train_pipeline, test_pipeline)``."""
    train = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='RandomResize', scale=crop_size, ratio_range=ratio_range,
             keep_ratio=False),
        dict(type='RandomCrop', crop_size=crop_size),
        dict(type='RandomFlip', prob=0.5),
        dict(type='hrformer_mm.SwapFlippedPartLabels', flip_pairs=flip_pairs),
        dict(type='PackSegInputs'),
    ]
    test = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=crop_size, keep_ratio=False),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs'),
    ]
    return train, test


def lip_loaders(data_root: str, train_pipeline: list,
                test_pipeline: list) -> tuple:
    """mmseg's ``LIPDataset`` loaders over ``data_root`` (its
    ``{split}_images`` / ``{split}_segmentations`` folders): batch 10 from
    an infinite shuffled sampler for training, 1 image at a time for
    validation and test; 4 persistent workers each.

    Returns ``(train_dataloader, val_dataloader, test_dataloader)``."""
    def loader(split, pipeline, **kwargs):
        return dict(
            **kwargs, num_workers=4, persistent_workers=True,
            dataset=dict(
                type='LIPDataset', data_root=data_root,
                data_prefix=dict(img_path=f'{split}_images',
                                 seg_map_path=f'{split}_segmentations'),
                pipeline=pipeline))
    val_dataloader = loader(
        'val', test_pipeline, batch_size=1,
        sampler=dict(type='DefaultSampler', shuffle=False))
    return (loader('train', train_pipeline, batch_size=10,
                   sampler=dict(type='InfiniteSampler', shuffle=True)),
            val_dataloader, val_dataloader)


def demo_seg_loaders(data_root: str, train_pipeline: list,
                     test_pipeline: list) -> tuple:
    """The segmentation demos' loaders over the synthetic set in
    ``data_root``: batch 8, one worker (2 CPU cores).

    Returns ``(train_dataloader, val_dataloader, test_dataloader)``."""
    val_dataloader = dict(
        num_workers=1,
        dataset=dict(data_root=data_root, pipeline=test_pipeline))
    return (dict(batch_size=8, num_workers=1,
                 dataset=dict(data_root=data_root, pipeline=train_pipeline)),
            val_dataloader, val_dataloader)


def topdown_pipelines(codec: dict, half_body: bool = True,
                      **bbox_transform):
    """mmpose's top-down training and validation pipelines for ``codec``
    (its ``input_size`` for the affine crop, the codec for the targets):
    flip, half-body crops (``half_body``), a random box transform
    (``bbox_transform``: ``RandomBBoxTransform`` arguments, mmpose's
    defaults when empty), the affine crop and the targets.

    Returns ``(train_pipeline, val_pipeline)``.
    """
    train = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal'),
        *([dict(type='RandomHalfBody')] if half_body else []),
        dict(type='RandomBBoxTransform', **bbox_transform),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs'),
    ]
    val = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='PackPoseInputs'),
    ]
    return train, val


def demo_coco(codec: dict, data_root: str) -> tuple:
    """The data of the pose demos on the synthetic COCO-format people of
    ``tools/generate_demo_data.py`` (under ``data_root``): the COCO
    configs' dataset and metric with :func:`topdown_pipelines`' milder
    augmentation for a short schedule (no half-body crops, +-30 degrees
    instead of +-80, scale 0.75-1.25 instead of 0.5-1.5: on 2 CPU cores
    HRFormer-T reached AP 0.648 after 5 epochs with it, 0.526 with the
    COCO recipe's), one loader worker.

    Returns ``(train_pipeline, val_pipeline, train_dataloader,
    val_dataloader, test_dataloader, val_evaluator, test_evaluator)``."""
    train_pipeline, val_pipeline = topdown_pipelines(
        codec, half_body=False, scale_factor=(0.75, 1.25),
        rotate_factor=30.0)
    train_dataloader = dict(
        batch_size=16, num_workers=1, persistent_workers=True,
        dataset=dict(data_root=data_root, pipeline=train_pipeline))
    val_dataloader = dict(
        batch_size=32, num_workers=1, persistent_workers=True,
        dataset=dict(
            data_root=data_root,
            bbox_file=data_root + 'person_detection_results/'
            'COCO_val2017_detections_AP_H_56_person.json',
            pipeline=val_pipeline))
    val_evaluator = dict(
        ann_file=data_root + 'annotations/person_keypoints_val2017.json')
    return (train_pipeline, val_pipeline, train_dataloader, val_dataloader,
            val_dataloader, val_evaluator, val_evaluator)


def demo_schedule(max_epochs: int, warmup_iters: int,
                  interval: int = 1) -> tuple:
    """The pose demos' short schedule (batch 16, lr 3e-3): a linear warm-up
    over ``warmup_iters`` iterations under a cosine decay over
    ``max_epochs`` that runs from the first iteration (the two multiply),
    validation and a checkpoint (the last two kept) every ``interval``
    epochs, a log line every 10 iterations.

    Returns ``(train_cfg, optim_wrapper, param_scheduler, auto_scale_lr,
    default_hooks)``."""
    return (dict(max_epochs=max_epochs, val_interval=interval),
            dict(optimizer=dict(lr=3e-3)),
            [dict(type='LinearLR', begin=0, end=warmup_iters,
                  start_factor=0.01, by_epoch=False),
             dict(type='CosineAnnealingLR', begin=0, end=max_epochs,
                  by_epoch=True, eta_min=1e-5)],
            dict(base_batch_size=16),
            dict(logger=dict(interval=10),
                 checkpoint=dict(interval=interval, max_keep_ckpts=2)))


def warmup_poly(max_iters: int, warmup_iters: int = 1500,
                start_factor: float = 1e-6) -> List[dict]:
    """The iteration-based learning-rate schedule of the transformer
    segmentation recipes (SegFormer, HRFormer, HRViT): a linear warm-up
    from ``start_factor`` over ``warmup_iters``, then poly decay (power 1)
    to 0 at ``max_iters``."""
    return [
        dict(type='LinearLR', start_factor=start_factor, by_epoch=False,
             begin=0, end=warmup_iters),
        dict(type='PolyLR', eta_min=0.0, power=1.0, begin=warmup_iters,
             end=max_iters, by_epoch=False),
    ]


#: Where mmpose keeps its ImageNet-pretrained backbones.
MMPOSE_PRETRAINED = 'https://download.openmmlab.com/mmpose/pretrain_models/'

#: mmpose's ImageNet-pretrained HRFormer checkpoints, by arch.
HRFORMER_IMAGENET = {
    'small': MMPOSE_PRETRAINED + 'hrformer_small-09516375_20220226.pth',
    'base': MMPOSE_PRETRAINED + 'hrformer_base-32815020_20220226.pth',
}


def pretrained_hrformer(arch: str, drop_path_rate: float) -> dict:
    """The backbone settings that make an HRFormer config of one arch
    another: ``arch``, ``drop_path_rate`` and the ImageNet-pretrained
    weights of :data:`HRFORMER_IMAGENET` (merge into ``model.backbone``)."""
    return dict(arch=arch, drop_path_rate=drop_path_rate,
                init_cfg=dict(type='Pretrained',
                              checkpoint=HRFORMER_IMAGENET[arch]))


def hrvit_backbone(arch: str = 'b1', drop_path_rate: float = 0.1,
                   norm_cfg: Optional[dict] = None,
                   out_indices: Sequence[int] = (0, 1, 2, 3),
                   **kwargs) -> dict:
    """The HRViT backbone block the HRViT configs share: HRViT-b1, drop path
    0.1, four streams out, SyncBN unless ``norm_cfg`` says otherwise."""
    return dict(type='hrformer_mm.HRViT', arch=arch,
                drop_path_rate=drop_path_rate, out_indices=tuple(out_indices),
                norm_cfg=norm_cfg or dict(type='SyncBN', requires_grad=True),
                **kwargs)


def segformer_mlp_head(norm_cfg: dict, channels: int = 256,
                       **kwargs) -> dict:
    """The SegFormer all-MLP head on HRViT-b1's four streams as the HRViT
    release uses it (plain linear projections to ``channels``, dropout 0.1,
    cross-entropy); ``kwargs`` add to its options (e.g. ``num_classes``)."""
    return dict(type='hrformer_mm.SegFormerMLPHead',
                in_channels=[32, 64, 128, 256], in_index=[0, 1, 2, 3],
                channels=channels, dropout_ratio=0.1, norm_cfg=norm_cfg,
                align_corners=False,
                loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                 loss_weight=1.0),
                **kwargs)


def coco_head(head_type: str, in_channels: int, **kwargs) -> dict:
    """A COCO keypoint head (17 points) of ``head_type`` straight on the
    ``in_channels`` map, no deconvolution, replacing the head the config
    inherits (``_delete_``: a head of another type keeps none of its
    options); ``kwargs`` add to its options (loss, decoder, ...)."""
    return dict(_delete_=True, type=head_type, in_channels=in_channels,
                out_channels=17, deconv_out_channels=None, **kwargs)


def simcc_sizes(codec: dict, stride: int = 4) -> dict:
    """A SimCC head's sizes for ``codec``: its input size and the size of
    the map it reads, ``ceil(input / stride)`` (PVT v2's first stage, the
    HRPM map, is 1/4 of the input); merge into ``model.head``."""
    return dict(input_size=codec['input_size'],
                in_featuremap_size=tuple(
                    (s + stride - 1) // stride for s in codec['input_size']),
                decoder=codec)


def pose_runtime(max_keep_ckpts: int = 3) -> tuple:
    """What this project adds to the runtime of an mmpose recipe it
    inherits: the plugin import, ``hrformer_mm.RNGStateHook`` after mmpose's
    ``SyncBuffersHook`` (resume then reproduces an uninterrupted run
    exactly, drop path included) and only the newest ``max_keep_ckpts``
    checkpoints kept.

    Returns ``(custom_imports, custom_hooks, default_hooks)``."""
    return (dict(imports=['hrformer_mm'], allow_failed_imports=False),
            [dict(type='SyncBuffersHook'),
             dict(type='hrformer_mm.RNGStateHook')],
            dict(checkpoint=dict(max_keep_ckpts=max_keep_ckpts)))


def pose_hrformer(arch: str, drop_path_rate: float) -> dict:
    """Our HRFormer in place of mmpose's in an mmpose HRFormer recipe
    (``model.backbone``; ``_delete_``, as mmpose's ``extra=`` dict would
    otherwise merge in): the same ImageNet weights and keys, SyncBN, the 1/4
    stream out for the heatmap head.  (A config that passed the recipe's
    ``_base_.norm_cfg`` on would hand the norm layers mmengine's
    ``_scope_`` marker of a cross-package base variable.)"""
    return dict(_delete_=True, type='hrformer_mm.HRFormer', out_indices=(0, ),
                norm_cfg=dict(type='SyncBN', requires_grad=True),
                **pretrained_hrformer(arch, drop_path_rate))


#: mmpose's ImageNet-pretrained HRNet checkpoints (where its top-down
#: recipes start from), by arch.
HRNET_MMPOSE_IMAGENET = {
    'w32': MMPOSE_PRETRAINED + 'hrnet_w32-36af842e.pth',
    'w48': MMPOSE_PRETRAINED + 'hrnet_w48-8ef0771d.pth',
}


def pose_hrnet(arch: str, norm_cfg: dict) -> dict:
    """Our HRNet in place of mmpose's in an mmpose top-down HRNet recipe, to
    merge into ``model``: the V1 read-out, i.e. the highest-resolution
    stream (the last module fuses only into it, mmpose's
    ``multiscale_output=False``, so mmpose's HRNet checkpoints load
    unchanged) through ``HRNetV2Neck(mode='v1')``, from mmpose's ImageNet
    weights (:data:`HRNET_MMPOSE_IMAGENET`)."""
    from hrformer_mm.models.backbones.hrnet import HRNet
    return dict(
        backbone=dict(
            _delete_=True, type='hrformer_mm.HRNet', arch=arch,
            out_indices=(0, ), norm_cfg=norm_cfg,
            init_cfg=dict(type='Pretrained',
                          checkpoint=HRNET_MMPOSE_IMAGENET[arch])),
        neck=dict(type='hrformer_mm.HRNetV2Neck',
                  in_channels=[HRNet.arch_zoo[arch]['channels'][0]],
                  mode='v1'))


def hrnetv2(arch: str, norm_cfg: dict, neck: Optional[dict] = None,
            replace: bool = False) -> dict:
    """HRNetV2 as mmseg's models and mmpose's landmark configs build it, to
    merge into a ``model``: our HRNet of ``arch`` from the ImageNet weights,
    fusing with bilinear upsampling (mmseg's HRNet, so its checkpoints load
    and compute the same), and the V2 neck (every stream upsampled to 1/4
    and concatenated; ``neck`` adds to its options).  ``replace``: the
    backbone and neck replace those of the config inherited from
    (``_delete_``), e.g. a host's own HRNet in its ``extra=`` form."""
    from hrformer_mm.models.backbones.hrnet import HRNet
    delete = dict(_delete_=True) if replace else {}
    return dict(
        backbone=dict(
            **delete, type='hrformer_mm.HRNet', arch=arch,
            upsample_cfg=dict(mode='bilinear'), norm_cfg=norm_cfg,
            init_cfg=dict(type='Pretrained',
                          checkpoint=f'open-mmlab://msra/hrnetv2_{arch}')),
        neck=dict(**delete, type='hrformer_mm.HRNetV2Neck',
                  in_channels=list(HRNet.arch_zoo[arch]['channels']),
                  mode='v2', **(neck or {})))


def face_hrnetv2() -> tuple:
    """The model and runtime this project puts on mmpose's HRNetV2-W18
    facial landmark recipes (WFLW, AFLW, COFW, 300W): :func:`pose_runtime`,
    SyncBN, and :func:`hrnetv2` W18 in place of mmpose's, its V2 neck mixing
    the concatenated streams to 270 channels (what mmpose's head does with
    ``conv_out_channels=(270,)``), so the head is a 1x1 conv to the
    recipe's heatmaps, one per point.

    Returns ``(custom_imports, custom_hooks, default_hooks, norm_cfg,
    model)``."""
    norm_cfg = dict(type='SyncBN', requires_grad=True)
    model = dict(
        **hrnetv2('w18', norm_cfg,
                  neck=dict(out_channels=270, norm_cfg=norm_cfg),
                  replace=True),
        head=dict(conv_out_channels=None, conv_kernel_sizes=None))
    return (*pose_runtime(), norm_cfg, model)


def face_nme_variants(name: str, **subsets: str) -> dict:
    """A landmark benchmark's NME variants, metric name -> test annotation
    file, in mmpose's naming (``annotations/face_landmarks_{name}_{subset}
    .json``): ``subsets`` maps each variant (``'full'`` gives ``'NME
    full'``) to its file's subset.  One is scored at a time with ``tools/
    test.py ... --cfg-options test_dataloader.dataset.ann_file=FILE``."""
    return {f'NME {variant}': f'annotations/face_landmarks_{name}_{subset}'
                              '.json'
            for variant, subset in subsets.items()}


def cls_hrnet(arch: str) -> dict:
    """Our HRNet of ``arch`` in place of mmpretrain's in its HRNet-W18
    ImageNet recipe, to merge into ``model``; the ``HRFuseScales`` neck
    takes that arch's stream widths (mmpretrain's are W18's), then global
    pooling as in the recipe."""
    from hrformer_mm.models.backbones.hrnet import HRNet
    return dict(
        backbone=dict(_delete_=True, type='hrformer_mm.HRNet', arch=arch),
        neck=[
            dict(type='HRFuseScales',
                 in_channels=tuple(HRNet.arch_zoo[arch]['channels'])),
            dict(type='GlobalAveragePooling'),
        ])


def hrnetv2_fcn_width(arch: str, num_classes: Optional[int] = None,
                      **model) -> dict:
    """``_base_/models/hrnetv2_fcn.py`` (HRNetV2-W18 + FCN) at width
    ``arch``, to merge into ``model``: the backbone of that arch from its
    ImageNet weights, the V2 neck over its streams and the FCN head's conv
    as wide as their concatenation (mmseg's fcn_hr48 configs), predicting
    ``num_classes`` where given; ``model`` adds further model keys."""
    from hrformer_mm.models.backbones.hrnet import HRNet
    channels = list(HRNet.arch_zoo[arch]['channels'])
    classes = {} if num_classes is None else dict(num_classes=num_classes)
    return dict(
        backbone=dict(
            arch=arch,
            init_cfg=dict(checkpoint=f'open-mmlab://msra/hrnetv2_{arch}')),
        neck=dict(in_channels=channels),
        decode_head=dict(in_channels=sum(channels), channels=sum(channels),
                         **classes),
        **model)


def hrnetv2p(arch: str) -> dict:
    """mmdet's HRNetV2p detectors' backbone and neck as ours, to merge into
    the ``model`` of an mmdet ResNet-50 + FPN config (both replaced): our
    HRNet of ``arch`` with mmdet's HRNet default ``norm_eval=True`` and the
    ImageNet weights mmdet starts from, and the V2p neck (V2 reduced to 256
    channels, pooled into 5 levels) with ``norm_cfg=None`` /
    ``act_cfg=None``: mmdet's HRFPN exactly, same keys, so mmdet's
    checkpoints load."""
    from hrformer_mm.models.backbones.hrnet import HRNet
    return dict(
        backbone=dict(
            _delete_=True, type='hrformer_mm.HRNet', arch=arch,
            norm_eval=True,
            init_cfg=dict(type='Pretrained',
                          checkpoint=f'open-mmlab://msra/hrnetv2_{arch}')),
        neck=dict(
            _delete_=True, type='hrformer_mm.HRNetV2Neck',
            in_channels=list(HRNet.arch_zoo[arch]['channels']), mode='v2p',
            out_channels=256, num_outs=5, norm_cfg=None, act_cfg=None,
            init_cfg=dict(type='Caffe2Xavier', layer='Conv2d')))
