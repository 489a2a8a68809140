"""The batched ℓ∞ attack loop shared by PGD, SegPGD, CosPGD and EroSeg."""
import numbers
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import is_model_wrapper
from mmseg.models.segmentors import BaseSegmentor
from torch import Tensor, nn

from ..registry import ATTACKS
from ..utils import type_name
from . import functional as AF
from .conv_bn_fusion import folded_copy, verified


def check_number(owner: str,
                 name: str,
                 value,
                 low: float,
                 inclusive: bool = True,
                 high: Optional[float] = None,
                 integer: bool = False) -> None:
    """Check that ``value`` is a real (or integral) number in the allowed
    range, naming ``owner``, ``name`` and the range otherwise.

    Raises:
        TypeError: If ``value`` is not a number (an integer if
            ``integer``); ``bool`` is not one.
        ValueError: If it is one, but out of range.
    """
    kind = int if integer else numbers.Real
    bound = f'>= {low}' if inclusive else f'> {low}'
    if high is not None:
        bound += f' and <= {high}'
    kind_name = 'an integer' if integer else 'a number'
    message = (f'{owner}: {name} must be {kind_name} {bound}, '
               f'got {value!r}')
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f'{message} ({type(value).__name__})')
    ok = value >= low if inclusive else value > low
    if not (ok and (high is None or value <= high)):
        raise ValueError(message)


@dataclass
class AttackResult:
    """What one attack run produced.

    Attributes:
        inputs (list[Tensor]): Adversarial images, float CHW in pixel space
            ``[0, 255]``, one per input, on the model's device.
        losses (list[float]): The weighted attack loss at each step.
        attacked_fraction (list[float]): Share of valid pixels with a
            non-zero weight at each step (EroSeg: the mask size).
        accuracy (list[float]): Share of valid pixels predicted as their
            label (the target in a targeted attack) at the input of each step.
        seconds (float): Wall time of the run.
        weights (list[Tensor], optional): The per-pixel weights of each step on
            the label grid (CPU), if ``record=True``.
    """
    inputs: List[Tensor]
    losses: List[float]
    attacked_fraction: List[float]
    accuracy: List[float]
    seconds: float
    weights: Optional[List[Tensor]] = None


class BaseSegAttack:
    """ℓ∞ projected gradient attack on an mmseg segmentor.

    One loop for every attack; subclasses only define :meth:`pixel_weights`.
    Each of the ``steps`` steps computes, on the current adversarial input
    ``x + δ``, the per-pixel cross-entropies ``Lᵢ`` and weights ``wᵢ`` and
    updates

    ``δ ← clip_ε(δ + α·sign(∇_δ Σᵢ wᵢ·Lᵢ))``, with ``x + δ`` clipped to
    ``[0, 255]`` (``−α`` in targeted mode, which minimises the loss towards
    ``target_class``).

    Input domain: raw images in ``[0, 255]`` (BGR, as the dataloader yields
    them) *before* the model's data preprocessor; ``eps`` and ``alpha`` are in
    intensity levels (``eps=8`` is the usual 8/255). Gradients flow through
    the model's own data preprocessor (normalisation, channel order, padding)
    and inference path. The attack switches the model to eval mode (BN
    statistics frozen) and restores its mode afterwards, takes gradients with
    :func:`torch.autograd.grad` only (parameters' ``.grad`` stay untouched),
    never modifies its arguments and never counts ``ignore_index`` pixels.

    Args:
        eps (float): ℓ∞ radius in intensity levels. Defaults to 8.
        alpha (float): Step size in intensity levels. Defaults to 2.
        steps (int): Number of gradient steps ``T``. Defaults to 10.
        random_start (bool): Start from a uniform random point of the ε-ball
            instead of ``x``. Defaults to False.
        target_class (int, optional): Targeted mode: push every valid pixel
            towards this class. Defaults to None (untargeted).
        ignore_index (int): Label of pixels that never count. Defaults to 255.
        fuse_conv_bn (bool): From the second step on, differentiate a copy
            of the model with its BatchNorms folded into their convolutions
            (:mod:`~.conv_bn_fusion`; the same function in eval mode, checked
            against the model's logits once per model). Defaults to True.
    """

    def __init__(self,
                 eps: float = 8.0,
                 alpha: float = 2.0,
                 steps: int = 10,
                 random_start: bool = False,
                 target_class: Optional[int] = None,
                 ignore_index: int = 255,
                 fuse_conv_bn: bool = True) -> None:
        owner = type(self).__name__
        check_number(owner, 'eps', eps, 0)
        check_number(owner, 'alpha', alpha, 0, inclusive=False)
        check_number(owner, 'steps', steps, 1, integer=True)
        if target_class is not None:
            check_number(owner, 'target_class', target_class, 0, integer=True)
        check_number(owner, 'ignore_index', ignore_index, 0, integer=True)
        for name, flag in (('random_start', random_start),
                           ('fuse_conv_bn', fuse_conv_bn)):
            if not isinstance(flag, bool):
                raise TypeError(f'{owner}: {name} must be True or False, '
                                f'got {flag!r}')
        self.eps = float(eps)
        self.alpha = float(alpha)
        self.steps = steps
        self.random_start = random_start
        self.target_class = target_class
        self.ignore_index = ignore_index
        self.fuse_conv_bn = fuse_conv_bn

    @property
    def targeted(self) -> bool:
        """Whether the attack pushes pixels towards ``target_class``."""
        return self.target_class is not None

    def pixel_weights(self, logits: Tensor, labels: Tensor, valid: Tensor,
                      step: int, state: dict) -> Tensor:
        """Weights ``wᵢ`` of the per-pixel losses at ``step`` (0-based).

        Args:
            logits (Tensor): Detached ``(N, C, *)`` logits of the current
                adversarial input.
            labels (Tensor): ``(N, *)`` labels (targets if targeted).
            valid (Tensor): ``(N, *)`` mask of pixels that count.
            step (int): Step index, ``0 .. steps - 1``.
            state (dict): Scratch space that lives for one attack run.

        Returns:
            Tensor: ``(N, *)`` weights, zero on invalid pixels.
        """
        raise NotImplementedError

    def check_num_classes(self, num_classes: int) -> None:
        """Validate class indices in the arguments against the model."""
        if num_classes < 2:
            raise ValueError(
                f'{type(self).__name__} needs a multi-class decode head '
                f'(out_channels >= 2), got out_channels={num_classes}')
        if self.targeted and self.target_class >= num_classes:
            raise ValueError(
                f'{type(self).__name__}: target_class must be in '
                f'[0, {num_classes - 1}] for this model, got '
                f'{self.target_class}')

    def __call__(self,
                 model: nn.Module,
                 data_batch: dict,
                 *,
                 training: bool = False,
                 generator: Optional[torch.Generator] = None) -> List[Tensor]:
        """Attack a batch; see :meth:`run`.

        Returns:
            list[Tensor]: Adversarial images, float CHW in ``[0, 255]``
            within ``eps`` of the inputs, on the model's device.
        """
        return self.run(
            model, data_batch, training=training, generator=generator).inputs

    def run(self,
            model: nn.Module,
            data_batch: dict,
            *,
            training: bool = False,
            generator: Optional[torch.Generator] = None,
            record: bool = False) -> AttackResult:
        """Attack a batch and report per-step statistics.

        Args:
            model (nn.Module): An mmseg segmentor, wrapped (DDP) or not.
            data_batch (dict): What an mmseg dataloader yields: ``inputs``, a
                list of uint8 (or float) CHW BGR tensors in ``[0, 255]``, and
                ``data_samples`` with ``gt_sem_seg``.
            training (bool): Whether the batch comes from a *training*
                pipeline: labels on the input grid, the loss taken on the
                decode head's output as ``train_step`` sees it. Otherwise the
                batch comes from a test pipeline and the loss is taken on the
                logits that ``test_step`` produces (slide / whole inference,
                resized to the label's original size). Defaults to False.
            generator (torch.Generator, optional): Randomness of the random
                start (on the model's device).
            record (bool): Keep the weights of every step in the result.

        Returns:
            AttackResult: The adversarial inputs and statistics.
        """
        start = time.perf_counter()
        segmentor = model.module if is_model_wrapper(model) else model
        if not isinstance(segmentor, BaseSegmentor):
            raise TypeError(f'{type(self).__name__} attacks mmseg segmentors '
                            f'(BaseSegmentor), got {type(segmentor).__name__}')
        inputs, samples = _unpack(data_batch)
        device = segmentor.data_preprocessor.device
        clean = [x.to(device=device, dtype=torch.float32) for x in inputs]
        bounds = [AF.linf_bounds(x, self.eps) for x in clean]
        adv = [AF.linf_random_start(x, self.eps, generator)
               for x in clean] if self.random_start else clean
        state: dict = {}
        stats = []
        recorded = [] if record else None
        was_training = segmentor.training
        segmentor.eval()
        try:
            folded = (folded_copy(segmentor)
                      if self.fuse_conv_bn and self.steps > 1 else None)
            with torch.enable_grad():
                for step in range(self.steps):
                    leaves = [x.detach().requires_grad_() for x in adv]
                    net = segmentor if step == 0 or folded is None else folded
                    logits, labels = self.logits_and_labels(
                        net, leaves, samples, training)
                    if step == 0:
                        self.check_num_classes(logits.shape[1])
                        if folded is not None and not verified(
                                segmentor, folded,
                                lambda m: self.logits_and_labels(
                                    m, leaves, samples, training)[0],
                                logits.detach()):
                            folded = None
                    valid = labels != self.ignore_index
                    if self.targeted:
                        labels = torch.full_like(labels, self.target_class)
                    detached = logits.detach()
                    weights = self.pixel_weights(detached, labels, valid,
                                                 step, state)
                    loss = (weights *
                            AF.pixel_cross_entropy(logits, labels,
                                                   valid)).sum()
                    grads = torch.autograd.grad(loss, leaves)
                    with torch.no_grad():
                        adv = [
                            AF.linf_project(
                                AF.linf_step(x, g, self.alpha,
                                             not self.targeted), lo, hi)
                            for x, g, (lo, hi) in zip(leaves, grads, bounds)
                        ]
                        stats.append(
                            _step_stats(loss, detached, labels, valid,
                                        weights))
                    if record:
                        recorded.append(weights.detach().cpu())
        finally:
            segmentor.train(was_training)
        losses, fractions, accuracy = torch.stack(stats).cpu().T.tolist()
        return AttackResult(
            inputs=adv,
            losses=losses,
            attacked_fraction=fractions,
            accuracy=accuracy,
            seconds=time.perf_counter() - start,
            weights=recorded)

    @staticmethod
    def logits_and_labels(segmentor: BaseSegmentor, inputs: List[Tensor],
                          samples: list,
                          training: bool) -> Tuple[Tensor, Tensor]:
        """Logits (with gradient w.r.t. ``inputs``) and labels on the label
        grid: what every attack step differentiates.

        Training batches go the way of ``train_step``/``loss``: preprocess
        with ``training=True`` (padding labels with the images), decode head
        output resized to the labels. Test batches go the way of
        ``test_step``: preprocess with ``training=False``, then the logits of
        ``predict`` — the segmentor's ``inference`` (whole or slide) with
        padding cropped, flips undone and resized to the original shape,
        without building prediction data samples (segmentors without
        ``inference`` go through ``predict`` itself).
        Equal-sized outputs are stacked to ``(N, C, H, W)``; otherwise every
        sample is flattened and concatenated to ``(1, C, P)``.

        Args:
            segmentor (BaseSegmentor): The unwrapped segmentor.
            inputs (list[Tensor]): Float CHW images in pixel space.
            samples (list[SegDataSample]): Their data samples (not modified).
            training (bool): See :meth:`run`.

        Returns:
            tuple[Tensor, Tensor]: Logits ``(N, C, *)`` and labels ``(N, *)``.
        """
        # ``stack_batch`` pads the labels of training batches in place
        copies = [
            s.new(gt_sem_seg=s.gt_sem_seg.clone()
                  if training else s.gt_sem_seg) for s in samples
        ]
        data = segmentor.data_preprocessor(
            dict(inputs=inputs, data_samples=copies), training)
        if training:
            logits = segmentor(**data, mode='tensor')
            if not isinstance(logits, Tensor):
                raise TypeError(
                    'the decode head returned '
                    f'{type(logits).__name__}; attacks need a head whose '
                    'forward returns one logits tensor')
            labels = torch.stack(
                [s.gt_sem_seg.data[0] for s in data['data_samples']])
            logits = F.interpolate(
                logits,
                size=labels.shape[-2:],
                mode='bilinear',
                align_corners=segmentor.align_corners)
            return logits, labels
        labels = [s.gt_sem_seg.data[0] for s in data['data_samples']]
        if hasattr(segmentor, 'inference'):
            # EncoderDecoder & co: ``predict`` without building its data
            # samples (an argmax and a resize per image and step)
            metas = [s.metainfo for s in data['data_samples']]
            logits = _original_grid(
                segmentor.inference(data['inputs'], metas), metas,
                segmentor.align_corners)
        else:
            outputs = segmentor(**data, mode='predict')
            logits = [out.seg_logits.data for out in outputs]
        if len({lab.shape for lab in labels}) == 1:
            return (logits if isinstance(logits, Tensor) else
                    torch.stack(logits)), torch.stack(labels)
        return (torch.cat([z.flatten(1) for z in logits], dim=1)[None],
                torch.cat([lab.flatten() for lab in labels])[None])

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items())
        return f'{type(self).__name__}({args})'


def _original_grid(seg_logits: Tensor, metas: List[dict],
                   align_corners: bool) -> Union[Tensor, List[Tensor]]:
    """The logits part of ``BaseSegmentor.postprocess_result``: per image,
    crop the padding, undo the flip and resize to ``ori_shape``.

    Returns:
        Tensor | list[Tensor]: ``(N, C, H, W)`` if every image has the same
        geometry (one batched operation), else one ``(C, H, W)`` per image.
    """

    def geometry(meta: dict) -> tuple:
        padding = meta.get('img_padding_size',
                           meta.get('padding_size', [0] * 4))
        flip = meta.get('flip_direction') if meta.get('flip') else None
        return tuple(padding), flip, tuple(meta['ori_shape'])

    def restore(logits: Tensor, padding: tuple, flip: Optional[str],
                ori_shape: tuple) -> Tensor:
        left, right, top, bottom = padding
        height, width = logits.shape[-2:]
        logits = logits[..., top:height - bottom, left:width - right]
        if flip is not None:
            if flip not in ('horizontal', 'vertical'):
                raise ValueError(f'flip_direction must be "horizontal" or '
                                 f'"vertical", got {flip!r}')
            logits = logits.flip(dims=(3, ) if flip == 'horizontal' else
                                 (2, ))
        if tuple(logits.shape[-2:]) == ori_shape:
            return logits  # what a same-size bilinear resize returns
        return F.interpolate(
            logits, size=ori_shape, mode='bilinear',
            align_corners=align_corners)

    geometries = [geometry(meta) for meta in metas]
    if len(set(geometries)) == 1:
        return restore(seg_logits, *geometries[0])
    return [
        restore(seg_logits[i:i + 1], *g)[0] for i, g in enumerate(geometries)
    ]


def _unpack(data_batch: dict) -> Tuple[List[Tensor], list]:
    """Check ``data_batch`` and return its inputs and data samples."""
    if not isinstance(data_batch, dict) or not {'inputs', 'data_samples'
                                                } <= set(data_batch):
        raise TypeError(
            'data_batch must be a dict with "inputs" (CHW image tensors) and '
            '"data_samples" (SegDataSample with gt_sem_seg), as an mmseg '
            f'dataloader yields; got {type(data_batch).__name__}'
            + (f' with keys {sorted(data_batch)}'
               if isinstance(data_batch, dict) else ''))
    inputs, samples = list(data_batch['inputs']), data_batch['data_samples']
    if len(inputs) != len(samples) or not inputs:
        raise ValueError(f'data_batch has {len(inputs)} inputs and '
                         f'{len(samples)} data_samples; need as many, >= 1')
    for i, (x, sample) in enumerate(zip(inputs, samples)):
        if not isinstance(x, Tensor):
            raise TypeError(f'data_batch["inputs"][{i}] must be a CHW '
                            f'tensor, got {type(x).__name__}')
        if x.dim() != 3:
            raise ValueError(f'data_batch["inputs"][{i}] must be a CHW '
                             f'tensor, got shape {tuple(x.shape)}')
        if 'gt_sem_seg' not in sample:
            raise ValueError(f'data_batch["data_samples"][{i}] has no '
                             'gt_sem_seg; attacks need labels')
    return inputs, samples


def _step_stats(loss: Tensor, logits: Tensor, labels: Tensor, valid: Tensor,
                weights: Tensor) -> Tensor:
    """``[loss, attacked fraction, accuracy]`` of one step (no sync)."""
    num_valid = valid.sum().clamp(min=1)
    attacked = ((weights > 0) & valid).sum() / num_valid
    accuracy = ((AF.prediction(logits) == labels) & valid).sum() / num_valid
    return torch.stack([loss.detach(), attacked, accuracy]).float()


def build_attack(cfg: Union[dict, BaseSegAttack]) -> BaseSegAttack:
    """Build an attack from a config dict (or pass an instance through).

    Raises:
        TypeError: If ``cfg`` is neither a dict nor an attack.
        ValueError: If the dict has no ``type``.
        KeyError: If ``type`` is not a registered attack (as mmengine's
            registries do), naming the registered ones.
    """
    if isinstance(cfg, BaseSegAttack):
        return cfg
    if not isinstance(cfg, dict):
        raise TypeError(f'attack must be a dict with a "type" key or an '
                        f'attack instance, got {cfg!r}')
    if 'type' not in cfg:
        raise ValueError(f'attack must be a dict with a "type" key (one of '
                         f'{sorted(ATTACKS.module_dict)}), got {cfg!r}')
    name = cfg['type']
    if isinstance(name, str) and type_name(name) not in ATTACKS.module_dict:
        raise KeyError(f'unknown attack type {name!r}; registered attacks: '
                       f'{sorted(ATTACKS.module_dict)}')
    return ATTACKS.build(cfg)
