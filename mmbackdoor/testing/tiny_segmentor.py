"""A tiny real mmseg segmentor (UNet + FCN head) and synthetic batches, for
attack and hook tests (needs mmseg)."""
import torch
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmbackdoor.attacks  # noqa: F401  (registers the attacks)

NUM_CLASSES = 4
SIZE = 32


def segmentor_cfg(mode: str = 'whole') -> ConfigDict:
    """EncoderDecoder(UNet, FCNHead) with BN and a normalising, BGR->RGB
    SegDataPreProcessor, as an mmseg config builds it."""
    norm_cfg = dict(type='BN', requires_grad=True)
    test_cfg = dict(mode=mode)
    if mode == 'slide':
        test_cfg.update(crop_size=(24, 24), stride=(16, 16))
    return ConfigDict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size=(SIZE, SIZE),
            pad_val=0,
            seg_pad_val=255),
        backbone=dict(
            type='UNet',
            in_channels=3,
            base_channels=8,
            num_stages=3,
            strides=(1, 1, 1),
            enc_num_convs=(1, 1, 1),
            dec_num_convs=(1, 1),
            downsamples=(True, True),
            enc_dilations=(1, 1, 1),
            dec_dilations=(1, 1),
            norm_cfg=norm_cfg),
        decode_head=dict(
            type='FCNHead',
            in_channels=8,
            channels=8,
            num_convs=1,
            concat_input=False,
            num_classes=NUM_CLASSES,
            norm_cfg=norm_cfg,
            align_corners=False,
            init_cfg=None,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=test_cfg)


def build_segmentor(mode: str = 'whole'):
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        return MODELS.build(segmentor_cfg(mode))


def make_batch(num: int = 2,
               size: int = SIZE,
               label_size: int = None,
               seed: int = 0) -> dict:
    """A batch as an mmseg dataloader yields it: uint8 CHW inputs and
    SegDataSamples with gt_sem_seg (a quarter of each map is ignored).
    Each image is made of class-coloured blocks, so a model can learn it."""
    label_size = label_size or size
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(num):
        blocks = torch.randint(0, NUM_CLASSES, (1, 1, 4, 4), generator=gen)
        label = torch.nn.functional.interpolate(
            blocks.float(), size=(label_size, label_size),
            mode='nearest').long()[0]
        image_label = torch.nn.functional.interpolate(
            blocks.float(), size=(size, size), mode='nearest').long()[0, 0]
        # close colours: an eps of a few levels can flip pixels
        colours = torch.tensor([[120, 120, 140], [140, 120, 120],
                                [120, 140, 120], [135, 135, 120]])
        image = colours[image_label].permute(2, 0, 1).float()
        image += 6 * torch.randn(image.shape, generator=gen)
        inputs.append(image.clamp(0, 255).to(torch.uint8))
        label[:, :label_size // 4] = 255
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(label_size, label_size),
                pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def fit(model, batch: dict, iters: int = 40):
    """Train ``model`` on ``batch`` with its own ``train_step``."""
    from mmengine.optim import OptimWrapper
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    model.train()
    for _ in range(iters):
        model.train_step(batch, optim)
    model.eval()
    return model
