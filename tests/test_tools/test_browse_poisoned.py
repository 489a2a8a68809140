"""tools/analysis_tools/browse_poisoned.py and the poisoned-sample grid."""
import os.path as osp
import runpy
import sys

import mmcv
import numpy as np
import pytest

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.embedded_seg  # noqa: F401
import mmbackdoor.engine.runner  # noqa: F401
import mmbackdoor.evaluation.metrics.seg_backdoor_metric  # noqa: F401
from mmbackdoor.visualization.seg_backdoor_grid import (
    POISONED_SAMPLE_COLUMNS, draw_label, header, label_row,
    poisoned_sample_row, titled_grid)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'browse_poisoned.py')
CONFIG = osp.join(REPO, 'configs', 'backdoor_seg',
                  'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
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


def test_tool_draws_the_first_poisoned_samples(embedded_seg_root, tmp_path,
                                               capsys):
    out = str(tmp_path / 'grid.png')
    argv = sys.argv
    sys.argv = [
        TOOL, CONFIG, '--out', out, '--num', '2', '--scale', '2',
        '--cfg-options',
        f'train_dataloader.dataset.dataset.data_root={embedded_seg_root}',
        'train_dataloader.dataset.dataset.generate=False',
        'train_dataloader.dataset.dataset.pipeline.4.rate=0.5'
    ]
    try:
        runpy.run_path(TOOL, run_name='__main__')
    finally:
        sys.argv = argv
    assert '2 poisoned samples drawn' in capsys.readouterr().out
    grid = mmcv.imread(out)
    assert grid.shape[1] == 32 * 2 * len(POISONED_SAMPLE_COLUMNS)
    assert grid.shape[0] == header(
        grid.shape[1], POISONED_SAMPLE_COLUMNS).shape[0] + 2 * 32 * 2
