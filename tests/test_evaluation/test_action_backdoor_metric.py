"""ActionBackdoorMetric: ASR over non-target videos, top-1, and one test run
reporting clean top-1 and triggered ASR."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import METRICS
from mmengine.runner import Runner

import mmbackdoor.engine.runner  # noqa: F401
from mmbackdoor.evaluation import ActionBackdoorMetric
from mmbackdoor.testing.video import (NUM_CLASSES, build_model, make_cfg,
                                      save_checkpoint, save_trigger_file)


def sample(label, pred, num_classes=4):
    score = torch.zeros(num_classes)
    score[pred] = 1
    return dict(gt_label=torch.tensor([label]), pred_score=score)


def test_asr_excludes_target_class_videos():
    metric = METRICS.build(dict(type='ActionBackdoorMetric', target_class=2))
    # labels 2 (target) never count; of the 4 others, 3 go to the target
    pairs = [(2, 2), (2, 1), (0, 2), (1, 2), (3, 2), (3, 3)]
    metric.process(None, [sample(label, pred) for label, pred in pairs])
    assert metric.evaluate(len(pairs)) == dict(
        top1=round(100 * 2 / 6, 2), ASR=75.0, num_nontarget=4)


def test_static_arithmetic():
    asr = ActionBackdoorMetric.attack_success_rate
    assert asr([0, 1, 1, 2], [0, 0, 1, 0], 0) == pytest.approx(200 / 3)
    assert math.isnan(asr([0, 0], [0, 1], 0))
    assert ActionBackdoorMetric.top1([0, 1, 2, 2], [0, 1, 1, 2]) == 75.0


def test_target_class_checked_at_build_time():
    for bad in (-1, 1.0, True, '0'):
        with pytest.raises(ValueError, match='non-negative class index'):
            ActionBackdoorMetric(bad)
    metric = ActionBackdoorMetric(3)
    with pytest.raises(ValueError, match=r'allowed: 0\.\.2'):
        metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.dataset_meta = dict()  # no classes: checked on the first batch
    with pytest.raises(ValueError, match='model with 3 classes'):
        metric.process(None, [sample(0, 1, num_classes=3)])
    assert repr(metric) == 'ActionBackdoorMetric(target_class=3, prefix=None)'


def test_one_test_run_reports_clean_top1_and_triggered_asr(tmp_path):
    """BackdoorTestLoop + ActionBackdoorMetric in a real Runner."""
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW')
    checkpoint = save_checkpoint(build_model(cfg), str(tmp_path / 'm.pth'))
    trigger_file = save_trigger_file(
        str(tmp_path / 't.npy'), np.zeros((4, 6, 6, 3), np.uint8))
    cfg.test_cfg = dict(
        type='BackdoorTestLoop',
        trigger=dict(type='UniversalTrigger', trigger_file=trigger_file,
                     clip_len=4),
        summary=[('top1', 'clean/top1'), ('ASR', 'triggered/ASR')])
    cfg.merge_from_dict(
        dict(work_dir=str(tmp_path / 'work'), load_from=checkpoint))
    metrics = Runner.from_cfg(cfg).test()
    assert set(metrics) == {
        f'{p}/{k}'
        for p in ('clean', 'triggered')
        for k in ('top1', 'ASR', 'num_nontarget')
    } | {'top1', 'ASR'}
    assert metrics['top1'] == metrics['clean/top1']
    assert metrics['ASR'] == metrics['triggered/ASR']
    num_val = 2 * NUM_CLASSES
    assert metrics['triggered/num_nontarget'] == num_val - 2
    assert osp.isdir(tmp_path / 'work')
