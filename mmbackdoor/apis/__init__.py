"""The user-facing API that tools, the demo and benchmarks are built on:

- ``cli``: the command-line conventions of OpenMMLab's ``tools/``;
- ``experiment``: runners from configs; train, test, train-and-test;
- ``inference``: load a model, predict samples;
- ``robustness``: the attacks of one budget for ``RobustnessTestLoop``,
  EroSeg's background classes;
- ``seg_backdoor``: segmentation backdoor experiment configs;
- ``export``: a poisoned copy of a segmentation dataset on disk;
- ``checkpoint``: a recognizer's backbone on its own;
- ``clean_label``: the clean-label video backdoor's attacker side (the
  training set as the attacker reads it, crafting the poison folder);
- ``video_backdoor``: the video backdoor's victim / evaluation configs and
  the chain as one recipe (demo, trigger-budget study).

``clean_label`` and ``video_backdoor`` need mmaction: their names are
imported here only when it is installed.
"""
from mmbackdoor.utils import is_installed
from .checkpoint import export_backbone
from .experiment import (build_runner, evaluate_checkpoint, set_data_root,
                         set_dataset_options, shrink_schedule, train_and_test,
                         train_model)
from .inference import load_model, load_test_samples, predict
from .robustness import background_classes, robustness_attacks
from .seg_backdoor import (SCHEDULE_KEYS, backdoor_experiment_config,
                           poison_transforms_cfg)

__all__ = [
    'SCHEDULE_KEYS', 'backdoor_experiment_config', 'background_classes',
    'build_runner', 'evaluate_checkpoint', 'export_backbone', 'load_model',
    'load_test_samples', 'poison_transforms_cfg', 'predict',
    'robustness_attacks', 'set_data_root', 'set_dataset_options',
    'shrink_schedule',
    'train_and_test', 'train_model'
]

if is_installed('mmaction'):
    from .clean_label import attack_dataset, craft_poison
    from .video_backdoor import backdoor_test_config, clean_label_config
    __all__ += [
        'attack_dataset', 'backdoor_test_config', 'clean_label_config',
        'craft_poison'
    ]
