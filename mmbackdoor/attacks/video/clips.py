"""Packed clips of mmaction recognizers: layouts, patches, logits.

Everything works on the packed, *raw* model input (values in ``[0, 255]``,
before the data preprocessor), so perturbation budgets are in intensity
levels and gradients flow through the model's own data preprocessor. Both
mmaction layouts are handled: ``NCTHW`` (3D recognizers: I3D, C3D, SlowOnly;
a batch is ``B x V x C x T x H x W`` with ``V`` views) and ``NCHW`` (2D
recognizers: TSN, TSM; ``B x M x C x H x W`` with ``M`` frames, each frame a
clip of length one). Needs torch only (no mmaction import).
"""
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch
from torch import Tensor, nn

from mmbackdoor.triggers.universal_trigger import corner_slices

#: Packed input layouts of mmaction recognizers.
FORMATS = ('NCHW', 'NCTHW')


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


def patches_to_array(patches: Tensor) -> np.ndarray:
    """``T x C x s x s`` float patches -> ``T x s x s x C`` ``uint8`` (the
    stored trigger; inverse of :func:`patches_to_tensor`)."""
    return patches.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


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


def batch_inputs(batch: dict, device: torch.device) -> Tensor:
    """Stack a pseudo-collated batch's inputs as a float tensor."""
    return torch.stack(list(batch['inputs'])).to(device=device,
                                                 dtype=torch.float32)


def batch_labels(data_samples: list, device: torch.device) -> Tensor:
    """The batch's ``gt_label``s as one tensor on ``device``."""
    return torch.cat([ds.gt_label.view(-1) for ds in data_samples]).to(device)


def check_target_class(model: nn.Module, target_class: int) -> None:
    """Raise if ``target_class`` is not a class of ``model``'s head."""
    num_classes = model.cls_head.num_classes
    if not isinstance(target_class, int) or not \
            0 <= target_class < num_classes:
        raise ValueError(f'target_class must be an int in [0, '
                         f'{num_classes - 1}] (the model has {num_classes} '
                         f'classes), got {target_class!r}')
