"""CosPGD (Agnihotri et al., "CosPGD: an efficient white-box adversarial
attack for pixel-wise prediction tasks", ICML 2024)."""
from torch import Tensor

from ..registry import ATTACKS
from . import functional as AF
from .base_seg_attack import BaseSegAttack


@ATTACKS.register_module()
class CosPGD(BaseSegAttack):
    """ℓ∞ PGD with per-pixel losses scaled by the cosine similarity between
    the predicted distribution and the one-hot label.

    ``L = 1/(N·H·W) Σᵢ cos(softmax(zᵢ), onehot(yᵢ)) · Lᵢ`` with the cosine
    detached from the graph, so pixels the model still gets right weigh most.
    Unlike the authors' package, ignored pixels are masked out instead of
    being clamped into the last class. Loop, input domain and arguments: see
    :class:`BaseSegAttack`.

    Examples:
        >>> attack = ATTACKS.build(dict(type='CosPGD', eps=8, steps=10))
        >>> adv_inputs = attack(model, data_batch)
    """

    def pixel_weights(self, logits: Tensor, labels: Tensor, valid: Tensor,
                      step: int, state: dict) -> Tensor:
        """:func:`~.functional.cospgd_weights`."""
        return AF.cospgd_weights(logits, labels, valid, self.targeted)
