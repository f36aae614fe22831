# LIP human parsing (20 classes, 0 = background; mmseg's LIPDataset reading
# data/LIP/{train,val}_images and {train,val}_segmentations), the HRNet
# segmentation release's recipe (lib/datasets/lip.py): every image resized
# to 473x473, scaled by 0.5-1.5, cropped to 473x473, flipped with the left /
# right labels exchanged; tested at 473x473, scored at the label's size.
# The flip test (tta_pipeline, tta_model) exchanges the score channels of
# the same pairs before averaging, as the release's inference does.
# No parent; an explicit empty _base_ keeps mmengine reading this file (it
# imports a helper) as a plain config rather than a lazy-import one.
_base_ = []
from hrformer_mm.config_helpers import lip_loaders, parsing_pipelines

dataset_type = 'LIPDataset'
data_root = 'data/LIP'
num_classes = 20
crop_size = (473, 473)
# Left-arm / Right-arm, Left-leg / Right-leg, Left-shoe / Right-shoe
flip_pairs = [(14, 15), (16, 17), (18, 19)]
train_pipeline, test_pipeline = parsing_pipelines(crop_size, flip_pairs)
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=crop_size, keep_ratio=False)],
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')],
        [dict(type='PackSegInputs')],
    ]),
]
tta_model = dict(type='hrformer_mm.FlipSwapSegTTAModel',
                 flip_pairs=flip_pairs)
train_dataloader, val_dataloader, test_dataloader = lip_loaders(
    data_root, train_pipeline, test_pipeline)
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
