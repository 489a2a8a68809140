"""Hand-computed tests of SegBackdoorMetric."""
import math

import numpy as np
import pytest
import torch
from mmengine.registry import METRICS, DefaultScope
from mmseg.structures import SegDataSample
from mmengine.structures import PixelData

import mmbackdoor  # noqa: F401
from mmbackdoor.evaluation.metrics.seg_backdoor_metric import \
    SegBackdoorMetric

CLASSES = ('background', 'road', 'car', 'person')
META = dict(classes=CLASSES, palette=[[0, 0, 0]] * 4)

# Ground truth and prediction of one 3x4 image: person (3) -> road (1).
GT = [[3, 3, 0, 0], [3, 2, 2, 255], [1, 1, 3, 0]]
PRED = [[1, 1, 0, 0], [3, 2, 1, 1], [1, 1, 1, 2]]


def sample(gt, pred):
    data = SegDataSample()
    data.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    data.pred_sem_seg = PixelData(data=torch.tensor([pred]))
    return data.to_dict()


def evaluate(metric, pairs):
    metric.dataset_meta = META
    metric.process({}, [sample(gt, pred) for gt, pred in pairs])
    return metric.evaluate(len(pairs))


def test_fine_grained_asr_and_pba_hand_computed():
    metric = METRICS.build(
        dict(
            type='SegBackdoorMetric',
            attack='fine_grained',
            victim_classes=['person'],
            target_class='road'))
    metrics = evaluate(metric, [(GT, PRED)])
    # 4 person pixels, 3 predicted road.
    assert metrics['ASR'] == 75.0 and metrics['num_asr_pixels'] == 4
    # Non-victim, non-ignore pixels: background (0,2),(0,3),(2,3);
    # car (1,1),(1,2); road (2,0),(2,1).
    # background: I=2, U=3 (gt 3, pred 2) -> 2/3; car: I=1, U=3
    # (gt 2, pred (1,1),(2,3)) -> 1/3; road: I=2, U=3 (pred (1,2)) -> 2/3.
    assert metrics['PBA'] == round(100 * (2 / 3 + 1 / 3 + 2 / 3) / 3, 2)
    assert 'mIoU' in metrics and 'aAcc' in metrics


def test_asr_pools_pixels_over_images():
    metric = SegBackdoorMetric(
        attack='fine_grained', victim_classes=[3], target_class=1)
    all_road = [[1] * 4] * 3
    metrics = evaluate(metric, [(GT, PRED), (GT, all_road)])
    assert metrics['ASR'] == 87.5  # (3 + 4) / 8


def test_image_level_asr_hand_computed():
    metric = METRICS.build(
        dict(type='SegBackdoorMetric', attack='image_level', target_class=1))
    metrics = evaluate(metric, [(GT, PRED)])
    # 11 valid pixels; road predicted on (0,0), (0,1), (1,2), (2,0), (2,1),
    # (2,2) -- (1,3) is ignore in the ground truth.
    assert metrics['ASR'] == round(100 * 6 / 11, 2)
    assert metrics['num_asr_pixels'] == 11 and 'PBA' not in metrics


def test_image_level_asr_with_a_target_map(tmp_path):
    import mmcv
    target = np.array([[0, 255], [1, 1]], np.uint8)  # resized to 3x4
    path = str(tmp_path / 'target.png')
    mmcv.imwrite(target, path)
    metric = SegBackdoorMetric(attack='image_level', target_map=path)
    metrics = evaluate(metric, [([[0] * 4] * 3, [[0, 0, 1, 1]] * 3)])
    # Nearest resize to 3x4 (source index floor(i * 2 / 3), floor(j / 2)):
    # rows 0-1 -> [0, 0, 255, 255], row 2 -> [1, 1, 1, 1]; 8 valid pixels,
    # correct: rows 0-1 x cols 0-1 (4) and row 2 x cols 2-3 (2) -> 6 / 8.
    assert metrics['ASR'] == 75.0 and metrics['num_asr_pixels'] == 8


def test_no_victim_pixels_gives_nan_asr():
    metric = SegBackdoorMetric(
        attack='fine_grained', victim_classes=[3], target_class=1)
    metrics = evaluate(metric, [([[0, 1]], [[0, 1]])])
    assert math.isnan(metrics['ASR']) and metrics['num_asr_pixels'] == 0


@pytest.mark.parametrize('kwargs, match', [
    (dict(attack='both'), 'attack'),
    (dict(attack='fine_grained', target_class=1), 'victim_classes'),
    (dict(attack='fine_grained', victim_classes=[1],
          target_class=1), 'target_class'),
    (dict(attack='image_level'), 'exactly one'),
    (dict(attack='image_level', target_class=0,
          victim_classes=[1]), 'victim_classes'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SegBackdoorMetric(**kwargs)


FINE = dict(type='SegBackdoorMetric', attack='fine_grained',
            victim_classes=['person'], target_class='road')


@pytest.mark.parametrize('key, value, instead', [
    ('output_dir', 'work_dirs/preds', 'IoUMetric'),
    ('format_only', True, 'IoUMetric'),
])
def test_iou_file_output_is_rejected_at_build_time(tmp_path, key, value,
                                                   instead):
    if key == 'output_dir':
        value = str(tmp_path / value)
    with pytest.raises(ValueError, match=f'{key}=.*{instead}'):
        METRICS.build(dict(FINE, **{key: value}))
    assert not (tmp_path / 'work_dirs').exists(), 'nothing may be created'


def test_honoured_iou_arguments_and_no_op_defaults_pass():
    metric = METRICS.build(
        dict(FINE, iou_metrics=['mIoU', 'mDice'], nan_to_num=0, beta=1,
             collect_device='cpu', prefix='seg', output_dir=None,
             format_only=False))
    metrics = evaluate(metric, [(GT, PRED)])
    assert 'seg/mDice' in metrics and 'seg/ASR' in metrics


def test_unknown_argument_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="'iou_metric'.*allowed"):
        METRICS.build(dict(FINE, iou_metric=['mIoU']))


def test_classes_are_checked_against_the_dataset():
    metric = SegBackdoorMetric(
        attack='fine_grained', victim_classes=['tree'], target_class='road')
    with pytest.raises(ValueError, match="victim_classes: class 'tree'"):
        metric.dataset_meta = META
    metric = SegBackdoorMetric(attack='image_level', target_class=7)
    with pytest.raises(ValueError, match='target_class: class index 7'):
        metric.dataset_meta = META


def test_registered_for_mmseg_scope():
    from mmseg.registry import METRICS as SEG_METRICS
    with DefaultScope.overwrite_default_scope('mmseg'):
        metric = SEG_METRICS.build(
            dict(
                type='SegBackdoorMetric', attack='image_level',
                target_class=0))
    assert repr(metric) == (
        "SegBackdoorMetric(attack='image_level', victim_classes=[], "
        'target_class=0, target_map=None, ignore_index=255)')


def _with_path(gt, pred, path):
    data = sample(gt, pred)
    data['img_path'] = path
    return data


def test_victim_recall_and_asr_recognised_hand_computed():
    """person (3) -> road (1). The clean prediction gets two of the four
    person pixels right ((0, 0) and (2, 2)); under the trigger (0, 0) goes
    to road, (2, 2) stays person: ASR_recognised 1 / 2, ASR 3 / 4."""
    clean_pred = [[3, 1, 0, 0], [0, 2, 2, 255], [1, 1, 3, 0]]
    triggered_pred = [[1, 1, 0, 0], [1, 2, 2, 255], [1, 1, 3, 0]]
    clean, triggered = (
        SegBackdoorMetric(
            attack='fine_grained', victim_classes=[3], target_class=1)
        for _ in range(2))
    triggered.link_clean_pass(clean)
    for metric, pred in ((clean, clean_pred), (triggered, triggered_pred)):
        metric.dataset_meta = META
        metric.process({}, [_with_path(GT, pred, 'a.png')])
    clean_metrics = clean.evaluate(1)
    metrics = triggered.evaluate(1)
    assert clean_metrics['victim_recall'] == 50.0
    assert 'ASR_recognised' not in clean_metrics
    assert metrics['ASR'] == 75.0 and metrics['victim_recall'] == 25.0
    assert metrics['ASR_recognised'] == 50.0
    assert metrics['num_recognised_pixels'] == 2


def test_asr_recognised_needs_the_same_images():
    clean, triggered = (
        SegBackdoorMetric(
            attack='fine_grained', victim_classes=[3], target_class=1)
        for _ in range(2))
    triggered.link_clean_pass(clean)
    for metric in (clean, triggered):
        metric.dataset_meta = META
    clean.process({}, [_with_path(GT, PRED, 'a.png')])
    with pytest.raises(KeyError, match='b.png: not in the clean pass'):
        triggered.process({}, [_with_path(GT, PRED, 'b.png')])
    with pytest.raises(KeyError, match='img_path'):
        triggered.process({}, [sample(GT, PRED)])


def test_image_level_metric_ignores_the_link():
    clean, triggered = (
        SegBackdoorMetric(attack='image_level', target_class=0)
        for _ in range(2))
    triggered.link_clean_pass(clean)
    assert triggered.clean_pass is None
