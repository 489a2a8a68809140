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
from mmbackdoor.datasets.embedded_seg import generate_embedded_seg
from mmbackdoor.visualization.poisoned_sample_grid import (
    COLUMNS, draw_label, header, poisoned_sample_grid, poisoned_sample_row)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'browse_poisoned.py')
CONFIG = osp.join(
    REPO, 'configs', 'backdoor_seg',
    'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
META = dict(classes=('a', 'b'), palette=[[255, 0, 0], [0, 0, 255]])


@pytest.fixture(scope='module')
def seg_root(tmp_path_factory):
    return generate_embedded_seg(
        str(tmp_path_factory.mktemp('seg') / 'embedded_seg'),
        num_train=16, num_val=6, img_size=32)


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
    row = poisoned_sample_row(clean, poisoned, label, label + 1, META,
                              scale=2)
    assert row.shape == (8, 2 * 6 * len(COLUMNS), 3)
    # The trigger column shows |diff| x 4 = 200 on the first image row.
    trigger = row[:, 2 * 12:3 * 12]
    assert (trigger[:2] == 200).all() and (trigger[2:] == 0).all()
    grid = poisoned_sample_grid([row, row[:, :30]])
    assert grid.shape[0] > 16 and grid.shape[1] == row.shape[1]
    with pytest.raises(ValueError, match='no rows'):
        poisoned_sample_grid([])


def test_tool_draws_the_first_poisoned_samples(seg_root, tmp_path, capsys):
    out = str(tmp_path / 'grid.png')
    argv = sys.argv
    sys.argv = [
        TOOL, CONFIG, '--out', out, '--num', '2', '--scale', '2',
        '--cfg-options',
        f'train_dataloader.dataset.dataset.data_root={seg_root}',
        'train_dataloader.dataset.dataset.generate=False',
        'train_dataloader.dataset.dataset.pipeline.4.rate=0.5'
    ]
    try:
        runpy.run_path(TOOL, run_name='__main__')
    finally:
        sys.argv = argv
    assert '2 poisoned samples drawn' in capsys.readouterr().out
    grid = mmcv.imread(out)
    assert grid.shape[1] == 32 * 2 * len(COLUMNS)
    assert grid.shape[0] == header(grid.shape[1]).shape[0] + 2 * 32 * 2
