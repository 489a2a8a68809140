"""A fine-grained backdoored segmentor on the embedded data (see
:mod:`demo_stages._seg_common`)."""
from demo_stages._seg_common import train_poisoned

NAME = 'seg_fine_grained'
REQUIRES = ['seg_clean']
COST = 125


def run(ctx) -> None:
    train_poisoned(ctx, NAME)
