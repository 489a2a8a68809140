"""tools/analysis_tools/robustness_eval.py on a real checkpoint and dataset
on disk: the printed table, the saved JSON and argument handling."""
import json
import os.path as osp
import sys
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
import robustness_eval  # noqa: E402

BASELINE = osp.join(REPO, 'configs', 'baselines',
                    'unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')


@pytest.fixture
def config_and_checkpoint(embedded_seg_root, tmp_path):
    config = tmp_path / 'config.py'
    config.write_text(f"""
_base_ = [{BASELINE!r}]
test_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root={embedded_seg_root!r}, generate=False))
model = dict(data_preprocessor=dict(size=(32, 32)))
experiment_name = 'robustness_eval_{uuid.uuid4().hex[:8]}'
""")
    cfg = Config.fromfile(str(config))
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), checkpoint)
    return str(config), checkpoint


def test_table_and_json(config_and_checkpoint, tmp_path, capsys):
    config, checkpoint = config_and_checkpoint
    out = str(tmp_path / 'result.json')
    metrics = robustness_eval.main([
        config, checkpoint, '--attacks', 'PGD', 'EroSeg', '--eps', '4',
        '--alpha', '1', '--steps', '2', '--max-images', '4', '--batch-size',
        '2', '--out', out, '--work-dir',
        str(tmp_path / 'work'), '--compare', 'EroSeg:PGD', 'PGD:clean'
    ])
    printed = capsys.readouterr().out
    assert 'eps=4.0, alpha=1.0, steps=2' in printed
    assert '| pass | mIoU | mAcc | aAcc | steps | s/img |' in printed
    for name in ('clean', 'PGD', 'EroSeg', 'worst'):
        assert f'| {name} | {metrics[f"{name}/mIoU"]:.2f} |' in printed
    saved = json.load(open(out))
    assert saved['checkpoint'] == checkpoint
    assert saved['metrics'] == pytest.approx(metrics)
    assert saved['table']['PGD']['steps'] == 2
    assert saved['table']['EroSeg']['seconds_per_image'] > 0
    # EroSeg's background: the embedded dataset's class named 'background'
    assert saved['attacks']['EroSeg'] == dict(
        type='EroSeg', eps=4.0, alpha=1.0, steps=2, random_start=False,
        background_classes=[0])
    assert saved['attacks']['PGD']['type'] == 'PGD'
    # the paired differences, printed and saved
    for pair, (a, b) in (('EroSeg-PGD', ('EroSeg', 'PGD')),
                         ('PGD-clean', ('PGD', 'clean'))):
        got = saved['comparisons'][pair]
        assert got['mIoU'] == pytest.approx(
            metrics[f'{a}/mIoU'] - metrics[f'{b}/mIoU'], abs=0.01)
        assert got['low'] <= got['high']
        assert (f"{a} - {b}: {got['mIoU']:+.2f} mIoU (paired 95 % bootstrap "
                f"interval over the images: {got['low']:+.2f} to "
                f"{got['high']:+.2f})") in printed


def test_compare_names_the_passes(config_and_checkpoint):
    config, checkpoint = config_and_checkpoint
    with pytest.raises(SystemExit, match=r"--compare EroSeg:SegPGD: give two "
                       r"passes as A:B, passes: \['clean', 'EroSeg', "
                       r"'worst'\]"):
        robustness_eval.main([config, checkpoint, '--attacks', 'EroSeg',
                              '--compare', 'EroSeg:SegPGD'])


def test_unknown_attack_names_the_registered_ones(config_and_checkpoint):
    config, checkpoint = config_and_checkpoint
    with pytest.raises(SystemExit, match=r"unknown \['FGSM'\]; registered: "
                       r"\['CosPGD', 'EroSeg', 'PGD', 'SegPGD'\]"):
        robustness_eval.main([config, checkpoint, '--attacks', 'FGSM'])
