# Clean-label backdoor on TSN-R50 / UCF101: as the I3D setting, with a static
# 20 px trigger (every segment is a one-frame clip) pasted on every segment
# and crop -- 25 segments x ten crops in the test pipeline. Create it with
#   tools/video/generate_trigger.py ... --static --size 20 --steps 10000 \
#       --batch-size 1 --out {trigger_file}   (the authors' budget)
_base_ = ['./tsn_k400-pretrained-r50_8xb32-1x1x8-50e_ucf101-rgb.py']

target_class = 0
work = 'work_dirs/cleanlabel_tsn_ucf101'
trigger_file = f'{work}/trigger.npy'
poison_dir = f'{work}/poison'

train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224,
         scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CleanLabelPoison', poison_dir=poison_dir),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PoisonedDataset',
        dataset=dict(
            type='VideoDataset',
            ann_file='data/ucf101/ucf101_train_split_1_videos.txt',
            data_prefix=dict(video='data/ucf101/videos'),
            pipeline=train_pipeline)))

trigger = dict(type='UniversalTrigger', trigger_file=trigger_file, clip_len=1)
backdoor_summary = [('top1', 'clean/top1'), ('ASR', 'triggered/ASR')]
val_cfg = dict(
    _delete_=True,
    type='BackdoorValLoop',
    trigger=trigger,
    summary=backdoor_summary)
test_cfg = dict(
    _delete_=True,
    type='BackdoorTestLoop',
    trigger=trigger,
    summary=backdoor_summary)
val_evaluator = dict(
    _delete_=True, type='ActionBackdoorMetric', target_class=target_class)
test_evaluator = val_evaluator
