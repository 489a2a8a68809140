"""Label maps drawn in a dataset's palette by mmseg's
``SegLocalVisualizer``: the one label colouring of the figures."""
from typing import List, Sequence

import mmcv
import numpy as np


def draw_label(image: np.ndarray,
               label: np.ndarray,
               metainfo: dict,
               alpha: float = 0.6,
               ignore_index: int = 255) -> np.ndarray:
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


def overlays(image: np.ndarray, label_maps: Sequence[np.ndarray],
             metainfo: dict) -> List[np.ndarray]:
    """BGR ``image`` overlaid with each label map, as BGR cells."""
    rgb = np.ascontiguousarray(image[..., ::-1])
    return [draw_label(rgb, m, metainfo)[..., ::-1] for m in label_maps]


def colour_label(label: np.ndarray,
                 metainfo: dict,
                 ignore_index: int = 255) -> np.ndarray:
    """``label`` in the dataset's palette on white (ignore pixels white):
    :func:`draw_label` at full opacity. Returns an RGB uint8 image."""
    white = np.full(label.shape + (3, ), 255, np.uint8)
    return draw_label(white, label, metainfo, 1.0, ignore_index)


def label_row(image: np.ndarray,
              label_maps: Sequence[np.ndarray],
              metainfo: dict,
              scale: int = 1) -> np.ndarray:
    """``image`` followed by ``image`` overlaid with each label map (e.g.
    ground truth and predictions), one BGR uint8 row.

    Args:
        image (np.ndarray): ``H x W x 3`` BGR image.
        label_maps (Sequence[np.ndarray]): ``H x W`` class maps.
        metainfo (dict): ``classes`` and ``palette`` of the dataset.
        scale (int): Nearest-neighbour upscaling. Defaults to 1.
    """
    cells = [image] + overlays(image, label_maps, metainfo)
    return mmcv.imrescale(
        np.concatenate(cells, axis=1), scale, interpolation='nearest')
