# Clean model of the embedded clean-label chain: the backbone pretrained on
# the source classes (i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-source-rgb.py,
# exported with tools/video/export_backbone.py) fine-tuned on the embedded
# target classes with a new classifier, as Zhao et al. fine-tune a Kinetics
# I3D on UCF101. The attacker's clean model and the victim both use this
# recipe from the same backbone (README.md of this folder).
_base_ = ['../baselines/i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-rgb.py']

source_backbone = 'work_dirs/video_backdoor/source_backbone.pth'
model = dict(backbone=dict(pretrained=source_backbone))

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        eta_min=0,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
default_hooks = dict(checkpoint=dict(interval=max_epochs))
