"""Validation / test loops that measure mIoU under adversarial attacks."""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import mmengine
import torch
from mmengine.dist import collect_results, is_main_process
from mmengine.evaluator import Evaluator
from mmengine.registry import LOOPS
from mmengine.runner import TestLoop, ValLoop
from mmseg.evaluation import IoUMetric
from torch.utils.data import DataLoader

from mmbackdoor.attacks import BaseSegAttack, build_attack
from .multi_pass_loop import MultiPassLoopMixin

#: Pass names the loop uses itself.
RESERVED_NAMES = ('clean', 'worst')


def named_attacks(
    attacks: Union[Sequence[dict], Dict[str, dict]]
) -> Dict[str, BaseSegAttack]:
    """Build ``attacks`` given as ``{name: config}`` or as a list of configs
    (named by their ``type``, which must then be unique).

    Args:
        attacks (list[dict] | dict[str, dict]): Attack configs or instances.

    Returns:
        dict[str, BaseSegAttack]: Built attacks by name, in order.
    """
    if isinstance(attacks, dict):
        items = list(attacks.items())
    elif isinstance(attacks, (list, tuple)):
        names = [
            cfg.get('type') if isinstance(cfg, dict) else type(cfg).__name__
            for cfg in attacks
        ]
        if len(set(names)) != len(names):
            raise ValueError(f'attacks {names} repeat a type; give them as a '
                             'dict {name: config} to name each')
        items = list(zip(names, attacks))
    else:
        raise TypeError('attacks must be a list of attack configs or a dict '
                        f'{{name: config}}, got {type(attacks).__name__}')
    if not items:
        raise ValueError('attacks is empty; give at least one attack')
    for name, _ in items:
        if not isinstance(name, str) or name in RESERVED_NAMES or '/' in name:
            raise ValueError(f'attack name {name!r} is not allowed: names are '
                             f'strings without "/" other than '
                             f'{list(RESERVED_NAMES)}')
    return {name: build_attack(cfg) for name, cfg in items}


def pixel_accuracy(sample, ignore_index: int) -> float:
    """Share of a prediction's valid pixels that match its ground truth."""
    pred = sample.pred_sem_seg.data.squeeze()
    label = sample.gt_sem_seg.data.squeeze().to(pred.device)
    valid = label != ignore_index
    return ((pred == label) & valid).sum().item() / max(valid.sum().item(), 1)


def _per_image_metric(evaluator: Evaluator) -> IoUMetric:
    """The evaluator's ``IoUMetric`` whose per-image areas
    ``per_image_file`` holds; its mIoU must be the one
    :func:`~mmbackdoor.evaluation.miou` recomputes from them."""
    for metric in evaluator.metrics:
        if isinstance(metric, IoUMetric):
            if metric.format_only or metric.nan_to_num is not None:
                raise ValueError(
                    'per_image_file needs an IoUMetric that keeps its areas '
                    'and skips absent classes: format_only=False, '
                    f'nan_to_num=None, got format_only={metric.format_only}, '
                    f'nan_to_num={metric.nan_to_num}')
            return metric
    names = [type(metric).__name__ for metric in evaluator.metrics]
    raise ValueError('per_image_file needs an IoUMetric (or a subclass) in '
                     f'the evaluator, got {names}')


class _RobustnessLoopMixin(MultiPassLoopMixin):
    """One sweep over the data: per batch the clean pass, every attack and
    the per-image worst case; see :class:`RobustnessTestLoop`."""

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 attacks: Union[Sequence[dict], Dict[str, dict]],
                 worst_case: bool = True,
                 ignore_index: int = 255,
                 per_image_file: Optional[str] = None,
                 fp16: bool = False) -> None:
        if not isinstance(evaluator, (dict, list)):
            raise TypeError(f'{type(self).__name__} builds one evaluator per '
                            'pass, so evaluator must be a config (dict or '
                            f'list), got {type(evaluator).__name__}')
        self.attacks = named_attacks(attacks)
        super().__init__(runner, dataloader, copy.deepcopy(evaluator), fp16)
        names = list(self.attacks) + (['worst'] if worst_case else [])
        self.evaluators = {'clean': self.evaluator}
        for name in names:
            self.evaluators[name] = runner.build_evaluator(
                copy.deepcopy(evaluator))
            self.evaluators[name].dataset_meta = self.evaluator.dataset_meta
        self.worst_case = worst_case
        self.ignore_index = ignore_index
        if per_image_file is not None:
            _per_image_metric(self.evaluator)
        self.per_image_file = per_image_file
        self._seconds = dict.fromkeys(self.attacks, 0.0)
        self._images = 0
        self._img_paths: List[str] = []

    def run_passes(self) -> dict:
        """Evaluate clean, under each attack and in the per-image worst case.

        Returns:
            dict: Each pass's metrics prefixed ``clean/``, ``<attack>/`` and
            ``worst/``, plus ``<attack>/steps`` and
            ``<attack>/seconds_per_image`` (attack time on this rank).
        """
        self._seconds = dict.fromkeys(self.attacks, 0.0)
        self._images = 0
        self._img_paths = []
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = {}
        size = len(self.dataloader.dataset)
        if self.per_image_file is not None:
            self._save_per_image(size)
        for name, evaluator in self.evaluators.items():
            metrics.update(self.prefixed(name, evaluator.evaluate(size)))
        for name, attack in self.attacks.items():
            metrics[f'{name}/steps'] = attack.steps
            metrics[f'{name}/seconds_per_image'] = \
                self._seconds[name] / max(self._images, 1)
        return metrics

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: dict) -> None:
        """Clean pass (seen by the iteration hooks), then every attack."""
        self.before_iter(idx, data_batch)
        outputs = self.model_step(data_batch)
        self.evaluators['clean'].process(
            data_samples=outputs, data_batch=data_batch)
        worst = [None] * len(outputs)
        worst_acc = [float('inf')] * len(outputs)
        for name, attack in self.attacks.items():
            result = attack.run(self.runner.model, data_batch)
            self._seconds[name] += result.seconds
            adv_outputs = self.model_step(
                dict(data_batch, inputs=result.inputs))
            self.evaluators[name].process(
                data_samples=adv_outputs, data_batch=data_batch)
            for i, sample in enumerate(adv_outputs):
                acc = pixel_accuracy(sample, self.ignore_index)
                if acc < worst_acc[i]:
                    worst[i], worst_acc[i] = sample, acc
        if self.worst_case:
            self.evaluators['worst'].process(
                data_samples=worst, data_batch=data_batch)
        self._images += len(outputs)
        if self.per_image_file is not None:
            self._img_paths.extend(sample.img_path for sample in outputs)
        self.after_iter(idx, data_batch, outputs)

    def _save_per_image(self, size: int) -> None:
        """Write ``per_image_file`` (relative to the run's log folder): per
        image its path and, per pass, mmseg's intersect and union areas
        (JSON; gathered from every rank, written by the first)."""
        passes = {
            name: _per_image_metric(evaluator).results
            for name, evaluator in self.evaluators.items()
        }
        rows = [
            dict(img_path=path, **{
                name: dict(intersect=results[i][0].tolist(),
                           union=results[i][1].tolist())
                for name, results in passes.items()
            }) for i, path in enumerate(self._img_paths)
        ]
        rows = collect_results(rows, size)
        if is_main_process():
            mmengine.dump(rows, osp.join(self.runner.log_dir,
                                         self.per_image_file))


@LOOPS.register_module()
class RobustnessTestLoop(_RobustnessLoopMixin, TestLoop):
    """Test loop reporting mIoU clean, under attacks and in the worst case.

    For every batch: the usual clean ``test_step``, then for each attack the
    adversarial images (crafted on the model being tested, see
    :class:`~mmbackdoor.attacks.BaseSegAttack`) and their ``test_step``. The
    per-image worst case takes, for every image, the attack whose prediction
    has the lowest pixel accuracy, and evaluates those predictions. Each pass
    has its own copy of ``evaluator`` and its metrics are prefixed with the
    pass name (``clean/mIoU``, ``PGD/mIoU``, ``worst/mIoU``); attack cost is
    reported as ``<attack>/steps`` and ``<attack>/seconds_per_image``. Stage
    and epoch hooks fire once; iteration hooks once per batch with the clean
    outputs (so e.g. visualisation shows clean predictions). Works with
    stock ``tools/test.py`` and under DDP (attacks run per rank on the
    unwrapped model).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The test dataloader.
        evaluator (dict | list): Metric config(s), copied per pass, e.g.
            ``dict(type='IoUMetric', iou_metrics=['mIoU'])``.
        attacks (list[dict] | dict[str, dict]): Attack configs; as a dict,
            the keys name the passes (e.g. ``PGD10`` and ``PGD20``).
        worst_case (bool): Also evaluate the per-image worst case. Defaults
            to True.
        ignore_index (int): Ignored label for the worst-case accuracy.
            Defaults to 255.
        per_image_file (str, optional): Also write every image's
            intersect and union areas under every pass to this JSON file
            (a relative path is taken in the run's log folder), e.g. for
            :func:`~mmbackdoor.evaluation.paired_miou_interval`; a
            ``RobustnessValLoop`` rewrites it at every validation. Needs an
            ``IoUMetric`` (``format_only=False``, ``nan_to_num=None``) in
            ``evaluator``. Defaults to None.
        fp16 (bool): Run ``test_step`` under autocast. Defaults to False.

    Examples:
        >>> test_cfg = dict(
        ...     type='RobustnessTestLoop',
        ...     attacks=[dict(type='PGD', eps=8, alpha=2, steps=10),
        ...              dict(type='EroSeg', eps=8, alpha=2, steps=10)])
    """

    stage = 'test'


@LOOPS.register_module()
class RobustnessValLoop(_RobustnessLoopMixin, ValLoop):
    """:class:`RobustnessTestLoop` for ``val_cfg``: track robustness while
    (adversarially) training, e.g. ``save_best='PGD/mIoU'``.

    Examples:
        >>> val_cfg = dict(type='RobustnessValLoop',
        ...                attacks=[dict(type='PGD', steps=10)])
    """

    stage = 'val'
