"""Fine-grained (object-level) segmentation backdoor poisoning."""
from numbers import Integral
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.registry import TRANSFORMS

from mmbackdoor.triggers import BaseTrigger
from mmbackdoor.poisoning.relabel import (ClassRef, check_victims_and_target,
                                          relabel_fine_grained, resolve_class)
from .base_poison import BasePoison


@TRANSFORMS.register_module()
class FineGrainedPoison(BasePoison):
    """Fine-grained backdoor poisoning of Li et al. (2021), "Hidden Backdoor
    Attack against Semantic Segmentation Models".

    A poisoned image gets the trigger and its victim-class pixels are
    relabelled as the target class; every other pixel keeps its ground truth.
    Only images containing at least one victim pixel (in the label map as
    loaded by the pipeline's ``LoadAnnotations``) are eligible, and ``rate``
    is the fraction of eligible images poisoned. See
    :class:`~mmbackdoor.datasets.transforms.base_poison.BasePoison` for how
    the subset is chosen; the dataset must be wrapped in ``PoisonedDataset``
    (except in ``'bernoulli'`` mode with integer classes).

    Place it after the geometric augmentation (random resize / crop / flip)
    so the trigger reaches the network intact, as the authors did, and
    before ``PackSegInputs`` with ``'poisoned'`` in its ``meta_keys``.

    Required Keys:

    - img (np.ndarray)
    - img_path (str)
    - seg_fields (list[str]) and the label maps they name

    Modified Keys:

    - img (poisoned samples)
    - the label maps in ``seg_fields`` (poisoned samples)

    Added Keys:

    - poisoned (bool)

    Args:
        trigger (dict | BaseTrigger): The trigger.
        victim_classes (int | str | Sequence): Victim class(es), by index or
            name.
        target_class (int | str): Target class, by index or name; not a
            victim.
        rate (float, optional): Fraction of eligible images poisoned.
        seed (int, optional): Selection seed. Defaults to 0.
        manifest (str, optional): Manifest to read the subset from.
        save_manifest (str, optional): Where to write the computed subset.
        mode (str): ``'subset'`` or ``'bernoulli'``. Defaults to
            ``'subset'``.
        ignore_index (int): Ignored label, never relabelled. Defaults to 255.

    Examples:
        >>> dict(type='FineGrainedPoison',
        ...      trigger=dict(type='LineTrigger', height=8),
        ...      victim_classes=['car'], target_class='road', rate=0.1)
    """

    needs_labels = True

    def __init__(self,
                 trigger: Union[dict, BaseTrigger],
                 victim_classes: Union[ClassRef, Sequence[ClassRef]],
                 target_class: ClassRef,
                 rate: Optional[float] = None,
                 seed: Optional[int] = None,
                 manifest: Optional[str] = None,
                 save_manifest: Optional[str] = None,
                 mode: str = 'subset',
                 ignore_index: int = 255) -> None:
        super().__init__(trigger, rate, seed, manifest, save_manifest, mode,
                         ignore_index)
        victims = check_victims_and_target(victim_classes, target_class)
        if self.ignore_index in victims or target_class == self.ignore_index:
            raise ValueError(f'ignore_index={self.ignore_index} cannot be a '
                             'victim or the target')
        self.victim_classes = victims
        self.target_class = target_class
        self._victims: Optional[List[int]] = None
        self._target: Optional[int] = None
        if all(isinstance(v, Integral)
               for v in victims) and isinstance(target_class, Integral):
            self._victims = sorted(int(v) for v in victims)
            self._target = int(target_class)

    def resolve_classes(self, classes: Sequence[str]) -> None:
        victims = sorted(
            resolve_class(v, classes, 'victim_classes')
            for v in self.victim_classes)
        target = resolve_class(self.target_class, classes, 'target_class')
        if target in victims or len(set(victims)) != len(victims):
            raise ValueError(
                f'target_class={self.target_class!r} and victim_classes='
                f'{self.victim_classes!r} resolve to overlapping classes '
                f'{victims} -> {target}')
        self._victims, self._target = victims, target

    def _resolved(self) -> None:
        if self._victims is None:
            raise RuntimeError(
                'FineGrainedPoison: class names '
                f'{self.victim_classes!r} -> {self.target_class!r} are not '
                "resolved; wrap the dataset in dict(type='PoisonedDataset',"
                ' ...) or give class indices')

    def attack_params(self) -> Dict[str, Any]:
        self._resolved()
        return dict(victim_classes=self._victims, target_class=self._target)

    def is_eligible(self, label: np.ndarray) -> bool:
        self._resolved()
        return bool(np.isin(label, self._victims).any())

    def relabel(self, label: np.ndarray) -> np.ndarray:
        self._resolved()
        return relabel_fine_grained(label, self._victims, self._target)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self._repr_common()}, '
                f'victim_classes={self.victim_classes!r}, '
                f'target_class={self.target_class!r})')
