"""The fine-grained backdoor on the conv UNet control (see
:mod:`demo_stages._seg_common`)."""
from demo_stages._seg_common import train_poisoned

NAME = 'seg_control_fine_grained'
REQUIRES = ['seg_control_clean']
COST = 144


def run(ctx) -> None:
    train_poisoned(ctx, NAME)
