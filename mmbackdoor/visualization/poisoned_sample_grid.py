"""A grid of poisoned segmentation samples drawn with mmseg's visualizer:
clean image | triggered image | trigger | original label | poisoned label."""
from typing import List, Sequence

import cv2
import mmcv
import numpy as np

#: Column titles of :func:`poisoned_sample_row`.
COLUMNS = ('clean', 'triggered', 'trigger (|diff| x4)', 'original label',
           'poisoned label')


def draw_label(image: np.ndarray, label: np.ndarray, metainfo: dict,
               alpha: float = 0.6, ignore_index: int = 255) -> np.ndarray:
    """``image`` (RGB) with ``label`` overlaid in the dataset's palette by
    mmseg's ``SegLocalVisualizer`` (ignore pixels left uncoloured).

    Args:
        image (np.ndarray): ``H x W x 3`` RGB uint8 image.
        label (np.ndarray): ``H x W`` class indices.
        metainfo (dict): ``classes`` and ``palette`` of the dataset.
        alpha (float): Opacity of the label colours. Defaults to 0.6.
        ignore_index (int): Label left uncoloured. Defaults to 255.

    Returns:
        np.ndarray: RGB uint8 image.
    """
    from mmseg.visualization import SegLocalVisualizer
    vis = SegLocalVisualizer.get_instance('mmbackdoor_poisoned_grid')
    vis.set_dataset_meta(
        classes=metainfo['classes'], palette=metainfo['palette'])
    vis.set_image(image)
    ids = np.array([i for i in np.unique(label) if i != ignore_index])
    if ids.size:
        palette = vis.dataset_meta['palette']
        vis.draw_binary_masks(
            label[None] == ids[:, None, None],
            colors=[tuple(palette[i]) for i in ids],
            alphas=alpha)
    return vis.get_image()


def poisoned_sample_row(clean_img: np.ndarray, poisoned_img: np.ndarray,
                        original_label: np.ndarray,
                        poisoned_label: np.ndarray, metainfo: dict,
                        scale: int = 1) -> np.ndarray:
    """One grid row (BGR uint8): the columns of :data:`COLUMNS`.

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
    rgb = np.ascontiguousarray(clean_img[..., ::-1])
    cells = [clean_img, poisoned_img, trigger] + [
        draw_label(rgb, label, metainfo)[..., ::-1]
        for label in (original_label, poisoned_label)
    ]
    row = np.concatenate(cells, axis=1)
    return mmcv.imrescale(row, scale, interpolation='nearest')


def header(width: int, num_columns: int = len(COLUMNS),
           height: int = 18) -> np.ndarray:
    """A white strip with the column titles, for a grid ``width`` wide."""
    strip = np.full((height, width, 3), 255, np.uint8)
    step = width / num_columns
    for i, title in enumerate(COLUMNS[:num_columns]):
        cv2.putText(strip, title, (int(i * step) + 3, height - 5),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return strip


def poisoned_sample_grid(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Stack rows of :func:`poisoned_sample_row` under a title strip.

    Rows of different widths (images of different sizes) are padded with
    white on the right.
    """
    if not rows:
        raise ValueError('no rows to draw')
    width = max(r.shape[1] for r in rows)
    padded: List[np.ndarray] = [header(width)]
    for row in rows:
        pad = np.full((row.shape[0], width - row.shape[1], 3), 255, np.uint8)
        padded.append(np.concatenate([row, pad], axis=1))
    return np.concatenate(padded, axis=0)
