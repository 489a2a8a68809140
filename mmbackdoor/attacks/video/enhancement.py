"""Enhancement of target-class clips (Zhao et al., CVPR 2020, Sec. 3.3):
untargeted PGD that removes their "natural" target features, so that a model
trained on them has to rely on the trigger."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmbackdoor.attacks.functional import linf_bounds, linf_project, linf_step
from .clips import batch_labels, eval_mode, recognizer_logits


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
    labels = batch_labels(data_samples, inputs.device)
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
