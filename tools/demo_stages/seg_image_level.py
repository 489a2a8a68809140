"""A image-level backdoored segmentor on the embedded data (see
:mod:`demo_stages._seg_common`)."""
from demo_stages._seg_common import train_poisoned

NAME = 'seg_image_level'
REQUIRES = ['seg_clean']
COST = 124


def run(ctx) -> None:
    train_poisoned(ctx, NAME)
