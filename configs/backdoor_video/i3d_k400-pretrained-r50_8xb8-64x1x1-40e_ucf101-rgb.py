# Clean I3D on UCF101 as in Zhao et al. (CVPR 2020): a Kinetics-400 I3D-R50
# fine-tuned on 64-frame clips at 224x224 (the classifier is re-initialised:
# its 400-class weights do not fit the 101 classes). It is both the
# attacker's clean model (trigger, enhancement) and the clean reference the
# victim's top-1 is compared with. The schedule follows mmaction's
# fine-tuning practice; it has not been run here (no UCF101 on this machine).
_base_ = [
    'mmaction::_base_/models/i3d_r50.py',
    'mmaction::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)

model = dict(
    backbone=dict(pretrained2d=False, pretrained=None),
    cls_head=dict(num_classes=101))
load_from = ('https://download.openmmlab.com/mmaction/v1.0/recognition/i3d/'
             'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb/'
             'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb_'
             '20220812-e213c223.pth')

dataset_type = 'RawframeDataset'
data_root = 'data/ucf101/rawframes'
split = 1  # official train/test splits: 1, 2, 3
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_rawframes.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_rawframes.txt'
clip_len = 64

train_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1,
         num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
         random_crop=False, max_wh_scale_gap=0),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# One centred 64-frame clip, centre crop: how the authors evaluated and how
# the poisoned clips are cut (craft_poison.py uses this pipeline).
val_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1,
         num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(img=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(img=data_root),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=40, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=40, by_epoch=True,
         milestones=[20, 35], gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))
auto_scale_lr = dict(enable=False, base_batch_size=64)
