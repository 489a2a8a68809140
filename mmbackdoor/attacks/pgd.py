"""PGD on every valid pixel (Madry et al., ICLR 2018)."""
from torch import Tensor

from ..registry import ATTACKS
from . import functional as AF
from .base_seg_attack import BaseSegAttack


@ATTACKS.register_module()
class PGD(BaseSegAttack):
    """ℓ∞ PGD on the mean per-pixel cross-entropy.

    ``L = 1/|V| Σ_{i∈V} Lᵢ`` over the valid pixels ``V``; the loop, the input
    domain (raw ``[0, 255]`` before the data preprocessor) and the arguments
    are those of :class:`BaseSegAttack`.

    Examples:
        >>> attack = ATTACKS.build(dict(type='PGD', eps=8, alpha=2, steps=10))
        >>> adv_inputs = attack(model, data_batch)
    """

    def pixel_weights(self, logits: Tensor, labels: Tensor, valid: Tensor,
                      step: int, state: dict) -> Tensor:
        """``wᵢ = [i valid] / |V|`` (:func:`~.functional.pgd_weights`)."""
        return AF.pgd_weights(valid)
