# A tiny SegFormer (Xie et al., 2021) for the embedded 64x64 segmentation
# data, built from mmseg's MixVisionTransformer + SegformerHead: four stages
# of 16 / 32 / 64 / 128 channels (2 layers each), 3x3 overlapping patch
# embeddings of stride 2 (feature maps 32 / 16 / 8 / 4 px), efficient
# self-attention with reduction ratios 8 / 4 / 2 / 1 (every stage attends
# over the whole image), an all-MLP head of 64 channels. 0.78 M parameters.
_base_ = ['mmseg::_base_/models/segformer_mit-b0.py']

norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(size=(64, 64))
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        embed_dims=16,
        num_layers=[2, 2, 2, 2],
        num_heads=[1, 2, 4, 8],
        patch_sizes=[3, 3, 3, 3],
        strides=[2, 2, 2, 2],
        sr_ratios=[8, 4, 2, 1],
        drop_path_rate=0.0),
    decode_head=dict(
        in_channels=[16, 32, 64, 128],
        channels=64,
        dropout_ratio=0.0,
        num_classes=6,
        norm_cfg=norm_cfg,
        # The label maps have void borders (255): average over valid pixels.
        loss_decode=dict(avg_non_ignore=True),
        # PyTorch's default init of the classifier (see the UNet baseline).
        init_cfg=None),
    test_cfg=dict(mode='whole'))
