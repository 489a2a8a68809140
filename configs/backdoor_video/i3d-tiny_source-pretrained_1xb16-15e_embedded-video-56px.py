# Clean model of the embedded clean-label chain: the source-pretrained
# backbone (i3d-tiny_1xb16-30e_embedded-video-source-56px.py, exported with
# tools/video/export_backbone.py) fine-tuned on the embedded target classes
# with a new classifier. The attacker's clean model and the victim both use
# this recipe (see README.md).
_base_ = ['./i3d-tiny_1xb16-30e_embedded-video-source-56px.py']

source_backbone = 'work_dirs/video_backdoor/source_backbone.pth'
model = dict(backbone=dict(pretrained=source_backbone))

data_root = 'data/embedded_video'
train_dataloader = dict(dataset=dict(data_root=data_root, classes=None))
val_dataloader = dict(dataset=dict(data_root=data_root, classes=None))
test_dataloader = val_dataloader

max_epochs = 15
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
