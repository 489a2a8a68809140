"""Checkpoints laid out as the mmseg / mmaction model zoos publish them,
with the weights of a model built here (tests of the tools on model-zoo
files; downloading the real ones is not possible in CI).

What the published files hold (README, "Evaluate a model-zoo checkpoint"):

- **mmseg 0.x** (``download.openmmlab.com/mmsegmentation/v0.5/...``, the
  files the 1.x metafiles still point to for PSPNet, DeepLabV3, FCN ...):
  mmcv 1.x ``save_checkpoint`` writes ``{'meta', 'state_dict',
  'optimizer'}``; ``meta`` is the runner's meta (``env_info``: str,
  ``seed``: int, ``exp_name``: str), the ``checkpoint_config.meta`` of
  mmseg 0.x ``tools/train.py`` (``mmseg_version``: str, ``config``: the
  config as text, ``CLASSES``: tuple of str, ``PALETTE``: list of RGB lists),
  ``mmcv_version`` / ``time`` (``time.asctime()``) and ``epoch`` / ``iter``
  (ints), ``hook_msgs`` (``last_ckpt``: str) in later mmcv versions.
  ``tools/publish_model.py`` deletes ``optimizer``. The state dict is an
  ``OrderedDict`` (``_metadata`` attribute included).
- **mmaction 0.x** (``download.openmmlab.com/mmaction/recognition/...``):
  the same mmcv layout; ``meta`` has ``env_info``, ``seed``,
  ``config_name``, ``work_dir``, ``mmaction_version``, ``config`` (text),
  ``mmcv_version``, ``time``, ``epoch``, ``iter`` and, with the evaluation
  hook's ``save_best``, ``hook_msgs['best_score']``: a ``numpy.float64``
  (top-k accuracy), ``hook_msgs['best_ckpt']``: str.
- **mmseg 1.x** (mmengine ``Runner.save_checkpoint``; e.g. PIDNet, 2023):
  ``{'meta', 'state_dict', 'message_hub', 'param_schedulers'}``
  (``publish_model.py`` deletes only ``optimizer``). ``meta``: ``epoch``,
  ``iter``, ``cfg`` (text), ``seed``, ``experiment_name``, ``time``,
  ``mmengine_version`` and ``dataset_meta`` (``classes``, ``palette``,
  ``label_map``, ``reduce_zero_label``). ``message_hub``: ``log_scalars``
  (``HistoryBuffer`` objects over numpy arrays), ``runtime_info`` (the
  same entries plus loop state and the last validation metrics, numpy
  scalars) and ``resumed_keys``; ``param_schedulers``: the schedulers'
  ``__dict__`` (plain values).
- **mmaction 1.x** (``download.openmmlab.com/mmaction/v1.0/...``): its
  ``publish_model.py`` keeps ``meta`` and ``state_dict`` only, and drops
  ``data_preprocessor.mean`` / ``.std`` from the state dict.

Files of the 0.x era are written with the legacy (non-zip) serialization
and numpy 1.x global names (``numpy.core.multiarray.scalar``), as files
saved with torch < 1.6 / numpy 1.x pickle them; ``torch.load`` reads both.
"""
import os.path as osp
import pickle
import types
import uuid
from collections import OrderedDict
from typing import Optional, Sequence

import numpy as np
import torch

#: The formats :func:`zoo_checkpoint` writes.
FORMATS = ('mmseg-0.x', 'mmseg-1.x', 'mmaction-0.x', 'mmaction-1.x')

_ENV_INFO = ('sys.platform: linux\nPython: 3.7.6\nCUDA available: True\n'
             'GPU 0,1,2,3: Tesla V100-SXM2-32GB\nPyTorch: 1.5.0\n'
             'TorchVision: 0.6.0\nOpenCV: 4.2.0\nMMCV: 0.5.9')


def _numpy_core():
    return np._core if hasattr(np, '_core') else np.core


class _Numpy1Pickler(pickle._Pickler):
    """Pickles numpy's reconstruction functions under their numpy 1.x
    names, as checkpoints saved with numpy 1.x hold them."""

    def save_global(self, obj, name=None):
        multiarray = _numpy_core().multiarray
        for func in (multiarray._reconstruct, multiarray.scalar):
            if obj is func:
                self.write(pickle.GLOBAL + b'numpy.core.multiarray\n' +
                           func.__name__.encode() + b'\n')
                self.memoize(obj)
                return
        super().save_global(obj, name)


#: A ``pickle_module`` for ``torch.save`` with :class:`_Numpy1Pickler`.
_NUMPY1_PICKLE = types.ModuleType('numpy1_pickle')
_NUMPY1_PICKLE.Pickler = _Numpy1Pickler
_NUMPY1_PICKLE.dump = pickle.dump


def seg_dataset_meta(classes: Sequence[str], palette: Sequence) -> dict:
    """``dataset_meta`` of an mmseg 1.x ``BaseSegDataset`` (no label map)."""
    return dict(
        classes=tuple(classes),
        palette=[list(c) for c in palette],
        label_map=None,
        reduce_zero_label=False)


def _state_dict(model_or_state: object, drop: Sequence[str] = ()) -> dict:
    state = model_or_state.state_dict() if hasattr(
        model_or_state, 'state_dict') else model_or_state
    out = OrderedDict(
        (k, v.detach().cpu()) for k, v in state.items() if k not in drop)
    out._metadata = getattr(state, '_metadata', OrderedDict())
    return out


def _mmengine_meta(config_text: str, dataset_meta: dict, iters: int,
                   epochs: int, name: str) -> dict:
    import mmengine
    return dict(
        epoch=epochs,
        iter=iters,
        cfg=config_text,
        seed=1617553394,
        experiment_name=f'{name}_20230302_191700',
        time='20230303_114514',
        mmengine_version=mmengine.__version__,
        dataset_meta=dataset_meta)


def _message_hub(meta: dict, metrics: dict) -> dict:
    """A real ``MessageHub`` state dict with what mmengine's hooks put in
    it during training and validation."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance(f'zoo_{uuid.uuid4().hex[:8]}')
    for step in range(3):
        hub.update_scalar('train/lr', 0.01 * (1 - step / 3))
        hub.update_scalar('train/loss', 1.0 / (step + 1))
        hub.update_scalar('train/time', 0.31)
        hub.update_scalar('train/data_time', 0.02)
    for key, value in metrics.items():
        hub.update_scalar(f'val/{key}', value)
        hub.update_info(f'val/{key}', value)
    for key in ('cfg', 'seed', 'experiment_name', 'mmengine_version',
                'dataset_meta', 'epoch', 'iter'):
        hub.update_info(key, meta[key])
    hub.update_info('max_epochs', 1)
    hub.update_info('max_iters', meta['iter'])
    hub.update_info('loop_stage', 'train')
    hub.update_info('last_ckpt', f'work_dirs/iter_{meta["iter"]}.pth')
    return hub.state_dict()


def _poly_lr_state(iters: int) -> list:
    """``param_schedulers`` of mmseg's ``PolyLR`` schedules."""
    from mmengine.optim.scheduler import PolyLR
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01)
    scheduler = PolyLR(optimizer, eta_min=1e-4, power=0.9, begin=0,
                       end=iters, by_epoch=False)
    return [scheduler.state_dict()]


def zoo_checkpoint(fmt: str,
                   model,
                   path: str,
                   config_text: str = '',
                   dataset_meta: Optional[dict] = None,
                   name: str = 'model',
                   extra_meta: Optional[dict] = None) -> str:
    """Write ``model``'s weights to ``path`` as the model zoo's files of
    ``fmt`` hold them (module docstring).

    Args:
        fmt (str): One of :data:`FORMATS`.
        model: A model or its state dict.
        path (str): The file to write.
        config_text (str): The training config as text (``config`` of the
            0.x meta, ``cfg`` of the 1.x one).
        dataset_meta (dict, optional): ``classes`` / ``palette`` (mmseg) of
            the training set; mmaction 1.x files hold the dataset's
            ``metainfo``, empty for a plain ``VideoDataset``.
        name (str): The config name (``exp_name``, ``experiment_name``).
        extra_meta (dict, optional): Entries added to ``meta`` (e.g. a
            :class:`NotAllowListed`, to show that a load is safe).

    Returns:
        str: ``path``.
    """
    if fmt not in FORMATS:
        raise ValueError(f'fmt must be one of {FORMATS}, got {fmt!r}')
    dataset_meta = dict(dataset_meta or {})
    legacy = fmt.endswith('0.x')
    if fmt == 'mmseg-0.x':
        palette = dataset_meta.get('palette')
        meta = dict(
            env_info=_ENV_INFO,
            seed=None,
            exp_name=f'{name}.py',
            mmseg_version='0.5.0+b72a6d0',
            config=config_text,
            CLASSES=tuple(dataset_meta.get('classes', ())),
            PALETTE=[list(c) for c in palette] if palette is not None else
            None,
            mmcv_version='1.0.0',
            time='Fri Jun  5 00:33:38 2020',
            epoch=320,
            iter=80000,
            hook_msgs=dict(last_ckpt=f'work_dirs/{name}/iter_80000.pth'))
        checkpoint = dict(meta=meta, state_dict=_state_dict(model))
    elif fmt == 'mmaction-0.x':
        meta = dict(
            env_info=_ENV_INFO,
            seed=None,
            config_name=f'{name}.py',
            work_dir=name,
            mmaction_version='0.5.0+a4b5f5e',
            config=config_text,
            mmcv_version='0.6.0',
            time='Sun Jun 14 06:04:56 2020',
            epoch=100,
            iter=93700,
            hook_msgs=dict(
                last_ckpt=f'work_dirs/{name}/epoch_100.pth',
                best_score=np.float64(0.7268),
                best_ckpt=f'work_dirs/{name}/epoch_95.pth'))
        drop = [k for k in _state_dict(model) if
                k.startswith('data_preprocessor.')]
        checkpoint = dict(meta=meta, state_dict=_state_dict(model, drop))
    elif fmt == 'mmseg-1.x':
        meta = _mmengine_meta(config_text, dataset_meta, 80000, 0, name)
        metrics = dict(aAcc=np.float64(96.32), mIoU=np.float64(78.2),
                       mAcc=np.float64(85.9))
        checkpoint = dict(
            meta=meta,
            state_dict=_state_dict(model),
            message_hub=_message_hub(meta, metrics),
            param_schedulers=_poly_lr_state(80000))
    else:  # mmaction-1.x
        meta = _mmengine_meta(config_text, dataset_meta, 93700, 100, name)
        checkpoint = dict(
            meta=meta,
            state_dict=_state_dict(
                model, ('data_preprocessor.mean', 'data_preprocessor.std')))
    checkpoint['meta'].update(extra_meta or {})
    if legacy:
        torch.save(checkpoint, path, pickle_module=_NUMPY1_PICKLE,
                   _use_new_zipfile_serialization=False)
    else:
        torch.save(checkpoint, path)
    return path


def not_allow_listed() -> str:
    """What :class:`NotAllowListed` unpickles to: never reached by a safe
    load."""
    return 'loaded without weights_only'


class NotAllowListed:
    """Pickles as a call of :func:`not_allow_listed`, a global that no
    allow-list names: a file holding one fails ``weights_only=True``."""

    def __reduce__(self):
        return (not_allow_listed, ())


def describe(path: str) -> dict:
    """Top-level keys and ``meta`` entries of a checkpoint with their type
    names (what a safe load has to accept), loaded with
    ``weights_only=True``."""
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    meta = checkpoint.get('meta', {})
    return dict(
        keys=sorted(checkpoint),
        meta={k: type(v).__name__ for k, v in meta.items()},
        legacy_format=not _is_zip(path))


def _is_zip(path: str) -> bool:
    import zipfile
    return osp.isfile(path) and zipfile.is_zipfile(path)
