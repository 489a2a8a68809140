"""Conv–BN folding for the attack loop.

An attack runs the segmentor in eval mode, where a BatchNorm layer is the
fixed affine map ``γ·(x − μ)/σ + β`` and folds into the convolution before
it (``W' = W·γ/σ``, ``b' = (b − μ)·γ/σ + β``): the same function with one
elementwise pass less per layer, forward and backward. The folding is
mmcv's ``fuse_conv_bn`` (what OpenMMLab's test tools do with
``--fuse-conv-bn``) on a copy; the user's model is never changed. mmcv pairs
each BN with the convolution registered just before it, which is not always
the one applied before it (a pre-norm ``ConvModule``), so a copy is used
only once its logits have been checked against the model's.
"""
import copy
import weakref
from typing import Callable, Optional

import torch
from mmcv.cnn import fuse_conv_bn
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

#: model -> whether its folded copy computes the model's logits
_VERIFIED: 'weakref.WeakKeyDictionary[nn.Module, bool]' = (
    weakref.WeakKeyDictionary())


def folded_copy(model: nn.Module) -> Optional[nn.Module]:
    """An eval-mode copy of ``model`` with its BatchNorms folded into their
    convolutions, or None: no BatchNorm, one that normalises with batch
    statistics in eval mode (``track_running_stats=False``), or a copy of
    this model that failed :func:`verified` before."""
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if (not norms or _VERIFIED.get(model) is False
            or any(norm.running_mean is None for norm in norms)):
        return None
    return fuse_conv_bn(copy.deepcopy(model)).eval()


def verified(model: nn.Module, folded: nn.Module,
             logits: Callable[[nn.Module], Tensor], reference: Tensor) -> bool:
    """Whether ``folded`` gives ``model``'s logits (``reference`` =
    ``logits(model)``) within float tolerance; checked once per model.

    Args:
        model (nn.Module): The model the attack was given.
        folded (nn.Module): Its :func:`folded_copy`.
        logits (Callable): Computes the logits of a model on the inputs
            ``reference`` was computed on.
        reference (Tensor): ``logits(model)``.
    """
    if model not in _VERIFIED:
        with torch.no_grad():
            got = logits(folded)
        scale = float(reference.abs().max().clamp(min=1))
        _VERIFIED[model] = bool(
            torch.allclose(got, reference, rtol=1e-3, atol=1e-4 * scale))
    return _VERIFIED[model]
