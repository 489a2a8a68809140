"""Shared pieces of the segmentation attack benchmarks: models and
batches (timing helpers in :mod:`timing`)."""
import copy
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.structures import PixelData

import mmbackdoor  # noqa: F401
import mmbackdoor.attacks  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
EMBEDDED = osp.join(REPO, 'configs', 'baselines',
                    'unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
#: name -> (config, input side, batch size). Model-zoo architectures run at
#: a reduced input size so that a CPU run stays short.
MODELS_TO_TIME = {
    'UNet-s4 FCN 64px (embedded)': (EMBEDDED, 64, 8),
    'DeepLabV3-R50 128px': (
        'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-40k_voc12aug-512x512.py', 128,
        2),
    'PSPNet-R50 128px': (
        'mmseg::pspnet/pspnet_r50-d8_4xb4-40k_voc12aug-512x512.py', 128, 2),
}


def load_config(config: str) -> Config:
    return get_config(config) if '::' in config else Config.fromfile(config)


def build_segmentor(config: str,
                    size: Optional[int] = None,
                    checkpoint: Optional[str] = None):
    """An mmseg segmentor of ``config`` in eval mode on the CPU: random
    weights (no pretrained download) unless ``checkpoint``; SyncBN reverted
    to BN; the data preprocessor pads to ``size``."""
    from mmseg.registry import MODELS
    cfg = load_config(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pop('pretrained', None)
    model_cfg.backbone.pop('init_cfg', None)
    if size is not None:
        model_cfg.data_preprocessor.size = (size, size)
    model = revert_sync_batchnorm(MODELS.build(model_cfg))
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu')
    return model.eval()


def random_batch(num: int, size: int, num_classes: int, seed: int = 0):
    """A batch as an mmseg test dataloader yields it: random uint8 images,
    random labels with an ignored border."""
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(num):
        inputs.append(
            torch.randint(0, 256, (3, size, size), generator=gen,
                          dtype=torch.uint8))
        label = torch.randint(0, num_classes, (1, size, size), generator=gen)
        label[:, :, :size // 16] = 255
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


