"""How far a difference of two mIoUs on the same images can be trusted: a
paired bootstrap over the images."""
from typing import Dict, Sequence, Tuple

import mmengine
import numpy as np


def pass_areas(path: str, name: str) -> Dict[str, object]:
    """One pass of a ``RobustnessTestLoop`` ``per_image_file``: the images'
    ``img_path`` (list) and their ``intersect`` and ``union`` areas
    (``(N, num_classes)`` arrays)."""
    rows = mmengine.load(path)
    if not rows or name not in rows[0]:
        passes = sorted(set(rows[0]) - {'img_path'}) if rows else []
        raise KeyError(f'{path} has no pass {name!r}; passes: {passes}')
    return dict(
        img_path=[row['img_path'] for row in rows],
        **{key: np.array([row[name][key] for row in rows])
           for key in ('intersect', 'union')})


def miou(intersect: np.ndarray, union: np.ndarray) -> np.ndarray:
    """mIoU in % as mmseg's ``IoUMetric`` computes it from summed areas:
    ``nanmean_c(ΣI_c / ΣU_c)`` (classes absent from prediction and label
    are skipped); the last axis is the class axis."""
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = intersect / union
    return 100 * np.nanmean(iou, axis=-1)


def paired_miou_interval(a: Dict[str, Sequence],
                         b: Dict[str, Sequence],
                         draws: int = 2000,
                         level: float = 0.95,
                         seed: int = 0) -> Tuple[float, float, float]:
    """mIoU(a) − mIoU(b) on the same images, with a paired percentile
    bootstrap interval.

    Each draw resamples the N images with replacement, the same images for
    both conditions, and recomputes both mIoUs from the resampled areas
    (mIoU is a ratio of sums, not a mean of per-image scores). Two attacks
    on one model, or two models under one attack, share the images, so
    the interval is much narrower than either mIoU's own.

    Args:
        a, b (dict): Per-image areas of two conditions, ``intersect`` and
            ``union``, each ``(N, num_classes)``, images in the same order
            (checked when both have ``img_path``, as :func:`pass_areas`
            gives them).
        draws (int): Bootstrap resamples. Defaults to 2000.
        level (float): Coverage of the interval, in (0, 1). Defaults to
            0.95.
        seed (int): Seed of the resampling. Defaults to 0.

    Returns:
        tuple[float, float, float]: The difference on all images and the
        interval's low and high end, in mIoU points.
    """
    if not 0 < level < 1:
        raise ValueError(f'level must be in (0, 1), got {level}')
    if 'img_path' in a and 'img_path' in b and a['img_path'] != b['img_path']:
        raise ValueError('a and b must hold the same images in the same '
                         'order (their img_path lists differ)')
    areas = [{k: np.asarray(s[k], dtype=np.float64)
              for k in ('intersect', 'union')} for s in (a, b)]
    shapes = {v.shape for s in areas for v in s.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError('a and b need intersect and union areas of one '
                         f'shape (images, classes), got {sorted(shapes)}')
    n = next(iter(shapes))[0]
    if n == 0:
        raise ValueError('a and b hold no images')
    counts = np.random.default_rng(seed).multinomial(
        n, np.full(n, 1 / n), size=draws).astype(np.float64)
    full = [miou(s['intersect'].sum(0), s['union'].sum(0)) for s in areas]
    resampled = [
        miou(counts @ s['intersect'], counts @ s['union']) for s in areas
    ]
    low, high = np.quantile(resampled[0] - resampled[1],
                            [(1 - level) / 2, (1 + level) / 2])
    return float(full[0] - full[1]), float(low), float(high)
