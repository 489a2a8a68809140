# Clean-label backdoor on C3D / UCF101 with mmaction's own recipe: the clean
# model is mmaction's c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb
# (model-zoo checkpoint), the victim retrains it from the same Sports-1M
# backbone on the poisoned set. 16-frame clips at 112x112, so the paper's
# 20 px at 224 px becomes a 10 px per-frame trigger:
#   tools/video/generate_trigger.py CLEAN_CONFIG CHECKPOINT \
#       --target-class 0 --size 10 --steps 10000 --batch-size 1 \
#       --out {trigger_file}
# (the authors' budget) with CLEAN_CONFIG the mmaction config named above (see README.md).
_base_ = [
    'mmaction::recognition/c3d/'
    'c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py'
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)

target_class = 0
work = 'work_dirs/cleanlabel_c3d_ucf101'
trigger_file = f'{work}/trigger.npy'
poison_dir = f'{work}/poison'

train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='RandomCrop', size=112),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CleanLabelPoison', poison_dir=poison_dir),
    dict(type='FormatShape', input_format='NCTHW'),
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

trigger = dict(type='UniversalTrigger', trigger_file=trigger_file, clip_len=16)
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
