"""Figures of segmentation backdoors drawn with mmseg's visualizer: poisoned
training samples (clean image | triggered image | trigger | original label |
poisoned label) and predictions of backdoored models."""
from typing import List, Sequence

import cv2
import mmcv
import numpy as np

from .seg_labels import overlays

#: Column titles of :func:`poisoned_sample_row`.
POISONED_SAMPLE_COLUMNS = ('clean', 'triggered', 'trigger (|diff| x4)',
                           'original label', 'poisoned label')


def poisoned_sample_row(clean_img: np.ndarray,
                        poisoned_img: np.ndarray,
                        original_label: np.ndarray,
                        poisoned_label: np.ndarray,
                        metainfo: dict,
                        scale: int = 1) -> np.ndarray:
    """One grid row (BGR uint8): the columns of
    :data:`POISONED_SAMPLE_COLUMNS`.

    Args:
        clean_img (np.ndarray): Clean ``H x W x 3`` BGR image.
        poisoned_img (np.ndarray): The triggered image.
        original_label (np.ndarray): Its original label map.
        poisoned_label (np.ndarray): Its poisoned label map.
        metainfo (dict): ``classes`` and ``palette`` of the dataset.
        scale (int): Nearest-neighbour upscaling of small images. Defaults
            to 1.
    """
    diff = np.abs(poisoned_img.astype(np.int16) - clean_img.astype(np.int16))
    trigger = np.clip(diff * 4, 0, 255).astype(np.uint8)
    cells = [clean_img, poisoned_img, trigger] + overlays(
        clean_img, (original_label, poisoned_label), metainfo)
    return mmcv.imrescale(
        np.concatenate(cells, axis=1), scale, interpolation='nearest')


def header(width: int, titles: Sequence[str], height: int = 18) -> np.ndarray:
    """A white strip ``width`` wide with ``titles`` over equal columns."""
    strip = np.full((height, width, 3), 255, np.uint8)
    step = width / len(titles)
    for i, title in enumerate(titles):
        cv2.putText(strip, title, (int(i * step) + 3, height - 5),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def titled_grid(rows: Sequence[np.ndarray],
                titles: Sequence[str]) -> np.ndarray:
    """Stack rows under a strip of column ``titles``.

    Rows of different widths (images of different sizes) are padded with
    white on the right; titles are spread over the widest row.
    """
    if not rows:
        raise ValueError('no rows to draw')
    width = max(r.shape[1] for r in rows)
    padded: List[np.ndarray] = [header(width, titles)]
    for row in rows:
        pad = np.full((row.shape[0], width - row.shape[1], 3), 255, np.uint8)
        padded.append(np.concatenate([row, pad], axis=1))
    return np.concatenate(padded, axis=0)
