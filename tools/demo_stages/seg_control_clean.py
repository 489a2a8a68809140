"""The architecture control of the segmentation backdoors: the conv UNet
(local context only) trained clean on the embedded data. Also the clean
model of the ``robust`` stage."""
from demo_stages._seg_common import train_clean

NAME = 'seg_control_clean'
REQUIRES = []
COST = 143
CONFIG = 'configs/baselines/unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py'


def run(ctx) -> None:
    train_clean(ctx, NAME, CONFIG, 'seg_control.clean',
                'Clean segmentation baseline (UNet, the control)')
