"""The user-facing API that tools, the demo and benchmarks are built on:

- ``cli``: the command-line conventions of OpenMMLab's ``tools/``;
- ``experiment``: runners from configs; train, test, train-and-test;
- ``inference``: load a model, predict samples;
- ``seg_backdoor``: segmentation backdoor experiment configs;
- ``export``: a poisoned copy of a segmentation dataset on disk.
"""
from .experiment import (build_runner, evaluate_checkpoint, set_data_root,
                         shrink_schedule, train_and_test, train_model)
from .inference import load_model, load_test_samples, predict
from .seg_backdoor import (SCHEDULE_KEYS, backdoor_experiment_config,
                           poison_transforms_cfg)

__all__ = [
    'SCHEDULE_KEYS', 'backdoor_experiment_config', 'build_runner',
    'evaluate_checkpoint', 'load_model', 'load_test_samples',
    'poison_transforms_cfg', 'predict', 'set_data_root', 'shrink_schedule',
    'train_and_test', 'train_model'
]
