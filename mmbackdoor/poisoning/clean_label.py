"""Clean-label video backdoor (Zhao et al., CVPR 2020): the attacker's side.

"Clean-Label Backdoor Attacks on Video Recognition Models". The chain is

1. :func:`optimize_universal_trigger` -- a universal adversarial patch per
   frame, optimised on a clean recognizer so that non-target clips carrying
   it are classified as the target class;
2. :func:`enhance_clips` -- untargeted PGD on target-class clips, which
   removes their "natural" target features so that a model trained on them
   has to rely on the trigger;
3. :func:`craft_poison` -- picks a seeded fraction of the target-class
   training videos, enhances them, pastes the trigger and stores each clip
   losslessly with a JSON manifest that
   :class:`~mmbackdoor.datasets.transforms.CleanLabelPoison` reads at
   training time. Labels never change.

:func:`clean_label_config` / :func:`backdoor_test_config` turn a clean
mmaction config into the victim's / the evaluation config.

Everything works on the packed, *raw* model input (values in ``[0, 255]``,
before the data preprocessor), so perturbation budgets are in intensity
levels and gradients flow through the model's own data preprocessor. Both
mmaction layouts are handled: ``NCTHW`` (3D recognizers: I3D, C3D, SlowOnly;
a batch is ``B x V x C x T x H x W`` with ``V`` views) and ``NCHW`` (2D
recognizers: TSN, TSM; ``B x M x C x H x W`` with ``M`` frames, each frame a
clip of length one).
"""
import copy
import hashlib
import json
import os
import os.path as osp
import shutil
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import Tensor, nn
from torch.utils.data import DataLoader, Subset

from mmbackdoor.attacks.functional import (linf_bounds, linf_project,
                                           linf_step)
from mmbackdoor.poisoning.selection import sample_key, select_poisoned
from mmbackdoor.triggers.universal_trigger import corner_slices

#: Packed input layouts of mmaction recognizers.
FORMATS = ('NCHW', 'NCTHW')
#: Trigger losses: targeted cross-entropy, or the authors' variant.
TRIGGER_LOSSES = ('ce', 'ce_minus_pred')
#: File name of the manifest inside a poison folder.
MANIFEST_NAME = 'manifest.json'
#: Version of the manifest layout written by :func:`craft_poison`.
MANIFEST_VERSION = 1
#: Meta keys :func:`attack_dataset` adds to ``PackActionInputs``.
CRAFT_META_KEYS = ('frame_dir', 'filename', 'frame_inds')
#: Pipelines :func:`attack_dataset` can take from a config.
PIPELINES = ('val', 'test', 'train')


# --------------------------------------------------------------------------
# Packed model inputs
# --------------------------------------------------------------------------
def clip_view(inputs: Tensor, format_shape: str) -> Tensor:
    """View a packed batch as ``B x N x T x C x H x W`` clips.

    Args:
        inputs (Tensor): Packed raw inputs, ``B x V x C x T x H x W``
            (``NCTHW``) or ``B x M x C x H x W`` (``NCHW``).
        format_shape (str): One of :data:`FORMATS`.

    Returns:
        Tensor: A view (writes go to ``inputs``); for ``NCHW`` every frame is
        a clip of length one.
    """
    if format_shape == 'NCTHW' and inputs.ndim == 6:
        return inputs.transpose(2, 3)
    if format_shape == 'NCHW' and inputs.ndim == 5:
        return inputs.unsqueeze(2)
    raise ValueError(
        f'format_shape must be one of {FORMATS} with inputs of 6 (NCTHW) or '
        f'5 (NCHW) dims, got {format_shape!r} and shape {tuple(inputs.shape)}')


def paste_patches(inputs: Tensor, patches: Tensor, corner: str,
                  format_shape: str) -> Tensor:
    """Paste patch ``t`` on frame ``t`` of every clip of a packed batch.

    The tensor counterpart of
    :meth:`~mmbackdoor.triggers.UniversalTrigger.apply_clip`, differentiable
    with respect to ``patches`` (and to ``inputs`` outside the patch).

    Args:
        inputs (Tensor): Packed raw inputs (see :func:`clip_view`).
        patches (Tensor): ``T x C x s x s``; ``T`` equals the clip length or
            is 1 (static trigger).
        corner (str): ``'tl'``, ``'tr'``, ``'bl'`` or ``'br'``.
        format_shape (str): One of :data:`FORMATS`.

    Returns:
        Tensor: A new tensor; ``inputs`` is not modified.
    """
    out = inputs.clone()
    clips = clip_view(out, format_shape)
    clip_len, height, width = clips.shape[2], clips.shape[-2], clips.shape[-1]
    if patches.shape[0] not in (1, clip_len):
        raise ValueError(f'the trigger has {patches.shape[0]} per-frame '
                         f'patches, the clips {clip_len} frames')
    rows, cols = corner_slices(height, width, patches.shape[-1], corner)
    clips[..., rows, cols] = patches.to(out.dtype)
    return out


def unpack_frames(sample_inputs: Tensor, format_shape: str) -> np.ndarray:
    """Undo ``FormatShape`` for one packed sample.

    Args:
        sample_inputs (Tensor): ``V x C x T x H x W`` (``NCTHW``) or
            ``M x C x H x W`` (``NCHW``), values in ``[0, 255]``.
        format_shape (str): One of :data:`FORMATS`.

    Returns:
        np.ndarray: ``uint8`` frames ``F x H x W x C`` in the order of
        ``results['imgs']`` before ``FormatShape`` (crops x clips x T).
    """
    frames = clip_view(sample_inputs[None], format_shape)[0]
    frames = frames.flatten(0, 1).permute(0, 2, 3, 1)
    return frames.detach().round().clamp(0, 255).to(
        torch.uint8).cpu().numpy()


def patches_to_tensor(patches: np.ndarray) -> Tensor:
    """``T x s x s x C`` array -> ``T x C x s x s`` float tensor."""
    return torch.from_numpy(np.array(patches)).permute(0, 3, 1, 2).float()


def recognizer_logits(model: nn.Module, inputs: Tensor,
                      data_samples: list) -> Tensor:
    """Class scores of a recognizer on raw inputs, through its preprocessor.

    Args:
        model (nn.Module): An mmaction recognizer (``Recognizer2D`` /
            ``Recognizer3D``), unwrapped.
        inputs (Tensor): Packed raw inputs ``B x ...`` (float).
        data_samples (list): The batch's data samples.

    Returns:
        Tensor: ``B x N x K`` logits, ``N`` views per sample (2D heads fuse
        their segments, so ``N = 1`` there).
    """
    data = model.data_preprocessor(
        dict(inputs=list(inputs), data_samples=data_samples), False)
    scores = model(data['inputs'], data['data_samples'], mode='tensor',
                   stage='head')
    return scores.view(inputs.shape[0], -1, scores.shape[-1])


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Switch ``model`` to eval mode (BN statistics frozen, no dropout)
    and restore its mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _batch_inputs(batch: dict, device: torch.device) -> Tensor:
    """Stack a pseudo-collated batch's inputs as a float tensor."""
    return torch.stack(list(batch['inputs'])).to(device=device,
                                                 dtype=torch.float32)


def _labels(data_samples: list, device: torch.device) -> Tensor:
    return torch.cat([ds.gt_label.view(-1) for ds in data_samples]).to(device)


# --------------------------------------------------------------------------
# Step 1: universal adversarial trigger
# --------------------------------------------------------------------------
def trigger_loss(logits: Tensor,
                 target_class: int,
                 loss: str = 'ce') -> Tensor:
    """The loss the trigger descends.

    ``'ce'``: :math:`L = CE(f(x \\oplus p), y_t)`.
    ``'ce_minus_pred'``: :math:`L = CE(f(x \\oplus p), y_t) -
    CE(f(x \\oplus p), \\hat y)`, with :math:`\\hat y` the model's current
    prediction on the same triggered clip (detached). The authors' code
    subtracted the cross-entropy towards the prediction of the *previous*
    step (batch size 1, so a different clip); with batches the prediction of
    the same clip is the analogue. Clips already classified as the target
    contribute zero.

    Args:
        logits (Tensor): ``B x N x K``.
        target_class (int): The target class :math:`y_t`.
        loss (str): One of :data:`TRIGGER_LOSSES`.

    Returns:
        Tensor: Scalar loss (mean over clips and views).
    """
    flat = logits.flatten(0, 1)
    target = torch.full((flat.shape[0], ), target_class, dtype=torch.long,
                        device=flat.device)
    value = F.cross_entropy(flat, target)
    if loss == 'ce':
        return value
    if loss == 'ce_minus_pred':
        return value - F.cross_entropy(flat, flat.argmax(1).detach())
    raise ValueError(f'loss must be one of {TRIGGER_LOSSES}, got {loss!r}')


def optimize_universal_trigger(model: nn.Module,
                               batches: Iterator[dict],
                               target_class: int,
                               size: int,
                               steps: int,
                               corner: str = 'br',
                               static: bool = False,
                               loss: str = 'ce',
                               step_size: float = 1.0,
                               init_value: float = 128.0,
                               progress: bool = True,
                               log_interval: int = 0,
                               snapshot_steps: Sequence[int] = ()
                               ) -> Tuple[np.ndarray, dict]:
    """Optimise a universal per-frame patch towards ``target_class``.

    Zhao et al. (2020), Sec. 3.2: with :math:`p` the patches pasted at a
    fixed corner of every frame, each step takes one batch of non-target
    training clips and updates

    .. math:: p \\leftarrow \\mathrm{clip}_{[0, 255]}\\big(p - \\alpha \\,
        \\mathrm{sign}(\\nabla_p L(f(x \\oplus p), y_t))\\big)

    (no :math:`\\epsilon`-ball). With the default integer start and
    ``step_size=1`` the patches stay integers, so the ``uint8`` result is
    exactly the optimised trigger. The model runs in eval mode; parameter
    gradients are never touched.

    Args:
        model (nn.Module): Clean recognizer (unwrapped).
        batches (Iterator[dict]): Endless iterator of pseudo-collated
            batches (``inputs``: list of packed raw clips) of non-target
            training videos, e.g. from an ``InfiniteSampler`` dataloader.
        target_class (int): Class the trigger should cause.
        size (int): Side ``s`` of the square patch, in model-input pixels.
        steps (int): Number of update steps (one batch each).
        corner (str): ``'tl'``, ``'tr'``, ``'bl'`` or ``'br'``.
            Defaults to ``'br'``.
        static (bool): One patch for all frames instead of one per frame.
            2D (``NCHW``) recognizers always get one patch (their clips are
            single frames). Defaults to False.
        loss (str): See :func:`trigger_loss`. Defaults to ``'ce'``.
        step_size (float): :math:`\\alpha` in intensity levels.
            Defaults to 1.0.
        init_value (float): Start value of every patch pixel (mid-grey, as
            the authors). Defaults to 128.0.
        progress (bool): Show an mmengine progress bar. Defaults to True.
        log_interval (int): Every this many steps, log the share of the
            last ``log_interval`` steps' clips sent to the target and their
            mean loss (0: never). Defaults to 0.
        snapshot_steps (Sequence[int]): Steps after which a copy of the
            trigger is kept: a run of ``steps`` yields the triggers of every
            shorter budget of the same batch stream (a budget study in one
            run). Defaults to ().

    Returns:
        tuple[np.ndarray, dict]: The trigger ``T x s x s x C`` (``uint8``)
        and its progress: ``success`` (per step, the share of the step's
        clips that the trigger before the step sent to the target class),
        ``loss`` (per step) and ``snapshots`` (step -> ``uint8`` trigger).
    """
    if loss not in TRIGGER_LOSSES:
        raise ValueError(f'loss must be one of {TRIGGER_LOSSES}, got {loss!r}')
    if size < 1 or steps < 1 or step_size <= 0:
        raise ValueError('need size >= 1, steps >= 1 and step_size > 0, got '
                         f'size={size}, steps={steps}, step_size={step_size}')
    if not all(1 <= k <= steps for k in snapshot_steps):
        raise ValueError(f'snapshot_steps must lie in [1, steps={steps}], '
                         f'got {list(snapshot_steps)}')
    check_target_class(model, target_class)
    format_shape = model.data_preprocessor.format_shape
    device = next(model.parameters()).device
    patches = None
    history = dict(success=[], loss=[], snapshots={})
    bar = ProgressBar(steps) if progress else None
    with eval_mode(model):
        for step in range(1, steps + 1):
            batch = next(batches)
            inputs = _batch_inputs(batch, device)
            if patches is None:
                clips = clip_view(inputs, format_shape)
                clip_len, channels, height, width = clips.shape[2:]
                if size > min(height, width):
                    raise ValueError(
                        f'size={size} is larger than the model input '
                        f'{height}x{width}; allowed: size <= '
                        f'{min(height, width)}')
                patches = torch.full(
                    (1 if static else clip_len, channels, size, size),
                    float(init_value), device=device)
            patches.requires_grad_(True)
            logits = recognizer_logits(
                model, paste_patches(inputs, patches, corner, format_shape),
                batch['data_samples'])
            value = trigger_loss(logits, target_class, loss)
            grad, = torch.autograd.grad(value, patches)
            history['success'].append(
                (logits.argmax(-1) == target_class).float().mean().item())
            history['loss'].append(value.item())
            patches = linf_step(
                patches.detach(), grad, step_size, ascend=False).clamp_(0, 255)
            if step in snapshot_steps:
                history['snapshots'][step] = _trigger_array(patches)
            if bar is not None:
                bar.update()
            if log_interval and step % log_interval == 0:
                window = slice(-log_interval, None)
                print_log(
                    f'trigger step {step}/{steps}: last {log_interval} '
                    'steps sent '
                    f'{100 * np.mean(history["success"][window]):.1f} % of '
                    'their clips to the target, loss '
                    f'{np.mean(history["loss"][window]):.4f}',
                    logger='current')
    if bar is not None:
        bar.file.write('\n')
    return _trigger_array(patches), history


def _trigger_array(patches: Tensor) -> np.ndarray:
    """``T x C x s x s`` float patches -> ``T x s x s x C`` ``uint8``."""
    return patches.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def progress_summary(history: dict, interval: int) -> dict:
    """Means of :func:`optimize_universal_trigger`'s per-step ``success``
    (in %) and ``loss`` over consecutive windows of ``interval`` steps, as
    stored next to a trigger: ``dict(interval, step, success, loss)``,
    ``step`` the last step of each window."""
    num = len(history['success'])
    ends = list(range(interval, num + 1, interval))
    if not ends or ends[-1] != num:
        ends.append(num)
    starts = [0] + ends[:-1]
    return dict(
        interval=interval,
        step=ends,
        success=[
            round(100 * float(np.mean(history['success'][a:b])), 2)
            for a, b in zip(starts, ends)
        ],
        loss=[
            round(float(np.mean(history['loss'][a:b])), 4)
            for a, b in zip(starts, ends)
        ])


def random_trigger(num_frames: int, size: int, seed: int,
                   channels: int = 3) -> np.ndarray:
    """A uniformly random (non-adversarial) trigger of the same form, the
    paper's control: ``T x s x s x C`` ``uint8`` drawn from ``seed``."""
    return np.random.default_rng(seed).integers(
        0, 256, (num_frames, size, size, channels), dtype=np.uint8)


def save_trigger(out_file: str, patches: np.ndarray, meta: dict) -> None:
    """Store a trigger losslessly: ``out_file`` (``.npy``), its settings
    next to it (``.json``, read by ``UniversalTrigger``) and a preview strip
    (``.png``, patch ``t`` left to right, enlarged).

    Args:
        out_file (str): Path ending in ``.npy``; never overwritten.
        patches (np.ndarray): ``T x s x s x C`` ``uint8`` (RGB).
        meta (dict): JSON-serialisable settings (must include ``corner``).

    Raises:
        FileExistsError: If any of the three files exists.
    """
    if not out_file.endswith('.npy'):
        raise ValueError(f'the trigger file must end with .npy, got '
                         f'{out_file!r}')
    base = osp.splitext(out_file)[0]
    files = [out_file, base + '.json', base + '.png']
    existing = [f for f in files if osp.exists(f)]
    if existing:
        raise FileExistsError(f'{existing} already exist; triggers are never '
                              'overwritten: choose a new --out')
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    np.save(out_file, patches, allow_pickle=False)
    with open(base + '.json', 'w') as f:
        json.dump(dict(meta, shape=list(patches.shape)), f, indent=2)
    scale = max(1, int(np.ceil(48 / patches.shape[1])))
    big = patches.repeat(scale, axis=1).repeat(scale, axis=2)
    gap = np.full((big.shape[1], 2, big.shape[3]), 255, np.uint8)
    strip = np.concatenate(
        [piece for patch in big for piece in (patch, gap)][:-1], axis=1)
    cv2.imwrite(base + '.png', strip[..., ::-1])


# --------------------------------------------------------------------------
# Step 2: enhancement of target-class clips
# --------------------------------------------------------------------------
def enhance_clips(model: nn.Module,
                  inputs: Tensor,
                  data_samples: list,
                  eps: float = 8.0,
                  step_size: float = 1.0,
                  steps: int = 10) -> Tensor:
    """Untargeted :math:`\\ell_\\infty` PGD on raw clips (Zhao et al., Sec.
    3.3), increasing the loss of the true class:

    .. math:: x_{k+1} = \\mathrm{clip}_{[0, 255]}\\big(\\mathrm{clip}_{x_0
        \\pm \\epsilon}(x_k + \\alpha\\,\\mathrm{sign}\\nabla_x
        CE(f(x_k), y))\\big)

    No random start (as the authors). The model runs in eval mode and
    parameter gradients are never touched.

    Args:
        model (nn.Module): Clean recognizer (unwrapped).
        inputs (Tensor): Packed raw clips ``B x ...`` in ``[0, 255]``.
        data_samples (list): Their data samples (``gt_label`` is used).
        eps (float): :math:`\\epsilon` in intensity levels. Defaults to 8.
        step_size (float): :math:`\\alpha` in intensity levels.
            Defaults to 1.
        steps (int): Number of steps; 0 returns a copy of ``inputs``.
            Defaults to 10.

    Returns:
        Tensor: The enhanced clips, same shape; ``inputs`` is not modified.
    """
    inputs = inputs.detach().float()
    labels = _labels(data_samples, inputs.device)
    lower, upper = linf_bounds(inputs, eps)
    adv = inputs.clone()
    with eval_mode(model):
        for _ in range(steps):
            adv.requires_grad_(True)
            logits = recognizer_logits(model, adv, data_samples)
            value = F.cross_entropy(
                logits.flatten(0, 1),
                labels.repeat_interleave(logits.shape[1]))
            grad, = torch.autograd.grad(value, adv)
            adv = linf_project(
                linf_step(adv.detach(), grad, step_size), lower, upper)
    return adv.detach()


# --------------------------------------------------------------------------
# Step 3: selection, crafting, manifest
# --------------------------------------------------------------------------
def video_path(info: dict) -> str:
    """The frame folder (``RawframeDataset``) or file (``VideoDataset``)
    of a video's data info or results dict."""
    for name in ('frame_dir', 'filename'):
        if info.get(name):
            return info[name]
    raise KeyError('a video needs a "frame_dir" (RawframeDataset) or '
                   '"filename" (VideoDataset)')


def dataset_root(dataset) -> str:
    """The folder video paths of ``dataset`` are relative to (its data
    prefix)."""
    prefix = getattr(dataset, 'data_prefix', None) or {}
    return next((p for p in prefix.values() if p), '')


def _labels_of(dataset) -> List[int]:
    labels = []
    for i in range(len(dataset)):
        label = dataset.get_data_info(i)['label']
        if not isinstance(label, (int, np.integer)):
            raise ValueError('clean-label poisoning needs single-label '
                             f'datasets; video {i} has label {label!r}')
        labels.append(int(label))
    return labels


def class_indices(dataset, target_class: int,
                  same: bool = True) -> List[int]:
    """Indices of the dataset's videos of (``same=True``) or not of
    ``target_class``."""
    return [
        i for i, label in enumerate(_labels_of(dataset))
        if (label == target_class) == same
    ]


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def check_output_dir(out_dir: str, sources: Sequence[str] = ()) -> None:
    """Refuse to overwrite ``out_dir`` or to write inside a source folder.

    Args:
        out_dir (str): Where poisoned data would go.
        sources (Sequence[str]): Folders of the clean dataset.

    Raises:
        FileExistsError: If ``out_dir`` exists and is not empty.
        ValueError: If ``out_dir`` lies inside (or is) a source folder.
    """
    if osp.isdir(out_dir) and os.listdir(out_dir) or osp.isfile(out_dir):
        raise FileExistsError(
            f'{out_dir!r} already exists and is not empty; poisoned data is '
            'never overwritten: choose a new --out')
    out_real = osp.realpath(out_dir)
    for src in sources:
        if not src:
            continue
        src_real = osp.realpath(src)
        if out_real == src_real or out_real.startswith(src_real + os.sep):
            raise ValueError(
                f'{out_dir!r} lies inside the source dataset folder {src!r}; '
                'write poisoned clips elsewhere')


def check_trigger_fits(trigger, sample_inputs: Tensor,
                       format_shape: str) -> None:
    """Raise if ``trigger`` does not fit the clips of one packed sample
    (frame count, size, channels), before anything is written."""
    clips = clip_view(sample_inputs[None], format_shape)
    clip_len, channels, height, width = clips.shape[2:]
    trigger.check_fits((height, width, channels))
    if trigger.num_frames not in (1, clip_len):
        raise ValueError(
            f'the trigger {trigger.trigger_file!r} has {trigger.num_frames} '
            f'per-frame patches but the pipeline yields clips of {clip_len} '
            'frames')


def _write_clips(model: nn.Module, dataset, indices: List[int], trigger,
                 out_dir: str, root: str, eps: float, step_size: float,
                 steps: int, batch_size: int, num_workers: int,
                 progress: bool) -> List[dict]:
    """Enhance, trigger and save the clips of ``dataset[indices]``; return
    their manifest entries."""
    format_shape = model.data_preprocessor.format_shape
    device = next(model.parameters()).device
    patches = None if trigger is None else patches_to_tensor(
        trigger.patches).to(device)
    loader = DataLoader(
        Subset(dataset, indices),
        batch_size=batch_size,
        num_workers=num_workers,
        shuffle=False,
        collate_fn=pseudo_collate)
    videos = []
    bar = ProgressBar(len(indices)) if progress and indices else None
    for batch in loader:
        adv = enhance_clips(model, _batch_inputs(batch, device),
                            batch['data_samples'], eps, step_size, steps)
        if patches is not None:
            adv = paste_patches(adv, patches, trigger.corner, format_shape)
        for sample, data_sample in zip(adv, batch['data_samples']):
            meta = data_sample.metainfo
            if 'frame_inds' not in meta:
                raise KeyError('the crafting pipeline must pack "frame_inds" '
                               '(PackActionInputs meta_keys)')
            name = f'clips/{len(videos):05d}.npy'
            np.save(
                osp.join(out_dir, name),
                unpack_frames(sample, format_shape),
                allow_pickle=False)
            videos.append(
                dict(
                    video=sample_key(video_path(meta), root),
                    label=int(data_sample.gt_label.item()),
                    frame_inds=[int(i) for i in meta['frame_inds']],
                    file=name,
                    sha256=_sha256(osp.join(out_dir, name))))
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.file.write('\n')
    return videos


def craft_poison(model: nn.Module,
                 dataset,
                 target_class: int,
                 out_dir: str,
                 trigger=None,
                 rate: float = 0.3,
                 eps: float = 8.0,
                 step_size: float = 1.0,
                 steps: int = 10,
                 seed: int = 0,
                 batch_size: int = 4,
                 num_workers: int = 0,
                 extra: Optional[dict] = None,
                 progress: bool = True) -> dict:
    """Craft and store the poisoned target-class clips (Zhao et al., 2020).

    Selects ``round(rate * n)`` of the ``n`` target-class videos with
    :func:`~mmbackdoor.poisoning.selection.select_poisoned` (a pure function
    of the seed and the videos' paths relative to the data prefix),
    runs :func:`enhance_clips` on the clip the dataset's (deterministic)
    pipeline yields for each, pastes ``trigger``, and saves every clip as a
    ``uint8`` ``.npy`` (``F x H x W x C``, the ``results['imgs']`` layout)
    under ``out_dir/clips/`` plus ``out_dir/manifest.json``. The manifest is
    written last, so an interrupted run leaves no usable folder.

    Args:
        model (nn.Module): The clean recognizer (unwrapped).
        dataset: The clean training set, with a deterministic pipeline that
            yields the clips to store (e.g. the val pipeline) and ends with
            ``PackActionInputs`` whose ``meta_keys`` include ``frame_dir`` or
            ``filename`` and ``frame_inds``.
        target_class (int): The target class.
        out_dir (str): New (or empty) folder; never inside the dataset.
        trigger (UniversalTrigger, optional): Pasted after enhancement;
            None stores enhanced clips without a trigger. Defaults to None.
        rate (float): Fraction of target-class videos. Defaults to 0.3.
        eps (float): PGD budget in intensity levels. Defaults to 8.
        step_size (float): PGD step in intensity levels. Defaults to 1.
        steps (int): PGD steps; 0 disables enhancement. Defaults to 10.
        seed (int): Selection seed. Defaults to 0.
        batch_size (int): Clips per PGD batch. Defaults to 4.
        num_workers (int): Data loading workers. Defaults to 0.
        extra (dict, optional): More entries for the manifest (config,
            checkpoint, ...). Defaults to None.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: The manifest.
    """
    if not 0 <= rate <= 1:
        raise ValueError(f'rate must be in [0, 1], got {rate!r}')
    if eps < 0 or step_size <= 0 or steps < 0:
        raise ValueError('need eps >= 0, step_size > 0 and steps >= 0, got '
                         f'eps={eps}, step_size={step_size}, steps={steps}')
    check_target_class(model, target_class)
    root = dataset_root(dataset)
    check_output_dir(out_dir, [root, getattr(dataset, 'data_root', '')])
    targets = class_indices(dataset, target_class)
    if not targets:
        raise ValueError(f'the dataset has no video of target_class '
                         f'{target_class}')
    keys = [
        sample_key(video_path(dataset.get_data_info(i)), root)
        for i in targets
    ]
    chosen = set(select_poisoned(keys, rate, seed))
    indices = [i for i, k in zip(targets, keys) if k in chosen]
    format_shape = model.data_preprocessor.format_shape
    if trigger is not None and indices:
        check_trigger_fits(trigger, dataset[indices[0]]['inputs'],
                           format_shape)
    created = not osp.isdir(out_dir)
    os.makedirs(osp.join(out_dir, 'clips'), exist_ok=True)
    try:
        videos = _write_clips(model, dataset, indices, trigger, out_dir, root,
                              eps, step_size, steps, batch_size, num_workers,
                              progress)
    except BaseException:
        shutil.rmtree(osp.join(out_dir, 'clips'), ignore_errors=True)
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    clip_shape = None if not videos else list(
        load_clip(out_dir, videos[0]).shape)
    manifest = dict(
        version=MANIFEST_VERSION,
        attack='clean_label_video',
        target_class=target_class,
        rate=rate,
        seed=seed,
        eps=eps,
        step_size=step_size,
        steps=steps,
        format_shape=format_shape,
        num_target_videos=len(targets),
        clip_shape=clip_shape,
        trigger=None if trigger is None else dict(
            file=osp.abspath(trigger.trigger_file),
            sha256=_sha256(trigger.trigger_file),
            corner=trigger.corner,
            num_frames=trigger.num_frames,
            size=trigger.size),
        videos=videos)
    manifest.update(extra or {})
    tmp = osp.join(out_dir, MANIFEST_NAME + '.tmp')
    with open(tmp, 'w') as f:
        json.dump(manifest, f, indent=2)
    os.replace(tmp, osp.join(out_dir, MANIFEST_NAME))
    return manifest


def load_manifest(poison_dir: str, verify: bool = True) -> dict:
    """Read and validate a poison folder written by :func:`craft_poison`.

    Args:
        poison_dir (str): The folder.
        verify (bool): Also check every clip's ``.npy`` header (shape,
            ``uint8``) and SHA-256 against the manifest. Defaults to True.

    Returns:
        dict: The manifest.

    Raises:
        FileNotFoundError: If the folder, manifest or a clip is missing.
        ValueError: If the manifest or a clip is corrupt.
    """
    path = osp.join(poison_dir, MANIFEST_NAME)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'poison_dir {poison_dir!r} has no {MANIFEST_NAME}; create it '
            'with tools/video/craft_poison.py')
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'corrupt manifest {path!r}: {err}') from err
    required = dict(version=int, target_class=int, clip_shape=(list,
                                                               type(None)),
                    videos=list)
    for name, kind in required.items():
        if not isinstance(manifest, dict) or not isinstance(
                manifest.get(name), kind):
            raise ValueError(f'corrupt manifest {path!r}: missing or '
                             f'malformed key {name!r}')
    if manifest['version'] != MANIFEST_VERSION:
        raise ValueError(f'manifest {path!r} has version '
                         f'{manifest["version"]}; this mmbackdoor reads '
                         f'version {MANIFEST_VERSION}')
    seen = set()
    for entry in manifest['videos']:
        if not (isinstance(entry, dict) and isinstance(entry.get('video'), str)
                and isinstance(entry.get('file'), str)
                and isinstance(entry.get('frame_inds'), list)
                and isinstance(entry.get('label'), int)):
            raise ValueError(
                f'corrupt manifest {path!r}: every video needs "video", '
                f'"file", "frame_inds" and "label"; got {entry!r}')
        if entry['video'] in seen:
            raise ValueError(f'corrupt manifest {path!r}: video '
                             f'{entry["video"]!r} listed twice')
        seen.add(entry['video'])
        if verify:
            _verify_clip(poison_dir, entry, manifest['clip_shape'])
    return manifest


def _verify_clip(poison_dir: str, entry: dict, clip_shape: list) -> None:
    file = osp.join(poison_dir, entry['file'])
    if not osp.isfile(file):
        raise FileNotFoundError(
            f'poisoned clip {file!r} of video {entry["video"]!r} is missing')
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0
    }
    with open(file, 'rb') as f:
        try:
            reader = readers[np.lib.format.read_magic(f)]
            shape, _, dtype = reader(f)
        except (ValueError, KeyError) as err:
            raise ValueError(f'poisoned clip {file!r} is not a readable '
                             f'.npy file: {err!r}') from err
    if list(shape) != clip_shape or dtype != np.uint8:
        raise ValueError(
            f'poisoned clip {file!r} holds {dtype} {shape}; the manifest '
            f'says uint8 {tuple(clip_shape)}')
    if 'sha256' in entry and _sha256(file) != entry['sha256']:
        raise ValueError(f'poisoned clip {file!r} does not match the SHA-256 '
                         'in the manifest (modified or corrupt)')


def load_clip(poison_dir: str, entry: dict) -> np.ndarray:
    """Load one stored poisoned clip (``F x H x W x C`` ``uint8``)."""
    return np.load(osp.join(poison_dir, entry['file']), allow_pickle=False)


def manifest_lookup(manifest: dict) -> Dict[str, dict]:
    """Manifest entries keyed by video identity."""
    return {entry['video']: entry for entry in manifest['videos']}


# --------------------------------------------------------------------------
# Config glue shared by the tools and the demo
# --------------------------------------------------------------------------
def attack_dataset(cfg: Config, pipeline: str = 'val'):
    """The clean training set of ``cfg`` loaded with another pipeline.

    The attacker optimises on training videos but reads them like the
    evaluation does (``pipeline='val'``: one deterministic clip, centre
    crop), or with the training augmentation (``'train'``). The pipeline's
    ``PackActionInputs`` also packs :data:`CRAFT_META_KEYS`.

    Args:
        cfg (Config): A clean mmaction config.
        pipeline (str): Which dataloader's pipeline: one of
            :data:`PIPELINES`. Defaults to ``'val'``.

    Returns:
        BaseActionDataset: The fully initialised dataset.
    """
    if pipeline not in PIPELINES:
        raise ValueError(
            f'pipeline must be one of {PIPELINES}, got {pipeline!r}')
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    while 'dataset' in dataset_cfg:  # RepeatDataset and similar wrappers
        dataset_cfg = dataset_cfg.dataset
    steps = copy.deepcopy(cfg[f'{pipeline}_dataloader'].dataset.pipeline)
    pack = steps[-1] if steps else {}
    if pack.get('type') not in ('PackActionInputs',
                                'mmaction.PackActionInputs'):
        raise ValueError(f'the {pipeline} pipeline must end with '
                         'PackActionInputs')
    pack['meta_keys'] = tuple(pack.get('meta_keys', ('img_shape', ))) + \
        CRAFT_META_KEYS
    dataset_cfg.pipeline = steps
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmaction')):
        dataset = DATASETS.build(dataset_cfg)
    dataset.full_init()
    return dataset


def endless_batches(dataset, indices: Sequence[int], batch_size: int,
                    seed: int, num_workers: int = 0) -> Iterator[dict]:
    """Shuffled, endless, seeded batches of ``dataset[indices]``.

    ``torch.utils.data.Subset`` rather than ``BaseDataset.get_subset``:
    mmengine 0.10.7's ``_copy_without_annotation(memo=dict())`` shares its
    deepcopy memo between calls, so a second subset of the same process can
    receive stale objects (a transform replaced by an old dataset).
    """
    if not indices:
        raise ValueError('no videos to draw batches from')
    loader = Runner.build_dataloader(
        dict(
            dataset=Subset(dataset, list(indices)),
            sampler=dict(type='InfiniteSampler', shuffle=True, seed=seed),
            batch_size=batch_size,
            num_workers=num_workers,
            collate_fn=dict(type='pseudo_collate')),
        seed=seed)
    return iter(loader)


def check_target_class(model: nn.Module, target_class: int) -> None:
    """Raise if ``target_class`` is not a class of ``model``'s head."""
    num_classes = model.cls_head.num_classes
    if not isinstance(target_class, int) or not \
            0 <= target_class < num_classes:
        raise ValueError(f'target_class must be an int in [0, '
                         f'{num_classes - 1}] (the model has {num_classes} '
                         f'classes), got {target_class!r}')


def _pipeline_of(dataset_cfg: dict) -> list:
    while 'pipeline' not in dataset_cfg and 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg['pipeline']


def _clip_len_of(pipeline: list) -> Optional[int]:
    """``clip_len`` of the pipeline's ``SampleFrames`` (None if absent)."""
    for step in pipeline:
        if str(step.get('type')).split('.')[-1] == 'SampleFrames':
            return int(step['clip_len'])
    return None


def backdoor_test_config(cfg: Config, trigger_file: str,
                         target_class: int) -> Config:
    """``cfg`` evaluated on clean and triggered test videos in one run.

    Sets ``BackdoorValLoop`` / ``BackdoorTestLoop`` (the trigger pasted
    before ``FormatShape``) with ``ActionBackdoorMetric``: the loops report
    ``top1`` (clean top-1, ``clean/top1``), ``ASR`` (``triggered/ASR``) and
    ``clean/ASR`` (target predictions without the trigger).

    Args:
        cfg (Config): An mmaction recognizer config.
        trigger_file (str): The ``UniversalTrigger`` file.
        target_class (int): The target class.

    Returns:
        Config: A modified deep copy.
    """
    cfg = copy.deepcopy(cfg)
    trigger = dict(
        type='UniversalTrigger',
        trigger_file=trigger_file,
        clip_len=_clip_len_of(_pipeline_of(cfg.test_dataloader.dataset)))
    summary = [('top1', 'clean/top1'), ('ASR', 'triggered/ASR')]
    evaluator = dict(type='ActionBackdoorMetric', target_class=target_class)
    cfg.val_cfg = dict(type='BackdoorValLoop', trigger=trigger,
                       summary=summary)
    cfg.test_cfg = dict(type='BackdoorTestLoop', trigger=trigger,
                        summary=summary)
    cfg.val_evaluator = evaluator
    cfg.test_evaluator = evaluator
    return cfg


def clean_label_config(cfg: Config, poison_dir: str, trigger_file: str,
                       target_class: int) -> Config:
    """The victim's config: ``cfg`` trained on the clean-label poisoned set.

    ``CleanLabelPoison(poison_dir)`` goes right before ``FormatShape`` of the
    training pipeline, the training set is wrapped in ``PoisonedDataset``
    (which checks the manifest against it), and evaluation is
    :func:`backdoor_test_config`. The files in ``configs/backdoor_video/``
    spell the same changes out.

    Args:
        cfg (Config): The clean recognizer config.
        poison_dir (str): Folder written by :func:`craft_poison`.
        trigger_file (str): The trigger pasted at test time.
        target_class (int): The target class.

    Returns:
        Config: A modified deep copy.
    """
    cfg = backdoor_test_config(cfg, trigger_file, target_class)
    dataset = cfg.train_dataloader.dataset
    pipeline = _pipeline_of(dataset)
    names = [str(step.get('type')).split('.')[-1] for step in pipeline]
    if 'FormatShape' not in names:
        raise ValueError('the training pipeline needs a FormatShape; '
                         f'got {names}')
    pipeline.insert(
        names.index('FormatShape'),
        dict(type='CleanLabelPoison', poison_dir=poison_dir))
    cfg.train_dataloader.dataset = dict(type='PoisonedDataset',
                                        dataset=dataset)
    return cfg


def export_backbone(checkpoint: str, out_file: str) -> str:
    """Save the backbone of a recognizer checkpoint on its own.

    A backbone's ``pretrained=out_file`` (``pretrained2d=False``) then loads
    it, and the classifier is initialised afresh, as when the paper's victim
    fine-tunes a Kinetics-pretrained I3D on UCF101.

    Args:
        checkpoint (str): An mmengine checkpoint of a recognizer.
        out_file (str): Where to write ``{'state_dict': backbone weights}``.

    Returns:
        str: ``out_file``.
    """
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    backbone = {
        key[len('backbone.'):]: value
        for key, value in state.items() if key.startswith('backbone.')
    }
    if not backbone:
        raise ValueError(f'{checkpoint!r} holds no backbone.* weights')
    torch.save(dict(state_dict=backbone), out_file)
    return out_file
