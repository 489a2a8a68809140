"""Run a segmentation backdoor experiment in one process: adapt a backdoor
config (poison rate, data root, a reference schedule), train it and test the
trained model with its clean + triggered test loop. Used by the demo and the
benchmarks."""
import copy
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.runner import find_latest_checkpoint

from mmbackdoor.apis import build_runner, set_data_root
from mmbackdoor.compat import stop_loader_workers

#: Config keys that define the model and its training schedule.
SCHEDULE_KEYS = ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                 'randomness')


def poison_transforms_cfg(cfg: Config) -> list:
    """The poisoning transform configs of ``cfg``'s training pipeline(s)."""
    dataset = cfg.train_dataloader.dataset
    datasets = dataset.datasets if 'datasets' in dataset else [dataset]
    found = []
    for dataset in datasets:
        while 'pipeline' not in dataset:
            dataset = dataset.dataset
        found += [t for t in dataset.pipeline if t.type.endswith('Poison')]
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


def train_and_test(cfg: Config, work_dir: str) -> Tuple[Dict[str, float], str]:
    """Train ``cfg`` and test the trained model in the same runner (no
    checkpoint reload).

    Returns:
        tuple[dict, str]: The test metrics (with a backdoor test loop:
        ``CBA``, ``ASR``, ``clean/...``, ``triggered/...``) and the last
        checkpoint.
    """
    runner = build_runner(cfg, work_dir)
    runner.train()
    stop_loader_workers(runner.train_loop.dataloader)
    metrics = runner.test()
    checkpoint = find_latest_checkpoint(work_dir)
    if checkpoint is None:
        raise RuntimeError(f'training wrote no checkpoint into {work_dir}')
    return dict(metrics), osp.abspath(checkpoint)
