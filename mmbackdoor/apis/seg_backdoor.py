"""Set up a segmentation backdoor experiment: a backdoor config adapted to a
poison rate, a data root and a reference schedule, trained and tested in one
process by :func:`mmbackdoor.apis.train_and_test`. Used by the demo and the
benchmarks."""
import copy
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmbackdoor.utils import dataset_cfgs, is_poison_transform
from .experiment import set_data_root

#: Config keys that define the model and its training schedule.
SCHEDULE_KEYS = ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                 'randomness')


def poison_transforms_cfg(cfg: Config) -> list:
    """The poisoning transform configs of ``cfg``'s training pipeline(s)."""
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        found = [
            t for dataset in dataset_cfgs(cfg.train_dataloader.dataset)
            for t in dataset.pipeline if is_poison_transform(t)
        ]
    if not found:
        raise ValueError('the config has no poisoning transform in its '
                         'training pipeline')
    return found


def backdoor_experiment_config(
        cfg: Config,
        rate: Optional[float] = None,
        data_root: Optional[str] = None,
        schedule_from: Optional[Config] = None,
        schedule_keys: Sequence[str] = SCHEDULE_KEYS,
        test_batch_size: Optional[int] = None) -> Config:
    """A copy of a backdoor config set up for one experiment.

    Args:
        cfg (Config): A backdoor config (poisoning transform in the training
            pipeline, ``BackdoorTestLoop`` as ``test_cfg``).
        rate (float, optional): Poison rate replacing the config's.
        data_root (str, optional): Dataset root for every dataloader.
        schedule_from (Config, optional): A reference config (e.g. the clean
            baseline actually trained) whose ``schedule_keys`` are copied, so
            the poisoned model is trained exactly like the clean one.
        schedule_keys (Sequence[str]): Keys copied from ``schedule_from``.
        test_batch_size (int, optional): Test batch size (whole-image
            inference on equally sized images gives the same metrics with
            any batch size, faster with larger ones).

    Returns:
        Config: The new config; validation during training is switched off
        (the model is tested once after training instead).
    """
    cfg = cfg.copy()
    if rate is not None:
        for poison in poison_transforms_cfg(cfg):
            poison.rate = rate
    if data_root is not None:
        set_data_root(cfg, data_root)
    if schedule_from is not None:
        for key in schedule_keys:
            cfg[key] = copy.deepcopy(schedule_from[key])
    if test_batch_size is not None:
        cfg.test_dataloader.batch_size = test_batch_size
    cfg.val_dataloader = None
    cfg.val_evaluator = None
    cfg.val_cfg = None
    cfg.train_cfg.pop('val_interval', None)
    return cfg
