"""A fine-grained backdoored segmentor on the embedded data (see
:mod:`demo_stages._seg_common`)."""
from demo_stages._seg_common import train_poisoned

NAME = 'seg_fine_grained'
REQUIRES = ['seg_clean']
#: Seconds it takes on one worker of a full run (measured; data generation
#: included): the scheduler plans the order of the stages from these.
COST = 125


def run(ctx) -> None:
    train_poisoned(ctx, NAME)
