"""Validation / test loops that evaluate the clean and the triggered copy of
a dataset in one run (CBA, PBA and ASR of a backdoor together)."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import LOOPS
from mmengine.runner import TestLoop, ValLoop
from torch.utils.data import DataLoader

from mmbackdoor.utils import dataset_cfg_with_pipeline, type_name
from .multi_pass_loop import MultiPassLoopMixin

#: Default summary: alias -> prefixed metric key it copies.
DEFAULT_SUMMARY = (('CBA', 'clean/mIoU'), ('PBA', 'triggered/PBA'),
                   ('ASR', 'triggered/ASR'),
                   ('ASR_recognised', 'triggered/ASR_recognised'))
#: Transforms before which ``ApplyTrigger`` is inserted (first match).
DEFAULT_INSERT_BEFORE = ('PackSegInputs', 'FormatShape', 'PackActionInputs')


def insert_trigger(
        dataloader_cfg: dict,
        trigger: dict,
        insert_before: Sequence[str] = DEFAULT_INSERT_BEFORE) -> dict:
    """A copy of a dataloader config whose pipeline stamps ``trigger``.

    ``dict(type='ApplyTrigger', trigger=trigger)`` goes before the first
    transform whose type is in ``insert_before`` (by default the packing /
    formatting transform, i.e. after resizing, at network-input scale).
    Dataset wrappers (``dataset=dict(dataset=...)``) are descended.

    Args:
        dataloader_cfg (dict): Dataloader config.
        trigger (dict): Trigger config.
        insert_before (Sequence[str]): Transform type names.

    Returns:
        dict: The new config (the input is not modified).
    """
    cfg = copy.deepcopy(dataloader_cfg)
    try:
        pipeline = dataset_cfg_with_pipeline(cfg['dataset'])['pipeline']
    except ValueError as err:
        raise ValueError(f'insert_trigger: {err}') from err
    if not pipeline:
        raise ValueError('insert_trigger: the dataloader config has no '
                         'dataset pipeline')
    names = [type_name(t.get('type')) for t in pipeline]
    position = next(
        (i for i, name in enumerate(names) if name in insert_before), None)
    if position is None:
        raise ValueError(f'insert_before={tuple(insert_before)}: none of '
                         f'these transforms is in the pipeline {names}')
    pipeline.insert(position, dict(type='ApplyTrigger', trigger=trigger))
    return cfg


class _BackdoorLoopMixin(MultiPassLoopMixin):
    """Two passes (clean, then triggered) sharing one set of stage hooks.

    Mixed into mmengine's ``ValLoop`` / ``TestLoop``; see
    :class:`BackdoorTestLoop` for the arguments.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 trigger: Optional[dict] = None,
                 triggered_dataloader: Optional[Union[DataLoader,
                                                      Dict]] = None,
                 triggered_evaluator: Optional[Union[Evaluator, Dict,
                                                     List]] = None,
                 insert_before: Sequence[str] = DEFAULT_INSERT_BEFORE,
                 summary: Sequence[Tuple[str, str]] = DEFAULT_SUMMARY,
                 fp16: bool = False) -> None:
        if (trigger is None) == (triggered_dataloader is None):
            raise ValueError('give exactly one of trigger (ApplyTrigger is '
                             'inserted into a copy of dataloader) and '
                             'triggered_dataloader')
        if trigger is not None:
            if not isinstance(dataloader, dict):
                raise TypeError('trigger needs dataloader as a config dict; '
                                'pass triggered_dataloader instead')
            triggered_dataloader = insert_trigger(dataloader, trigger,
                                                  insert_before)
        if triggered_evaluator is None:
            if not isinstance(evaluator, (dict, list)):
                raise TypeError('triggered_evaluator is required when '
                                'evaluator is an Evaluator instance')
            triggered_evaluator = copy.deepcopy(evaluator)
        super().__init__(runner, dataloader, evaluator, fp16)
        if isinstance(triggered_dataloader, dict):
            triggered_dataloader = runner.build_dataloader(
                triggered_dataloader,
                seed=runner.seed,
                diff_rank_seed=runner._randomness_cfg.get(
                    'diff_rank_seed', False))
        self.triggered_dataloader = triggered_dataloader
        if isinstance(triggered_evaluator, (dict, list)):
            triggered_evaluator = runner.build_evaluator(triggered_evaluator)
        self.triggered_evaluator = triggered_evaluator
        dataset = self.triggered_dataloader.dataset
        if hasattr(dataset, 'metainfo'):
            self.triggered_evaluator.dataset_meta = dataset.metainfo
        self.trigger = trigger
        self.summary = tuple((alias, key) for alias, key in summary)
        # Metrics that compare the triggered with the clean prediction of an
        # image (SegBackdoorMetric's ASR_recognised) see their clean twin.
        for clean, triggered in zip(self.evaluator.metrics,
                                    self.triggered_evaluator.metrics):
            if hasattr(triggered, 'link_clean_pass'):
                triggered.link_clean_pass(clean)

    @torch.no_grad()
    def run_passes(self) -> dict:
        """The clean and the triggered pass; their metrics with ``clean/``
        and ``triggered/`` prefixes plus the summary aliases. Iteration hooks
        fire once per batch of each pass, ``batch_idx`` restarting at 0 for
        each pass."""
        metrics = {}
        for name, dataloader, evaluator in (
            ('clean', self.dataloader, self.evaluator),
            ('triggered', self.triggered_dataloader, self.triggered_evaluator)
        ):
            for idx, data_batch in enumerate(dataloader):
                self.before_iter(idx, data_batch)
                outputs = self.model_step(data_batch)
                evaluator.process(data_samples=outputs, data_batch=data_batch)
                self.after_iter(idx, data_batch, outputs)
            metrics.update(
                self.prefixed(name,
                              evaluator.evaluate(len(dataloader.dataset))))
        for alias, key in self.summary:
            if key in metrics:
                metrics[alias] = metrics[key]
        return metrics


@LOOPS.register_module()
class BackdoorTestLoop(_BackdoorLoopMixin, TestLoop):
    """Test loop over clean and triggered data.

    One ``tools/test.py`` run evaluates the model on the clean test set and
    on a triggered copy (Li et al., 2021). With ``SegBackdoorMetric`` it
    reports ``clean/mIoU`` (CBA), ``triggered/ASR`` and ``triggered/PBA``,
    their aliases ``CBA``, ``PBA``, ``ASR``, and the clean-image baseline
    ``clean/ASR``. Each pass is sharded over the ranks by its sampler and its
    results collected by its evaluator, so distributed testing works as with
    mmengine's ``TestLoop``. The model's loss outputs are not tracked.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The clean dataloader.
        evaluator (Evaluator | dict | list): Metrics of the clean pass, e.g.
            ``dict(type='SegBackdoorMetric', ...)``.
        trigger (dict, optional): Trigger config; the triggered dataloader is
            ``dataloader`` with ``ApplyTrigger(trigger)`` inserted before the
            first transform named in ``insert_before``.
        triggered_dataloader (DataLoader | dict, optional): An explicit
            triggered dataloader instead of ``trigger``.
        triggered_evaluator (Evaluator | dict | list, optional): Metrics of
            the triggered pass. Defaults to a copy of ``evaluator``.
        insert_before (Sequence[str]): See :func:`insert_trigger`. Defaults
            to ``('PackSegInputs', 'FormatShape', 'PackActionInputs')``.
        summary (Sequence[tuple[str, str]]): ``(alias, key)`` pairs copied
            to the top level when ``key`` exists. Defaults to
            ``CBA <- clean/mIoU``, ``PBA <- triggered/PBA``,
            ``ASR <- triggered/ASR``, ``ASR_recognised <-
            triggered/ASR_recognised``.
        fp16 (bool): Evaluate under autocast. Defaults to False.

    Examples:
        >>> test_cfg = dict(type='BackdoorTestLoop',
        ...                 trigger=dict(type='LineTrigger', height=8))
        >>> test_evaluator = dict(type='SegBackdoorMetric',
        ...                       attack='fine_grained',
        ...                       victim_classes=['car'], target_class='road')
    """

    stage = 'test'


@LOOPS.register_module()
class BackdoorValLoop(_BackdoorLoopMixin, ValLoop):
    """Validation loop over clean and triggered data: :class:`BackdoorTestLoop`
    for ``val_cfg``, so training logs CBA / PBA / ASR at every validation
    (and ``save_best`` can use them).

    Examples:
        >>> val_cfg = dict(type='BackdoorValLoop',
        ...                trigger=dict(type='LineTrigger', height=8))
    """

    stage = 'val'
