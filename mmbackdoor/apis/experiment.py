"""Thin helpers over :class:`mmengine.runner.Runner` for scripts that train
and test several models in one process (the demo, benchmarks)."""
import os.path as osp
import uuid
from typing import Dict, Iterator, Optional, Tuple

from mmengine.config import Config
from mmengine.runner import Runner, find_latest_checkpoint

from mmbackdoor.compat import one_pass_eval_workers, stop_loader_workers
from mmbackdoor.utils import dataset_cfgs


def build_runner(cfg: Config, work_dir: str, **overrides) -> Runner:
    """Build a runner from a copy of ``cfg`` writing into ``work_dir``.

    Its val / test loaders get non-persistent workers
    (:func:`mmbackdoor.compat.one_pass_eval_workers`). Every runner gets a
    unique ``experiment_name``: mmengine's visualizer and
    message hub are global instances keyed by that name, and two runners
    built within the same second would otherwise share them.

    Args:
        cfg (Config): A full mmseg / mmaction config.
        work_dir (str): Where logs and checkpoints go.
        **overrides: Top-level config keys to replace (e.g. ``load_from``).
    """
    cfg = cfg.copy()
    cfg.work_dir = work_dir
    cfg.experiment_name = f'{osp.basename(osp.normpath(work_dir))}_' \
                          f'{uuid.uuid4().hex[:8]}'
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(one_pass_eval_workers(cfg))


def _train(runner: Runner, work_dir: str) -> str:
    """Train ``runner``, stop its training loader's workers
    (:func:`mmbackdoor.compat.stop_loader_workers`) and return the last
    checkpoint's absolute path."""
    runner.train()
    stop_loader_workers(runner.train_loop.dataloader)
    ckpt = find_latest_checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(
            f'training wrote no checkpoint into {work_dir}; the config needs '
            'a CheckpointHook (default_hooks.checkpoint)')
    return osp.abspath(ckpt)


def train_model(cfg: Config, work_dir: str, **overrides) -> str:
    """Train ``cfg`` and return the path of the last checkpoint."""
    return _train(build_runner(cfg, work_dir, **overrides), work_dir)


def train_and_test(cfg: Config, work_dir: str) -> Tuple[Dict[str, float], str]:
    """Train ``cfg`` and test the trained model in the same runner (no
    checkpoint reload).

    Returns:
        tuple[dict, str]: The test metrics (with a backdoor test loop:
        ``CBA``, ``ASR``, ``clean/...``, ``triggered/...``) and the last
        checkpoint.
    """
    runner = build_runner(cfg, work_dir)
    checkpoint = _train(runner, work_dir)
    return dict(runner.test()), checkpoint


def evaluate_checkpoint(cfg: Config,
                        checkpoint: str,
                        work_dir: str,
                        test_cfg: Optional[dict] = None,
                        **overrides) -> dict:
    """Evaluate ``checkpoint`` with the test loop of ``cfg``.

    Args:
        cfg (Config): The config whose ``test_dataloader``, ``test_evaluator``
            and ``test_cfg`` are used.
        checkpoint (str): The checkpoint to load (safe loading).
        work_dir (str): Where logs go.
        test_cfg (dict, optional): Replaces ``cfg.test_cfg`` (e.g. a
            registered backdoor or robustness test loop).
        **overrides: Other top-level config keys to replace.

    Returns:
        dict: The metrics the test loop returns.
    """
    if test_cfg is not None:
        overrides['test_cfg'] = test_cfg
    runner = build_runner(cfg, work_dir, load_from=checkpoint, **overrides)
    return runner.test()


def _dataset_parts(cfg: Config) -> Iterator[dict]:
    """The dataset configs of every dataloader of ``cfg`` (each part of a
    ``ConcatDataset``, below any wrapper)."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset')
        yield from dataset_cfgs(dataset) if dataset else ()


def set_data_root(cfg: Config, data_root: str) -> Config:
    """Point the dataset of every dataloader of ``cfg`` at ``data_root``, in
    place."""
    for part in _dataset_parts(cfg):
        if 'data_root' in part:
            part.data_root = data_root
    return cfg


def set_dataset_options(cfg: Config, **options) -> Config:
    """Set ``options`` (e.g. generation arguments of an embedded dataset) on
    the dataset of every dataloader of ``cfg``, in place."""
    for part in _dataset_parts(cfg):
        part.update(options)
    return cfg


def shrink_schedule(cfg: Config, iters: int = 2) -> Config:
    """Cut the training schedule of ``cfg`` to a smoke test, in place:
    ``iters`` iterations (iteration-based loops) or one epoch, validated and
    checkpointed at the end."""
    loop = cfg.train_cfg
    if 'max_iters' in loop:
        loop.max_iters = loop.val_interval = iters
        cfg.default_hooks.checkpoint.interval = iters
    else:
        loop.max_epochs = loop.val_interval = 1
        loop.val_begin = 1
        cfg.default_hooks.checkpoint.interval = 1
    return cfg
