# Clean-label backdoor on I3D / HMDB51 read from the .avi files: the UCF101
# video victim with HMDB51's classes and lists; trigger and poison come from
# the HMDB51 clean video config
# (i3d_k400-pretrained-r50_8xb8-64x1x1-40e_hmdb51-video-rgb.py).
_base_ = [
    './cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py'
]

work = 'work_dirs/cleanlabel_i3d_hmdb51-video'
trigger_file = f'{work}/trigger.npy'
poison_dir = f'{work}/poison'
data_root = 'data/hmdb51/videos'
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_videos.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_videos.txt'

model = dict(cls_head=dict(num_classes=51))
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=64, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
         random_crop=False, max_wh_scale_gap=0),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CleanLabelPoison', poison_dir=poison_dir),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            ann_file=ann_file_train,
            data_prefix=dict(video=data_root),
            pipeline=train_pipeline)))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))
test_dataloader = val_dataloader
trigger = dict(type='UniversalTrigger', trigger_file=trigger_file,
               clip_len=64)
val_cfg = dict(trigger=trigger)
test_cfg = dict(trigger=trigger)
