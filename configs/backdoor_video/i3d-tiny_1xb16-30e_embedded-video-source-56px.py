# Shared pretraining for the embedded clean-label video backdoor chain.
#
# Zhao et al. (CVPR 2020) attack a Kinetics-pretrained I3D that the victim
# fine-tunes on UCF101; the attacker's clean model starts from the same
# network. The embedded analogue pretrains a small I3D-style ResNet3d on the
# SOURCE motion classes (disjoint from the target task's classes) of the
# embedded video data; the clean model and the victim then fine-tune from
# this checkpoint (see the README of this folder).
_base_ = [
    'mmaction::_base_/default_runtime.py',
    '../_base_/datasets/embedded_video.py'
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)
default_scope = 'mmaction'

source_classes = ('move_up_left', 'move_up_right', 'move_down_left',
                  'move_down_right', 'orbit_cw', 'orbit_ccw',
                  'oscillate_horizontal', 'oscillate_vertical')
source_root = 'data/embedded_video_source'

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d',
        depth=18,
        pretrained=None,
        pretrained2d=False,
        base_channels=8,
        conv1_kernel=(3, 5, 5),
        conv1_stride_t=2,
        pool1_stride_t=2,
        inflate=(1, 1, 1, 1),
        with_pool2=False,
        zero_init_residual=False),
    cls_head=dict(
        type='I3DHead',
        num_classes=8,
        in_channels=64,
        spatial_type='avg',
        dropout_ratio=0.5,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=source_root, classes=source_classes))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=source_root, classes=source_classes))
test_dataloader = val_dataloader

max_epochs = 30
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 2,
        eta_min=0,
        by_epoch=True,
        begin=2,
        end=max_epochs,
        convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=40, norm_type=2))
default_hooks = dict(
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1),
    logger=dict(interval=20))
randomness = dict(seed=0)
