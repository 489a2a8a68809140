"""Universal adversarial video trigger (Zhao et al., CVPR 2020, Sec. 3.2).

A universal patch per frame, optimised on a clean recognizer so that
non-target clips carrying it are classified as the target class. The stored
form of the result is :mod:`mmbackdoor.triggers.trigger_file`.
"""
from typing import Iterator, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from mmbackdoor.attacks.functional import linf_step
from .clips import (batch_inputs, check_target_class, clip_view,
                    eval_mode, paste_patches, patches_to_array,
                    recognizer_logits)

#: Trigger losses: targeted cross-entropy, or the authors' variant.
TRIGGER_LOSSES = ('ce', 'ce_minus_pred')


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
            inputs = batch_inputs(batch, device)
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
                history['snapshots'][step] = patches_to_array(patches)
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
    return patches_to_array(patches), history


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
