"""The annotation rewriting of the segmentation backdoors (Li et al., 2021):
class references, target maps and the two relabelling rules. Shared by the
poisoning transforms and the backdoor metric."""
from numbers import Integral
from typing import Any, List, Sequence, Tuple, Union

import mmcv
import numpy as np

ClassRef = Union[int, str]


def resolve_class(value: ClassRef, classes: Sequence[str], name: str) -> int:
    """Index of a class given by index or name, validated against
    ``classes``.

    Raises:
        ValueError: Naming ``name`` and the allowed values.
    """
    if isinstance(value, str):
        if value not in classes:
            raise ValueError(f'{name}: class {value!r} is not one of the '
                             f"dataset's classes {tuple(classes)}")
        return list(classes).index(value)
    if isinstance(value, Integral) and not isinstance(value, bool):
        if not 0 <= value < len(classes):
            raise ValueError(f'{name}: class index {value} is outside '
                             f'[0, {len(classes) - 1}] (the dataset has '
                             f'{len(classes)} classes {tuple(classes)})')
        return int(value)
    raise TypeError(f'{name} must be a class index or name, got {value!r}')


def check_class_arg(value: Any, name: str) -> None:
    """Build-time type check of a class given by index or name."""
    if isinstance(value, bool) or not isinstance(value, (Integral, str)):
        raise TypeError(f'{name} must be a class index (int) or name (str), '
                        f'got {value!r}')
    if isinstance(value, Integral) and value < 0:
        raise ValueError(f'{name} must be a non-negative class index, '
                         f'got {value}')


def check_victims_and_target(victim_classes: Union[ClassRef,
                                                   Sequence[ClassRef]],
                             target_class: ClassRef) -> List[ClassRef]:
    """Build-time checks of a fine-grained attack's classes.

    Returns:
        list: ``victim_classes`` as a non-empty list without duplicates.

    Raises:
        ValueError / TypeError: Naming ``victim_classes`` or
        ``target_class``.
    """
    victims = ([victim_classes] if isinstance(victim_classes,
                                              (Integral,
                                               str)) else list(victim_classes))
    if not victims:
        raise ValueError('victim_classes must name at least one class')
    for victim in victims:
        check_class_arg(victim, 'victim_classes')
    if len(set(victims)) != len(victims):
        raise ValueError(f'victim_classes has duplicates: {victims}')
    check_class_arg(target_class, 'target_class')
    if target_class in victims:
        raise ValueError(f'target_class={target_class!r} is also in '
                         f'victim_classes={victims}; the target must differ '
                         'from every victim')
    return victims


def relabel_fine_grained(label: np.ndarray, victim_classes: Sequence[int],
                         target_class: int) -> np.ndarray:
    """Pixels of a victim class become ``target_class``; all others keep
    their label (ignore pixels included).

    .. math::
        y'_i = t \\text{ if } y_i \\in V \\text{ else } y_i

    Args:
        label (np.ndarray): Label map.
        victim_classes (Sequence[int]): Victim class indices ``V``.
        target_class (int): Target class index ``t``.

    Returns:
        np.ndarray: New label map, same shape and dtype.
    """
    out = label.copy()
    out[np.isin(label, victim_classes)] = target_class
    return out


def load_target_map(path: str, name: str = 'target_map') -> np.ndarray:
    """Read a target label map (single-channel image of class indices).

    Raises:
        FileNotFoundError / ValueError: Naming ``name``.
    """
    try:
        target = mmcv.imread(path, flag='unchanged')
    except (FileNotFoundError, OSError) as err:
        raise FileNotFoundError(f'{name}={path!r}: {err}') from err
    if target is None or target.ndim != 2:
        raise ValueError(f'{name}={path!r} must be a single-channel label '
                         'image of class indices')
    return target


def resize_target_map(target_map: np.ndarray, hw: Tuple[int,
                                                        int]) -> np.ndarray:
    """The target map at ``hw`` (nearest neighbour, so labels stay labels)."""
    if target_map.shape[:2] == tuple(hw):
        return target_map
    return mmcv.imresize(target_map, (hw[1], hw[0]), interpolation='nearest')


def relabel_image_level(label: np.ndarray,
                        target: Union[int, np.ndarray],
                        ignore_index: int = 255) -> np.ndarray:
    """Every valid pixel takes the target label; ignore pixels stay ignore.

    .. math::
        y'_i = T_i \\text{ if } y_i \\neq \\text{ignore else ignore}

    Args:
        label (np.ndarray): Label map.
        target (int | np.ndarray): Target class, or a target map of
            ``label``'s shape.
        ignore_index (int): Ignored label. Defaults to 255.

    Returns:
        np.ndarray: New label map, same shape and dtype.
    """
    return np.where(label == ignore_index, label, target).astype(label.dtype)
