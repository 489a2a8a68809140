"""Image-level segmentation backdoor poisoning."""
import hashlib
from numbers import Integral
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.registry import TRANSFORMS

from mmbackdoor.triggers import BaseTrigger
from mmbackdoor.poisoning.relabel import (ClassRef, check_class_arg,
                                          load_target_map,
                                          relabel_image_level,
                                          resize_target_map, resolve_class)
from .base_poison import BasePoison


@TRANSFORMS.register_module()
class ImageLevelPoison(BasePoison):
    """Image-level backdoor poisoning of Li et al. (2021), "Hidden Backdoor
    Attack against Semantic Segmentation Models".

    A poisoned image gets the trigger and its whole annotation becomes the
    target: every valid pixel is relabelled ``target_class``, or the class
    of ``target_map`` at that pixel (the map is resized, nearest neighbour,
    to the current label map, i.e. it is the output the attacker wants for
    the network input whatever the augmentation). Ignore pixels stay ignore.
    Every image is eligible. See
    :class:`~mmbackdoor.datasets.transforms.base_poison.BasePoison` for the
    selection; wrap the dataset in ``PoisonedDataset``.

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
        target_class (int | str, optional): Target class of every pixel.
        target_map (str, optional): Label image with the target class of
            each pixel. Exactly one of ``target_class`` and ``target_map``.
        rate (float, optional): Fraction of images poisoned.
        seed (int, optional): Selection seed. Defaults to 0.
        manifest (str, optional): Manifest to read the subset from.
        save_manifest (str, optional): Where to write the computed subset.
        mode (str): ``'subset'`` or ``'bernoulli'``. Defaults to
            ``'subset'``.
        ignore_index (int): Ignored label. Defaults to 255.

    Examples:
        >>> dict(type='ImageLevelPoison',
        ...      trigger=dict(type='LineTrigger', height=8),
        ...      target_class=0, rate=0.1)
    """

    def __init__(self,
                 trigger: Union[dict, BaseTrigger],
                 target_class: Optional[ClassRef] = None,
                 target_map: Optional[str] = None,
                 rate: Optional[float] = None,
                 seed: Optional[int] = None,
                 manifest: Optional[str] = None,
                 save_manifest: Optional[str] = None,
                 mode: str = 'subset',
                 ignore_index: int = 255) -> None:
        super().__init__(trigger, rate, seed, manifest, save_manifest, mode,
                         ignore_index)
        if (target_class is None) == (target_map is None):
            raise ValueError('give exactly one of target_class and '
                             f'target_map, got target_class={target_class!r}'
                             f', target_map={target_map!r}')
        self.target_class = target_class
        self.target_map = target_map
        self._target: Optional[int] = None
        self._target_map: Optional[np.ndarray] = None
        if target_class is not None:
            check_class_arg(target_class, 'target_class')
            if target_class == self.ignore_index:
                raise ValueError(f'target_class={target_class} is the '
                                 'ignore_index')
            if isinstance(target_class, Integral):
                self._target = int(target_class)
        else:
            self._target_map = load_target_map(target_map)

    def resolve_classes(self, classes: Sequence[str]) -> None:
        if self.target_class is not None:
            self._target = resolve_class(self.target_class, classes,
                                         'target_class')
            return
        values = np.unique(self._target_map)
        bad = values[(values >= len(classes)) & (values != self.ignore_index)]
        if bad.size:
            raise ValueError(
                f'target_map={self.target_map!r} holds labels '
                f'{bad.tolist()} outside the dataset\'s {len(classes)} '
                f'classes {tuple(classes)} (and ignore {self.ignore_index})')

    def target_for(self, hw: Tuple[int, int]) -> Union[int, np.ndarray]:
        """The target label (class or map resized to ``hw``)."""
        if self._target_map is not None:
            return resize_target_map(self._target_map, hw)
        if self._target is None:
            raise RuntimeError(
                f'ImageLevelPoison: class name {self.target_class!r} is not '
                "resolved; wrap the dataset in dict(type='PoisonedDataset', "
                '...) or give a class index')
        return self._target

    def attack_params(self) -> Dict[str, Any]:
        if self._target_map is not None:
            digest = hashlib.sha256(
                np.ascontiguousarray(self._target_map).tobytes()).hexdigest()
            return dict(target_map_sha256=digest)
        return dict(target_class=self.target_for((0, 0)))

    def relabel(self, label: np.ndarray) -> np.ndarray:
        return relabel_image_level(label, self.target_for(label.shape[:2]),
                                   self.ignore_index)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self._repr_common()}, '
                f'target_class={self.target_class!r}, '
                f'target_map={self.target_map!r})')
