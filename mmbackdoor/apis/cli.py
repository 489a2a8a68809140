"""The command-line conventions of OpenMMLab's ``tools/train.py`` and
``tools/test.py``, shared by our tools."""
import argparse
import json
import math
import numbers
import os
import os.path as osp
from typing import Any, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmbackdoor.datasets import check_dataloader_files


def add_cfg_options(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options key=value ...``, as the codebases' tools have it."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs')


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` (which also imports the config's
    ``custom_imports``) with ``cfg_options`` merged in."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local-rank``, as the codebases' tools have them."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    add_cfg_options(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def config_from_args(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the options of
    :func:`add_runner_args` (the work dir defaults to
    ``./work_dirs/<config name>``)."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def check_data(cfg: Config, mode: str) -> None:
    """Check, before the runner is built, that the real datasets the run
    reads (Cityscapes, ADE20K, Pascal VOC, ``RawframeDataset``,
    ``VideoDataset``; wrapped or not) are on disk where ``cfg`` says, so a
    wrong ``data_root`` fails with the path, its config key and the expected
    layout instead of deep inside a loader
    (:func:`~mmbackdoor.datasets.check_dataloader_files`).

    Args:
        cfg (Config): The full config.
        mode (str): ``'train'`` (the training loader, and the validation
            loader when there is a ``val_cfg``) or ``'test'`` (the test
            loader).

    Raises:
        FileNotFoundError: If a dataset's files are missing or empty.
    """
    if mode == 'train':
        loaders = ['train_dataloader']
        if cfg.get('val_cfg') is not None:
            loaders.append('val_dataloader')
    elif mode == 'test':
        loaders = ['test_dataloader']
    else:
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    check_dataloader_files(cfg, loaders)


def runner_from_cfg(cfg: Config) -> Runner:
    """The config's ``runner_type`` if it names one, else mmengine's
    :class:`Runner`."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def dump_json(data: Any, path: str) -> None:
    """Write ``data`` (metrics and the like) to ``path`` as strict JSON:
    numpy scalars as numbers, undefined metrics (NaN, e.g. an ASR over no
    pixels) as ``null`` — ``json.dump`` would write ``NaN``, which strict
    JSON readers reject."""

    def plain(value):
        if isinstance(value, dict):
            return {key: plain(v) for key, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, (bool, str)) or value is None:
            return value
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return None if math.isnan(value) else float(value)
        if hasattr(value, 'item'):  # numpy / torch scalars of other kinds
            return plain(value.item())
        return value

    with open(path, 'w') as f:
        json.dump(plain(data), f, indent=2, allow_nan=False)
