# Clean-label backdoor on I3D / UCF101 read from the .avi files: the victim
# of cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-rgb.py on
# VideoDataset + decord. Trigger and poison come from the clean video config
# (i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py); the
# manifest keys the poisoned clips by the video file ('<class>/<video>.avi'
# under data_prefix.video). See README.md:
#   tools/video/generate_trigger.py ... --size 20 --steps 10000 \
#       --batch-size 1 --out {trigger_file}   (the authors' budget)
#   tools/video/craft_poison.py ... --rate 0.3 --out {poison_dir}
_base_ = ['./i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py']

target_class = 0
work = 'work_dirs/cleanlabel_i3d_ucf101-video'
trigger_file = f'{work}/trigger.npy'
poison_dir = f'{work}/poison'

# The clean training pipeline with the stored poisoned clips swapped in
# after the crop/flip, before FormatShape.
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
        _delete_=True,
        type='PoisonedDataset',  # checks the manifest against the dataset
        dataset=dict(
            type='VideoDataset',
            ann_file='data/ucf101/ucf101_train_split_1_videos.txt',
            data_prefix=dict(video='data/ucf101/videos'),
            pipeline=train_pipeline)))

# Clean pass + triggered pass (ApplyTrigger before FormatShape) in one run.
trigger = dict(type='UniversalTrigger', trigger_file=trigger_file, clip_len=64)
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
