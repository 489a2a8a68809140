"""EroSeg (Song et al., "Erosion Attack for Adversarial Training to Enhance
Semantic Segmentation Robustness", 2026)."""
from typing import Optional, Sequence

from torch import Tensor

from ..registry import ATTACKS
from . import functional as AF
from .base_seg_attack import BaseSegAttack, check_number


@ATTACKS.register_module()
class EroSeg(BaseSegAttack):
    """Confidence-guided erosion attack.

    At every step ``t = 0 .. T−1``, on the current adversarial input, with
    ``cᵢ = max softmax`` and ``ŷᵢ = argmax``:

    - threshold ``τ_t = 1 − (1 − τ₀)·exp(−β·t)`` (rises towards 1),
    - mask ``mᵢ = [cᵢ < τ_t ∧ ŷᵢ = yᵢ]``: correct pixels the model is not yet
      confident about; as ``τ`` rises the attacked set erodes from low- into
      high-confidence pixels,
    - class weight ``wᵢ = λ`` for foreground, ``1 − λ`` for background,
    - loss ``L_t = Σᵢ mᵢ·wᵢ·Lᵢ / (N·H·W)``.

    Choices the paper leaves open: ``t`` counts from 0, so the first step
    uses ``τ₀``; the paper's "α = 0.001" names no scale, the default here is
    the usual 2 intensity levels (see the README for the step-size
    sensitivity); no random start by default; by default a pixel that was
    fooled and became correct again may re-enter the mask
    (``reentry=True``, the mask is purely a function of the current step).
    In targeted mode ``y`` is the target and the mask holds the pixels not
    yet at their target (``ŷᵢ ≠ yᵢ``). Loop and input domain (raw
    ``[0, 255]`` before the data preprocessor, ``eps`` in intensity levels):
    see :class:`BaseSegAttack`.

    Args:
        eps (float): ℓ∞ radius in intensity levels (paper: 8). Defaults to 8.
        alpha (float): Step size in intensity levels. Defaults to 2.
        steps (int): Steps ``T`` (paper: 3 or 7 in training, up to 50 in
            evaluation). Defaults to 10.
        tau0 (float): Initial confidence threshold ``τ₀`` in ``[0, 1]``.
            Defaults to 0.8 (paper).
        beta (float): Growth rate ``β >= 0`` of the threshold. Defaults to
            0.8 (paper).
        lam (float): Foreground weight ``λ`` in ``[0, 1]``; background pixels
            get ``1 − λ``. Defaults to 0.7 (paper).
        background_classes (Sequence[int]): Background class indices (VOC: 0;
            Cityscapes has none: ``()``). Defaults to ``(0,)``.
        reentry (bool): Whether pixels fooled at an earlier step may re-enter
            the mask once correct again. Defaults to True.
        random_start (bool): Start from a random point of the ε-ball.
            Defaults to False.
        target_class (int, optional): Targeted mode. Defaults to None.
        ignore_index (int): Label of pixels that never count. Defaults to 255.
        fuse_conv_bn (bool): Fold BatchNorms into their convolutions (see
            :class:`BaseSegAttack`). Defaults to True.

    Examples:
        >>> attack = ATTACKS.build(
        ...     dict(type='EroSeg', eps=8, alpha=2, steps=10,
        ...          background_classes=[0]))
        >>> adv_inputs = attack(model, data_batch)
    """

    def __init__(self,
                 eps: float = 8.0,
                 alpha: float = 2.0,
                 steps: int = 10,
                 tau0: float = 0.8,
                 beta: float = 0.8,
                 lam: float = 0.7,
                 background_classes: Sequence[int] = (0, ),
                 reentry: bool = True,
                 random_start: bool = False,
                 target_class: Optional[int] = None,
                 ignore_index: int = 255,
                 fuse_conv_bn: bool = True) -> None:
        super().__init__(
            eps=eps,
            alpha=alpha,
            steps=steps,
            random_start=random_start,
            target_class=target_class,
            ignore_index=ignore_index,
            fuse_conv_bn=fuse_conv_bn)
        check_number('EroSeg', 'tau0', tau0, 0, high=1)
        check_number('EroSeg', 'beta', beta, 0)
        check_number('EroSeg', 'lam', lam, 0, high=1)
        if isinstance(background_classes, (str, bytes)) or not isinstance(
                background_classes, Sequence):
            raise TypeError('EroSeg: background_classes must be a list of '
                            f'class indices, got {background_classes!r}')
        for cls in background_classes:
            check_number('EroSeg', 'background_classes[...]', cls, 0,
                         integer=True)
        if not isinstance(reentry, bool):
            raise TypeError(
                f'EroSeg: reentry must be True or False, got {reentry!r}')
        self.tau0 = float(tau0)
        self.beta = float(beta)
        self.lam = float(lam)
        self.background_classes = tuple(background_classes)
        self.reentry = reentry

    def check_num_classes(self, num_classes: int) -> None:
        """Also check ``background_classes`` against the model."""
        super().check_num_classes(num_classes)
        bad = [c for c in self.background_classes if c >= num_classes]
        if bad:
            raise ValueError(
                f'EroSeg: background_classes {bad} out of range; this model '
                f'has classes 0..{num_classes - 1}')

    def pixel_weights(self, logits: Tensor, labels: Tensor, valid: Tensor,
                      step: int, state: dict) -> Tensor:
        """``mᵢ·wᵢ / (N·H·W)`` (:func:`~.functional.eroseg_weights`), with
        ``state['fooled']`` keeping fooled pixels out if not ``reentry``."""
        tau = AF.eroseg_threshold(step, self.tau0, self.beta)
        mask = AF.eroseg_mask(logits, labels, valid, tau, self.targeted)
        if not self.reentry:
            hit = AF.prediction(logits) == labels
            fooled = valid & (hit if self.targeted else ~hit)
            state['fooled'] = fooled | state.get('fooled', fooled)
            mask &= ~state['fooled']
        return AF.eroseg_weights(mask, labels, self.background_classes,
                                 self.lam)
