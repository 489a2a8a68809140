"""Clean segmentation baseline on the embedded data: the SegFormer-style
model (global self-attention) of the backdoor stages. Trained by
:func:`demo_stages._seg_common.train_clean`, like ``seg_control_clean`` (the
conv UNet control)."""
from demo_stages._seg_common import train_clean

NAME = 'seg_clean'
REQUIRES = []
COST = 126
CONFIG = 'configs/baselines/segformer_mit-t16_1xb8-1k_embedded-seg-64x64.py'


def run(ctx) -> None:
    train_clean(ctx, NAME, CONFIG, NAME,
                'Clean segmentation baseline (SegFormer-style)')
    # the data of every segmentation stage (the studies' x axis)
    ctx.metrics[f'{NAME}.person_scale'] = ctx.seg_person_scale
