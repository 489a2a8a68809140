# The embedded synthetic motion-recognition dataset
# (mmbackdoor/datasets/embedded_video.py), generated into ``data_root`` on
# first use: 8 motion classes (TARGET_CLASSES), 100 train / 20 val clips per
# class, 16 lossless PNG frames of 64x64 per clip, read by mmaction's
# RawframeDataset / RawFrameDecode. All 16 frames are sampled, then cropped
# to 56x56 (random in training).
# No Flip: a horizontal flip turns move_left into move_right and rotate_cw
# into rotate_ccw without changing the label.
dataset_type = 'EmbeddedVideoDataset'
data_root = 'data/embedded_video'
ann_file_train = 'train_list.txt'
ann_file_val = 'val_list.txt'
clip_len = 16
frame_interval = 1
crop_size = 56

train_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='RandomCrop', size=crop_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1,
        test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=ann_file_train,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=ann_file_val,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
