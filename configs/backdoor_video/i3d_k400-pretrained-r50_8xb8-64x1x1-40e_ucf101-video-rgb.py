# Clean I3D on UCF101 read from the .avi files (VideoDataset + decord), as
# mmaction2 1.x's video configs read Kinetics: the recipe of
# i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-rgb.py (rawframes) with
# DecordInit / DecordDecode in place of RawFrameDecode. No frame extraction
# needed; see docs/data_preparation.md for the lists. Not run here at scale.
_base_ = ['./i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-rgb.py']

dataset_type = 'VideoDataset'
data_root = 'data/ucf101/videos'
split = 1  # official train/test splits: 1, 2, 3
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'
clip_len = 64

file_client_args = dict(io_backend='disk')
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1,
         num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
         random_crop=False, max_wh_scale_gap=0),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# One centred 64-frame clip, centre crop (the authors' evaluation and the
# clip craft_poison.py stores).
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1,
         num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
