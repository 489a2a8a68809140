"""tools/analysis_tools/browse_poisoned.py."""
import os.path as osp
import runpy
import sys

import mmcv
import pytest

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.embedded_seg  # noqa: F401
import mmbackdoor.engine.runner  # noqa: F401
import mmbackdoor.evaluation.metrics.seg_backdoor_metric  # noqa: F401
from mmbackdoor.testing.real_layouts import write_voc12aug
from mmbackdoor.visualization.seg_backdoor_grid import (
    POISONED_SAMPLE_COLUMNS, header)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'browse_poisoned.py')
CONFIG = osp.join(REPO, 'configs', 'backdoor_seg',
                  'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
VOC_CONFIG = osp.join(
    REPO, 'configs', 'backdoor_seg', 'deeplabv3',
    'fine-grained_deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py')


def run_tool(*args):
    argv = sys.argv
    sys.argv = [TOOL, *args]
    try:
        runpy.run_path(TOOL, run_name='__main__')
    finally:
        sys.argv = argv


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


def test_tool_draws_one_part_of_a_concat_dataset(tmp_path, capsys):
    """VOC + aug trains on a ConcatDataset of two PoisonedDatasets:
    ``--part`` picks one, as export_poisoned_dataset.py's does."""
    root = str(tmp_path / 'VOC2012')
    write_voc12aug(root, num_train=5, num_aug=5, shape=(24, 32))
    options = ['--cfg-options'] + [
        f'train_dataloader.dataset.datasets.{i}.dataset.data_root={root}'
        for i in (0, 1)
    ]
    with pytest.raises(ValueError, match=r'choose one with part \(--part\)'):
        run_tool(VOC_CONFIG, '--out', str(tmp_path / 'no.png'), *options)
    out = str(tmp_path / 'aug.png')
    run_tool(VOC_CONFIG, '--out', out, '--part', '1', *options)
    assert '1 poisoned samples drawn' in capsys.readouterr().out
    grid = mmcv.imread(out)
    assert grid.shape[1] == 32 * len(POISONED_SAMPLE_COLUMNS)
    assert grid.shape[0] == header(
        grid.shape[1], POISONED_SAMPLE_COLUMNS).shape[0] + 24
