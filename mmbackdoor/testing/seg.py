"""Tiny segmentation runs for tests: the shipped embedded configs on a
small embedded dataset (:func:`small_embedded_seg`)."""
import uuid
from typing import Optional

from mmengine.config import Config

from mmbackdoor.utils import dataset_cfgs


def small_embedded_seg(root: str) -> str:
    """A small embedded segmentation dataset in ``root`` (seed 0, 16 train
    and 6 val images of 32x32), generated unless already there."""
    from mmbackdoor.datasets.embedded_seg import generate_embedded_seg
    return generate_embedded_seg(
        root, num_train=16, num_val=6, img_size=32)


def tiny_seg_config(cfg: Config,
                    data_root: str,
                    work_dir: str,
                    iters: Optional[int] = 2,
                    val_interval: Optional[int] = None,
                    batch_size: int = 4) -> Config:
    """Shrink an embedded segmentation config for a unit test, in place.

    Every dataloader reads ``data_root`` (a :func:`small_embedded_seg`
    dataset: 32 px images, no generation) without workers; training takes
    ``iters`` iterations of ``batch_size``, validating every
    ``val_interval`` iterations (default ``iters``; larger: no validation),
    checkpointing at the end, the first scheduler's ``total_steps``
    covering both; ``iters=None`` leaves the schedule alone (test-only
    configs). The runner gets a unique experiment
    name, so runners built within one second do not share mmengine's
    global visualizer.
    """
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if not loader:
            continue
        loader.num_workers = 0
        loader.persistent_workers = False
        for dataset in dataset_cfgs(loader.dataset):
            dataset.data_root = data_root
            dataset.generate = False
    cfg.model.data_preprocessor.size = (32, 32)
    if iters is not None:
        cfg.train_dataloader.batch_size = batch_size
        cfg.train_cfg.max_iters = iters
        cfg.train_cfg.val_interval = val_interval or iters
        cfg.param_scheduler[0].total_steps = max(iters, val_interval or 0)
        cfg.default_hooks.checkpoint.interval = iters
    cfg.work_dir = work_dir
    cfg.experiment_name = f'test_{uuid.uuid4().hex[:8]}'
    return cfg
