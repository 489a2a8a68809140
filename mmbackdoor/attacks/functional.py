"""Pure tensor pieces of the ℓ∞ attacks on segmentors.

Everything here works in *pixel space*: raw ``[0, 255]`` images before the
model's data preprocessor. Per-pixel functions take ``logits`` of shape
``(N, C, *)`` (class dimension 1, any trailing spatial shape), ``labels`` and
``valid`` of shape ``(N, *)``; ``labels`` hold any value where ``valid`` is
False. A weighting function returns ``w`` with ``loss = Σᵢ wᵢ·Lᵢ`` where
``Lᵢ`` is the cross-entropy of pixel ``i`` (:func:`pixel_cross_entropy`):
the normalisation of each paper's loss is part of its weights. Weights are
computed from detached logits and are zero on ignored pixels.

In a targeted attack ``labels`` are the target labels: the "correct" pixels
of the formulas are then the pixels already predicted as their target.
"""
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

#: Lower and upper bound of the pixel space.
PIXEL_MIN, PIXEL_MAX = 0.0, 255.0


def linf_bounds(x: Tensor, eps: float) -> tuple:
    """Box of admissible adversarial pixels: the ε-ball around ``x``
    intersected with ``[0, 255]``.

    Returns:
        tuple[Tensor, Tensor]: Element-wise lower and upper bounds.
    """
    return ((x - eps).clamp(min=PIXEL_MIN), (x + eps).clamp(max=PIXEL_MAX))


def linf_project(x_adv: Tensor, lower: Tensor, upper: Tensor) -> Tensor:
    """Project onto the box from :func:`linf_bounds`:
    ``clip_[0,255](x + clip_ε(x_adv − x))``."""
    return torch.clamp(x_adv, lower, upper)


def linf_random_start(x: Tensor,
                      eps: float,
                      generator: Optional[torch.Generator] = None) -> Tensor:
    """``x + U(−ε, ε)`` clipped to ``[0, 255]`` (a new tensor).

    Args:
        x (Tensor): Clean float image(s) in pixel space.
        eps (float): Radius of the ℓ∞ ball in intensity levels.
        generator (torch.Generator, optional): Source of randomness (on
            ``x``'s device). Defaults to the global generator.
    """
    noise = torch.empty_like(x).uniform_(-eps, eps, generator=generator)
    return (x + noise).clamp(PIXEL_MIN, PIXEL_MAX)


def linf_step(x_adv: Tensor, grad: Tensor, alpha: float,
              ascend: bool = True) -> Tensor:
    """One signed-gradient step ``x_adv ± α·sign(∇)`` (a new tensor).

    Args:
        x_adv (Tensor): Current adversarial image(s).
        grad (Tensor): Gradient of the attack loss w.r.t. ``x_adv``.
        alpha (float): Step size in intensity levels.
        ascend (bool): Increase the loss (untargeted) or decrease it
            (targeted). Defaults to True.
    """
    return x_adv + (alpha if ascend else -alpha) * grad.sign()


def prediction(logits: Tensor) -> Tensor:
    """``argmax`` over the class dimension 1.

    ``max(dim=1).indices`` is several times faster than ``argmax(dim=1)``
    on an NCHW tensor on CPU (same result, first maximum on ties).
    """
    return logits.max(dim=1).indices


def pixel_cross_entropy(logits: Tensor, labels: Tensor,
                        valid: Tensor) -> Tensor:
    """Per-pixel cross-entropy ``Lᵢ``, exactly zero on invalid pixels.

    Args:
        logits (Tensor): ``(N, C, *)`` logits (with gradient).
        labels (Tensor): ``(N, *)`` class indices (any value where invalid).
        valid (Tensor): ``(N, *)`` bool mask of pixels that count.

    Returns:
        Tensor: ``(N, *)`` losses.
    """
    safe = labels.masked_fill(~valid, 0)
    return F.cross_entropy(logits, safe, reduction='none') * valid


def pgd_weights(valid: Tensor) -> Tensor:
    """PGD: the mean of ``Lᵢ`` over valid pixels, ``wᵢ = [i valid] / #valid``.
    """
    return valid.float() / valid.sum().clamp(min=1)


def segpgd_lambda(step: int, steps: int) -> float:
    """SegPGD's schedule ``λ(t) = (t − 1) / (2T)`` for ``t = step + 1``
    (``step`` counts from 0, so the first step has ``λ = 0``)."""
    return step / (2 * steps)


def segpgd_weights(logits: Tensor,
                   labels: Tensor,
                   valid: Tensor,
                   step: int,
                   steps: int,
                   targeted: bool = False) -> Tensor:
    """SegPGD (Gu et al., ECCV 2022, Eq. 4).

    ``L = 1/(N·H·W) · [(1 − λ(t)) Σ_{correct} Lᵢ + λ(t) Σ_{wrong} Lᵢ]`` with
    :func:`segpgd_lambda`: early steps attack the still-correct pixels, later
    steps shift weight to the already-fooled ones. Targeted: the roles swap
    (pixels at their target get ``λ(t)``), as in the ``cospgd`` package.
    """
    lam = segpgd_lambda(step, steps)
    hit = prediction(logits) == labels
    unfooled = ~hit if targeted else hit
    weights = torch.where(unfooled, 1.0 - lam, lam) * valid
    return weights / labels.numel()


def cospgd_weights(logits: Tensor, labels: Tensor, valid: Tensor,
                   targeted: bool = False) -> Tensor:
    """CosPGD (Agnihotri et al., ICML 2024, Eq. 6).

    ``L = 1/(N·H·W) Σᵢ cos(softmax(zᵢ), onehot(yᵢ)) · Lᵢ``, the cosine
    detached. ``cos(p, onehot(y)) = p_y / ‖p‖₂``. Targeted: ``1 − cos``
    (as in the authors' ``cospgd`` package), so pixels far from their
    target weigh most.
    """
    probs = logits.softmax(dim=1)
    safe = labels.masked_fill(~valid, 0).unsqueeze(1)
    # ``(p * p).sum(1).sqrt()`` is several times faster than ``p.norm(dim=1)``
    # over the class dimension of an NCHW tensor on CPU
    cos = probs.gather(1, safe).squeeze(1) / (probs * probs).sum(dim=1).sqrt()
    if targeted:
        cos = 1.0 - cos
    return cos * valid / labels.numel()


def eroseg_threshold(step: int, tau0: float, beta: float) -> float:
    """EroSeg's confidence threshold ``τ_t = 1 − (1 − τ₀)·exp(−β·t)``.

    ``t = step`` counts from 0, so the first step uses ``τ₀`` itself; ``τ``
    rises towards 1 and the attacked set erodes into confident pixels.
    """
    return 1.0 - (1.0 - tau0) * math.exp(-beta * step)


def eroseg_mask(logits: Tensor,
                labels: Tensor,
                valid: Tensor,
                tau: float,
                targeted: bool = False) -> Tensor:
    """EroSeg's attacked set ``mᵢ = [cᵢ < τ_t ∧ ŷᵢ = yᵢ]`` on valid pixels,
    with ``cᵢ = max softmax`` and ``ŷᵢ = argmax`` of the current logits: the
    correct pixels the model is not yet confident about. Targeted:
    ``ŷᵢ ≠ yᵢ`` (pixels not yet at their target)."""
    conf, pred = logits.softmax(dim=1).max(dim=1)
    hit = pred == labels
    return valid & (conf < tau) & (~hit if targeted else hit)


def class_weights(labels: Tensor, background_classes: Sequence[int],
                  lam: float) -> Tensor:
    """EroSeg's class weight: ``λ`` for foreground, ``1 − λ`` for the
    ``background_classes``."""
    background = torch.zeros_like(labels, dtype=torch.bool)
    for cls in background_classes:
        background |= labels == cls
    return torch.where(background, 1.0 - lam, lam)


def eroseg_weights(mask: Tensor, labels: Tensor,
                   background_classes: Sequence[int], lam: float) -> Tensor:
    """EroSeg's loss ``L_t = Σᵢ mᵢ·wᵢ·Lᵢ / (N·H·W)`` as weights
    ``mᵢ·wᵢ / (N·H·W)`` (:func:`eroseg_mask`, :func:`class_weights`)."""
    weights = class_weights(labels, background_classes, lam) * mask
    return weights / labels.numel()
