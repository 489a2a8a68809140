# Embedded synthetic segmentation dataset (mmbackdoor), generated into
# ``data_root`` on first use: 64x64 street-scene-like images, 6 classes
# (background, road, building, vegetation, car, person), 400 train / 100 val.
# Objects take any orientation, so quarter turns and flips (the 8 symmetries
# of the square, drawn uniformly) are valid augmentations.
dataset_type = 'EmbeddedSegDataset'
data_root = 'data/embedded_seg'
generate_cfg = dict(seed=0, num_train=400, num_val=100, img_size=64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # An exact quarter turn (mmcv.imrotate by 90 degrees is lossless).
    dict(type='RandomRotate', prob=0.5, degree=(90, 90)),
    dict(
        type='RandomFlip',
        prob=[0.25, 0.25, 0.25],
        direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline,
        **generate_cfg))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline,
        **generate_cfg))
test_dataloader = val_dataloader

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
