"""The label colouring and the rows / grids of the figures."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmbackdoor.visualization.prediction_grid import seg_prediction_rows
from mmbackdoor.visualization.seg_backdoor_grid import (
    POISONED_SAMPLE_COLUMNS, header, poisoned_sample_row, titled_grid)
from mmbackdoor.visualization.seg_labels import (colour_label, draw_label,
                                                 label_row)

META = dict(classes=('a', 'b'), palette=[[255, 0, 0], [0, 0, 255]])


def test_draw_label_uses_the_palette_and_skips_ignore():
    image = np.zeros((2, 2, 3), np.uint8)
    label = np.array([[0, 1], [255, 1]], np.uint8)
    out = draw_label(image, label, META, alpha=1.0)
    assert out[0, 0].tolist() == [255, 0, 0]
    assert out[0, 1].tolist() == [0, 0, 255]
    assert out[1, 0].tolist() == [0, 0, 0]


def test_row_and_grid_layout():
    clean = np.full((4, 6, 3), 50, np.uint8)
    poisoned = clean.copy()
    poisoned[0] = 0
    label = np.zeros((4, 6), np.uint8)
    row = poisoned_sample_row(clean, poisoned, label, label + 1, META, scale=2)
    assert row.shape == (8, 2 * 6 * len(POISONED_SAMPLE_COLUMNS), 3)
    # The trigger column shows |diff| x 4 = 200 on the first image row.
    trigger = row[:, 2 * 12:3 * 12]
    assert (trigger[:2] == 200).all() and (trigger[2:] == 0).all()
    grid = titled_grid([row, row[:, :30]], POISONED_SAMPLE_COLUMNS)
    strip = header(row.shape[1], POISONED_SAMPLE_COLUMNS)
    assert grid.shape == (strip.shape[0] + 16, row.shape[1], 3)
    assert (grid[-8:, 30:] == 255).all()  # the short row is padded white
    with pytest.raises(ValueError, match='no rows'):
        titled_grid([], POISONED_SAMPLE_COLUMNS)
    labels = label_row(clean, [label, label + 1], META)
    assert labels.shape == (4, 3 * 6, 3)
    assert (labels[:, :6] == clean).all()


def test_colour_label_is_the_palette_on_white():
    label = np.array([[0, 1], [255, 1]], np.uint8)
    out = colour_label(label, META)
    assert out.dtype == np.uint8
    assert out.tolist() == [[[255, 0, 0], [0, 0, 255]],
                            [[255, 255, 255], [0, 0, 255]]]


def test_seg_prediction_rows_draw_image_truth_and_prediction():
    image = torch.full((3, 2, 2), 40, dtype=torch.uint8)  # packed BGR
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[0, 1], [1, 1]]]))
    sample.pred_sem_seg = PixelData(data=torch.tensor([[[1, 1], [1, 0]]]))
    (row, ) = seg_prediction_rows([image], [sample], META, scale=2)
    assert row.shape == (4, 3 * 4, 3)
    assert (row[:, :4] == 40).all()
    expected = label_row(
        np.full((2, 2, 3), 40, np.uint8),
        [np.array([[0, 1], [1, 1]]),
         np.array([[1, 1], [1, 0]])], META, scale=2)
    assert (row == expected).all()
    # Top-left pixel: class 0 (red) in the ground truth, class 1 (blue) in
    # the prediction; BGR channels 2 and 0.
    assert row[0, 4, 2] > 40 > row[0, 4, 0]
    assert row[0, 8, 0] > 40 > row[0, 8, 2]
