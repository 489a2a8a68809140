"""tools/analysis_tools/browse_poisoned.py."""
import os.path as osp
import runpy
import sys

import mmcv

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.embedded_seg  # noqa: F401
import mmbackdoor.engine.runner  # noqa: F401
import mmbackdoor.evaluation.metrics.seg_backdoor_metric  # noqa: F401
from mmbackdoor.visualization.seg_backdoor_grid import (
    POISONED_SAMPLE_COLUMNS, header)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'browse_poisoned.py')
CONFIG = osp.join(REPO, 'configs', 'backdoor_seg',
                  'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')


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
