# A tiny UNet (4 stages, base 16 channels, output stride 1, downsampling x8)
# + FCN head for the embedded 64x64 segmentation data (0.45 M parameters):
# local context only (receptive field of the convolutions).
_base_ = ['mmseg::_base_/models/fcn_unet_s5-d16.py']

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
        # 58.3 / 80.1; see configs/baselines/README.md).
        init_cfg=None),
    auxiliary_head=None,
    test_cfg=dict(_delete_=True, mode='whole'))
