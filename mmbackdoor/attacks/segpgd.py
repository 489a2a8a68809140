"""SegPGD (Gu et al., "SegPGD: An Effective and Efficient Adversarial Attack
for Evaluating and Boosting Segmentation Robustness", ECCV 2022)."""
from torch import Tensor

from ..registry import ATTACKS
from . import functional as AF
from .base_seg_attack import BaseSegAttack


@ATTACKS.register_module()
class SegPGD(BaseSegAttack):
    """ℓ∞ PGD whose loss moves from correct to misclassified pixels.

    ``L_t = 1/(N·H·W) · [(1 − λ(t)) Σ_{ŷᵢ = yᵢ} Lᵢ + λ(t) Σ_{ŷᵢ ≠ yᵢ} Lᵢ]``,
    ``λ(t) = (t − 1) / (2T)`` for ``t = 1..T``, ``ŷ`` the prediction on the
    current adversarial input. Loop, input domain and arguments: see
    :class:`BaseSegAttack`.

    Examples:
        >>> attack = ATTACKS.build(dict(type='SegPGD', eps=8, steps=10))
        >>> adv_inputs = attack(model, data_batch)
    """

    def pixel_weights(self, logits: Tensor, labels: Tensor, valid: Tensor,
                      step: int, state: dict) -> Tensor:
        """:func:`~.functional.segpgd_weights` at ``t = step + 1``."""
        return AF.segpgd_weights(logits, labels, valid, step, self.steps,
                                 self.targeted)
