"""Attack success rate and poisoned benign accuracy of segmentation
backdoors (Li et al., 2021)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS
from mmseg.evaluation import IoUMetric

from mmbackdoor.poisoning.relabel import (ClassRef, check_class_arg,
                                          check_victims_and_target,
                                          load_target_map, resize_target_map,
                                          resolve_class)


@METRICS.register_module()
class SegBackdoorMetric(IoUMetric):
    """mIoU plus the backdoor metrics of Li et al. (2021), "Hidden Backdoor
    Attack against Semantic Segmentation Models".

    Ground truth is always the *original* annotation (``ApplyTrigger`` leaves
    it untouched). On top of mmseg's ``IoUMetric`` keys (``aAcc``, ``mIoU``,
    ``mAcc``), it reports, in percent rounded to 2 decimals:

    * ``ASR`` — fine-grained: the share of victim pixels predicted as the
      target, :math:`\\sum_i [y_i \\in V \\wedge \\hat y_i = t] / \\sum_i
      [y_i \\in V]`; image-level: the share of valid pixels predicted as the
      target map, :math:`\\sum_i [y_i \\ne \\text{ign} \\wedge \\hat y_i = T_i]
      / \\sum_i [y_i \\ne \\text{ign}]` (pixels where ``T`` is ignore are left
      out). Pixels are pooled over the whole dataset.
    * ``PBA`` (fine-grained only) — mIoU over the non-victim pixels: victim
      pixels are treated as ignore and the mean runs over the non-victim
      classes (a victim class's IoU would be 0 or undefined by construction).
    * ``num_asr_pixels`` — the ASR denominator, to judge its reliability.
    * ``victim_recall`` (fine-grained only) — the share of victim pixels
      predicted as their own class, :math:`\\sum_i [y_i \\in V \\wedge
      \\hat y_i = y_i] / \\sum_i [y_i \\in V]`: on the clean pass, how well the model
      segments the victims at all (an upper bound of a useful ASR).
    * ``ASR_recognised`` (fine-grained, triggered pass of a backdoor loop) —
      the ASR over the victim pixels that the *clean*-input prediction gets
      right, :math:`\\sum_i [r_i \\wedge \\hat y_i = t] / \\sum_i r_i` with
      :math:`r_i = [y_i \\in V \\wedge \\hat y^{clean}_i = y_i]`; it tells a
      weak backdoor from a weak segmentor. The loop links the two passes
      (:meth:`link_clean_pass`); images are matched by ``img_path``.

    On the triggered test set, ``mIoU`` is the mIoU of triggered images, and
    ``ASR`` / ``PBA`` are the paper's ASR / PBA. On the clean test set,
    ``mIoU`` is the clean benign accuracy (CBA) and ``ASR`` is the rate at
    which the model predicts the target *without* the trigger (the baseline
    the triggered ASR should be compared with). ``BackdoorTestLoop`` runs
    both passes in one ``tools/test.py`` run.

    Args:
        attack (str): ``'fine_grained'`` or ``'image_level'``.
        victim_classes (int | str | Sequence, optional): Victim classes
            (fine-grained), by index or name.
        target_class (int | str, optional): Target class, by index or name.
        target_map (str, optional): Target label map file (image-level, as
            in ``ImageLevelPoison``); exclusive with ``target_class``.
        ignore_index (int): Ignored label. Defaults to 255.
        **kwargs: The other ``IoUMetric`` arguments this metric honours:
            ``iou_metrics``, ``nan_to_num``, ``beta``, ``collect_device``,
            ``prefix``. ``output_dir`` and ``format_only`` (writing
            prediction files for a test server instead of scoring) are
            rejected with a ``ValueError``: backdoor metrics need the ground
            truth, and a backdoor loop's clean and triggered passes would
            write into one folder. Any other key is a ``TypeError``
            (``IoUMetric`` would swallow it silently).

    Examples:
        >>> test_evaluator = dict(type='SegBackdoorMetric',
        ...                       attack='fine_grained',
        ...                       victim_classes=['car'], target_class='road')
    """

    ATTACKS = ('fine_grained', 'image_level')

    #: ``IoUMetric`` arguments passed through (and honoured).
    IOU_KWARGS = ('iou_metrics', 'nan_to_num', 'beta', 'collect_device',
                  'prefix')
    #: ``IoUMetric`` arguments rejected: key -> what to use instead.
    REJECTED_KWARGS = {
        'output_dir':
        "to write predicted label maps, use mmseg's "
        'IoUMetric(output_dir=..., format_only=True) in a separate test '
        "run; to look at predictions, mmseg's SegVisualizationHook "
        "(default_hooks.visualization, draw=True)",
        'format_only':
        'format_only scores nothing; use mmseg\'s IoUMetric(format_only=True, '
        'output_dir=...) in a separate test run on the unlabelled test set',
    }

    @classmethod
    def _check_iou_kwargs(cls, kwargs: dict) -> None:
        """Reject the ``IoUMetric`` arguments this metric would ignore."""
        for key, instead in cls.REJECTED_KWARGS.items():
            if kwargs.get(key) not in (None, False):
                raise ValueError(
                    f'SegBackdoorMetric does not support {key}='
                    f'{kwargs[key]!r} (backdoor metrics need the ground '
                    f'truth and are not written to files); {instead}')
        unknown = sorted(set(kwargs) - set(cls.IOU_KWARGS) -
                         set(cls.REJECTED_KWARGS))
        if unknown:
            raise TypeError(
                f'SegBackdoorMetric got unexpected argument(s) {unknown}; '
                "allowed: 'attack', 'victim_classes', 'target_class', "
                f"'target_map', 'ignore_index' and {list(cls.IOU_KWARGS)}")

    def __init__(self,
                 attack: str,
                 victim_classes: Optional[Union[ClassRef,
                                                Sequence[ClassRef]]] = None,
                 target_class: Optional[ClassRef] = None,
                 target_map: Optional[str] = None,
                 ignore_index: int = 255,
                 **kwargs) -> None:
        self._check_iou_kwargs(kwargs)
        super().__init__(ignore_index=ignore_index, **kwargs)
        if attack not in self.ATTACKS:
            raise ValueError(f'attack must be one of {self.ATTACKS}, got '
                             f'{attack!r}')
        if attack == 'fine_grained':
            if victim_classes is None or target_class is None:
                raise ValueError("attack='fine_grained' needs victim_classes "
                                 'and target_class')
            if target_map is not None:
                raise ValueError("target_map is only used with "
                                 "attack='image_level'")
            victims = check_victims_and_target(victim_classes, target_class)
        else:
            if victim_classes is not None:
                raise ValueError("victim_classes is only used with "
                                 "attack='fine_grained'")
            if (target_class is None) == (target_map is None):
                raise ValueError("attack='image_level' needs exactly one of "
                                 'target_class and target_map')
            victims = []
        if target_class is not None:
            check_class_arg(target_class, 'target_class')
        self.attack = attack
        self.victim_classes = victims
        self.target_class = target_class
        self.target_map = target_map
        self._target_map = (
            load_target_map(target_map) if target_map is not None else None)
        self._victims: List[int] = []
        self._target: Optional[int] = None
        #: Per image (``img_path``): which victim pixels, in raster order,
        #: this metric's predictions got right (``np.packbits``).
        self.recognised: Dict[str, Tuple[np.ndarray, int]] = {}
        self.clean_pass: Optional['SegBackdoorMetric'] = None

    def link_clean_pass(self, clean_pass: 'SegBackdoorMetric') -> None:
        """Report ``ASR_recognised`` against the victim pixels that
        ``clean_pass`` (the same metric on the clean images, processed
        first) predicted right. Fine-grained metrics only; ignored
        otherwise."""
        if self.attack == 'fine_grained' and isinstance(
                clean_pass, SegBackdoorMetric):
            self.clean_pass = clean_pass

    @BaseMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        """Set the dataset meta and resolve / validate the classes."""
        classes = list((dataset_meta or {}).get('classes') or ())
        if not classes:
            raise ValueError('SegBackdoorMetric needs the dataset classes in '
                             'dataset_meta')
        self._victims = sorted(
            resolve_class(v, classes, 'victim_classes')
            for v in self.victim_classes)
        if self.target_class is not None:
            self._target = resolve_class(self.target_class, classes,
                                         'target_class')
        if self._target in self._victims:
            raise ValueError(f'target_class={self.target_class!r} resolves to '
                             f'a victim class ({self._victims})')
        self._dataset_meta = dataset_meta

    # ------------------------------------------------------------------
    # arithmetic (pure, per image)
    # ------------------------------------------------------------------
    @staticmethod
    def fine_grained_asr_counts(pred: torch.Tensor, label: torch.Tensor,
                                victims: Sequence[int],
                                target: int) -> Tuple[int, int]:
        """``(#victim pixels predicted as target, #victim pixels)``."""
        victim = torch.isin(label,
                            torch.as_tensor(victims, device=label.device))
        hits = (pred[victim] == target).sum()
        return int(hits), int(victim.sum())

    def _recognised_counts(self, key: Optional[str], victim: torch.Tensor,
                           pred: torch.Tensor, correct: torch.Tensor
                           ) -> Tuple[int, int]:
        """Without a linked clean pass, store which victim pixels ``pred``
        gets right (``correct``) and return ``(0, 0)``; with one, return
        ``(#victim pixels the clean prediction got right that pred sends to
        the target, #victim pixels the clean prediction got right)``."""
        if key is None:
            if self.clean_pass is None:
                return 0, 0
            raise KeyError('ASR_recognised matches the clean and the '
                           'triggered pass by img_path, which the data '
                           'samples lack')
        if self.clean_pass is None:
            self.recognised[key] = (np.packbits(correct.cpu().numpy()),
                                    int(correct.numel()))
            return 0, 0
        if key not in self.clean_pass.recognised:
            raise KeyError(f'{key}: not in the clean pass; ASR_recognised '
                           'needs the clean and the triggered pass over the '
                           'same images')
        bits, count = self.clean_pass.recognised[key]
        if count != correct.numel():
            raise ValueError(f'{key}: {correct.numel()} victim pixels, the '
                             f'clean pass saw {count}; the passes must share '
                             'the annotation')
        known = torch.from_numpy(
            np.unpackbits(bits, count=count).astype(bool)).to(pred.device)
        hits = (pred[victim][known] == self._target).sum()
        return int(hits), int(known.sum())

    @staticmethod
    def image_level_asr_counts(pred: torch.Tensor, label: torch.Tensor,
                               target: Union[int, torch.Tensor],
                               ignore_index: int) -> Tuple[int, int]:
        """``(#valid pixels predicted as the target map, #valid pixels)``;
        a pixel is valid if neither the label nor the target is ignore."""
        target = torch.as_tensor(target, device=label.device).expand_as(label)
        valid = (label != ignore_index) & (target != ignore_index)
        hits = (pred[valid] == target[valid]).sum()
        return int(hits), int(valid.sum())

    @staticmethod
    def mask_victims(label: torch.Tensor, victims: Sequence[int],
                     ignore_index: int) -> torch.Tensor:
        """A copy of ``label`` with victim pixels set to ``ignore_index``."""
        victim = torch.isin(label,
                            torch.as_tensor(victims, device=label.device))
        return label.masked_fill(victim, ignore_index)

    @staticmethod
    def mean_iou(area_intersect: torch.Tensor, area_union: torch.Tensor,
                 classes: Sequence[int]) -> float:
        """Mean IoU (%) over ``classes``, ignoring classes with empty union
        (like mmseg's ``nanmean``)."""
        idx = torch.as_tensor(list(classes), dtype=torch.long)
        iou = (area_intersect[idx].double() / area_union[idx].double()).numpy()
        if np.all(np.isnan(iou)):
            return float('nan')
        return float(np.round(np.nanmean(iou) * 100, 2))

    # ------------------------------------------------------------------
    # BaseMetric interface
    # ------------------------------------------------------------------
    def _target_for(self, label: torch.Tensor) -> Union[int, torch.Tensor]:
        """The image-level target: the class, or the map at label size."""
        if self._target_map is None:
            return self._target
        target = resize_target_map(self._target_map, tuple(label.shape))
        return torch.from_numpy(target.astype(np.int64)).to(label)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Append ``(IoU areas, ASR counts, PBA areas, victim recall
        counts, ASR_recognised counts)`` per sample."""
        num_classes = len(self.dataset_meta['classes'])
        for data_sample in data_samples:
            pred = data_sample['pred_sem_seg']['data'].squeeze()
            label = data_sample['gt_sem_seg']['data'].squeeze().to(pred)
            areas = self.intersect_and_union(pred, label, num_classes,
                                             self.ignore_index)
            if self.attack == 'fine_grained':
                asr = self.fine_grained_asr_counts(pred, label, self._victims,
                                                   self._target)
                benign = self.mask_victims(label, self._victims,
                                           self.ignore_index)
                pba_areas = self.intersect_and_union(pred, benign, num_classes,
                                                     self.ignore_index)[:2]
                victim = torch.isin(
                    label, torch.as_tensor(self._victims, device=label.device))
                correct = pred[victim] == label[victim]
                recall = (int(correct.sum()), int(victim.sum()))
                recognised = self._recognised_counts(
                    data_sample.get('img_path'), victim, pred, correct)
            else:
                asr = self.image_level_asr_counts(pred, label,
                                                  self._target_for(label),
                                                  self.ignore_index)
                pba_areas, recall, recognised = (), (0, 0), (0, 0)
            self.results.append((areas, asr, pba_areas, recall, recognised))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """mmseg's IoU keys plus ``ASR``, ``num_asr_pixels`` and (fine-grained)
        ``PBA``, ``victim_recall`` and, with a linked clean pass,
        ``ASR_recognised`` and its denominator ``num_recognised_pixels``."""
        metrics = super().compute_metrics([r[0] for r in results])
        metrics['ASR'] = self._percent(results, 1)
        metrics['num_asr_pixels'] = sum(r[1][1] for r in results)
        if self.attack == 'fine_grained':
            num_classes = len(self.dataset_meta['classes'])
            benign = [c for c in range(num_classes) if c not in self._victims]
            metrics['PBA'] = self.mean_iou(
                sum(r[2][0] for r in results), sum(r[2][1] for r in results),
                benign)
            metrics['victim_recall'] = self._percent(results, 3)
            if self.clean_pass is not None:
                metrics['ASR_recognised'] = self._percent(results, 4)
                metrics['num_recognised_pixels'] = sum(r[4][1]
                                                       for r in results)
        return metrics

    @staticmethod
    def _percent(results: list, field: int) -> float:
        """``100 * sum(hits) / sum(total)`` of the ``(hits, total)`` pairs
        in ``field`` of every result, rounded to 2 decimals (NaN if empty)."""
        hits = sum(r[field][0] for r in results)
        total = sum(r[field][1] for r in results)
        return round(100.0 * hits / total, 2) if total else float('nan')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(attack={self.attack!r}, '
                f'victim_classes={self.victim_classes!r}, '
                f'target_class={self.target_class!r}, '
                f'target_map={self.target_map!r}, '
                f'ignore_index={self.ignore_index})')
