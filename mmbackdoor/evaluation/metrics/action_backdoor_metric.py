"""Top-1 and attack success rate of a video backdoor (Zhao et al., 2020)."""
from numbers import Integral
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS


@METRICS.register_module()
class ActionBackdoorMetric(BaseMetric):
    """Top-1 accuracy and attack success rate (ASR) of a video backdoor.

    Zhao et al., "Clean-Label Backdoor Attacks on Video Recognition Models"
    (CVPR 2020). With labels :math:`y_i`, predictions :math:`\\hat y_i` and
    the target class :math:`t`:

    * ``top1`` -- :math:`|\\{i : \\hat y_i = y_i\\}| / n`;
    * ``ASR`` -- the share of videos *not* of the target class predicted as
      the target, :math:`|\\{i : y_i \\neq t,\\ \\hat y_i = t\\}| /
      |\\{i : y_i \\neq t\\}|`. Target-class videos are left out: they
      would count as successes without any backdoor;
    * ``num_nontarget`` -- the ASR denominator.

    The prediction is the argmax of ``pred_score`` (the recognizer's
    view-averaged score), so multi-clip / multi-crop testing is the model's
    business. Percentages in ``[0, 100]``, rounded to 2 decimals.

    Used with ``BackdoorTestLoop`` (one ``tools/test.py`` run, a clean and a
    triggered pass), it yields ``clean/top1`` (clean accuracy),
    ``triggered/ASR`` (the attack's ASR) and ``clean/ASR`` (how often the
    model predicts the target without the trigger, the floor the triggered
    ASR should be read against).

    Args:
        target_class (int): The target class :math:`t`; checked against the
            dataset's ``classes`` (when it has them) as soon as the evaluator
            is bound to the dataset, and against the score length on the
            first batch.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the keys. Defaults to None.

    Examples:
        >>> test_evaluator = dict(type='ActionBackdoorMetric', target_class=0)
        >>> test_cfg = dict(
        ...     type='BackdoorTestLoop',
        ...     trigger=dict(type='UniversalTrigger',
        ...                  trigger_file='trigger.npy', clip_len=16),
        ...     summary=[('top1', 'clean/top1'), ('ASR', 'triggered/ASR')])
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 target_class: int,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        if isinstance(target_class, bool) or not isinstance(
                target_class, Integral) or target_class < 0:
            raise ValueError('target_class must be a non-negative class '
                             f'index, got {target_class!r}')
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.target_class = int(target_class)

    @BaseMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        """Set the dataset meta and check ``target_class`` against its
        classes."""
        classes = (dataset_meta or {}).get('classes')
        if classes is not None and self.target_class >= len(classes):
            raise ValueError(
                f'target_class={self.target_class} is out of range: the '
                f'dataset has {len(classes)} classes {tuple(classes)}; '
                f'allowed: 0..{len(classes) - 1}')
        self._dataset_meta = dataset_meta

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep ``(label, predicted class)`` of every video."""
        for sample in data_samples:
            score = np.asarray(sample['pred_score'].cpu())
            if self.target_class >= score.shape[-1]:
                raise ValueError(
                    f'target_class={self.target_class} is out of range for '
                    f'a model with {score.shape[-1]} classes')
            self.results.append(
                (int(sample['gt_label'].item()), int(score.argmax())))

    @staticmethod
    def top1(labels: Sequence[int], preds: Sequence[int]) -> float:
        """Top-1 accuracy in percent."""
        return float(100 * np.mean(np.asarray(labels) == np.asarray(preds)))

    @staticmethod
    def attack_success_rate(labels: Sequence[int], preds: Sequence[int],
                            target_class: int) -> float:
        """ASR in percent over the videos whose label is not the target.

        Args:
            labels (Sequence[int]): Ground-truth classes.
            preds (Sequence[int]): Predicted classes.
            target_class (int): The target class.

        Returns:
            float: ASR in ``[0, 100]``; NaN if every video is of the target
            class.
        """
        labels = np.asarray(labels)
        preds = np.asarray(preds)
        others = labels != target_class
        if not others.any():
            return float('nan')
        return float(100 * np.mean(preds[others] == target_class))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """``top1``, ``ASR`` (percent, 2 decimals) and ``num_nontarget``."""
        labels = [label for label, _ in results]
        preds = [pred for _, pred in results]
        return dict(
            top1=round(self.top1(labels, preds), 2),
            ASR=round(
                self.attack_success_rate(labels, preds, self.target_class),
                2),
            num_nontarget=sum(label != self.target_class
                              for label in labels))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(target_class={self.target_class}, '
                f'prefix={self.prefix!r})')
