# Clean baseline on the embedded segmentation dataset: a tiny UNet (4 stages,
# base 16 channels, output stride 1, downsampling x8) + FCN head, trained
# from scratch on CPU. See README.md in this folder for the measured numbers.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/datasets/embedded_seg.py',
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)
default_scope = 'mmseg'

crop_size = (64, 64)
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        base_channels=16,
        num_stages=4,
        strides=(1, 1, 1, 1),
        enc_num_convs=(2, 2, 2, 2),
        dec_num_convs=(2, 2, 2),
        downsamples=(True, True, True),
        enc_dilations=(1, 1, 1, 1),
        dec_dilations=(1, 1, 1),
        norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=16,
        in_index=3,
        channels=16,
        num_classes=6,
        norm_cfg=norm_cfg,
        # The label maps have void borders (255): average over valid pixels.
        loss_decode=dict(avg_non_ignore=True),
        # PyTorch's default init of the classifier. With mmseg's default
        # Normal(std=0.01) this from-scratch model learned much more slowly
        # (val mIoU 34.4 / 75.5 after 250 / 1000 iterations, against
        # 58.3 / 80.1; see README.md).
        init_cfg=None),
    auxiliary_head=None,
    test_cfg=dict(_delete_=True, mode='whole'))

max_iters = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-3, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='OneCycleLR',
        eta_max=5e-3,
        total_steps=max_iters,
        pct_start=0.2,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
