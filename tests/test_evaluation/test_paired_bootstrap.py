"""The paired bootstrap of an mIoU difference: mIoU as mmseg computes it,
the interval's behaviour on known differences, and its errors."""
import json

import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric

from mmbackdoor.evaluation import miou, paired_miou_interval, pass_areas


def random_areas(rng, images=12, classes=4):
    """Per-image areas with intersect <= union; class 3 never occurs."""
    union = rng.integers(0, 50, size=(images, classes)).astype(float)
    union[:, 3] = 0
    intersect = np.floor(union * rng.uniform(0, 1, size=union.shape))
    return dict(intersect=intersect, union=union)


def test_miou_is_mmseg_iou_metric_on_summed_areas():
    rng = np.random.default_rng(0)
    areas = random_areas(rng)
    metric = IoUMetric()
    metric.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
    # mmseg's per-image results: (intersect, union, pred area, label area);
    # mIoU reads only the first two
    results = [(torch.tensor(i), torch.tensor(u), torch.tensor(u),
                torch.tensor(u))
               for i, u in zip(areas['intersect'], areas['union'])]
    expected = metric.compute_metrics(results)['mIoU']
    assert miou(areas['intersect'].sum(0), areas['union'].sum(0)) == \
        pytest.approx(expected, abs=0.005)


def test_interval_of_known_differences():
    rng = np.random.default_rng(1)
    b = random_areas(rng)
    assert paired_miou_interval(b, b) == (0.0, 0.0, 0.0)
    # more intersection on every image with a class: a is better on every
    # resample, so the whole interval lies above 0
    a = dict(b, intersect=np.minimum(b['intersect'] + 5, b['union']))
    diff, low, high = paired_miou_interval(a, b)
    assert diff == pytest.approx(
        miou(a['intersect'].sum(0), a['union'].sum(0)) -
        miou(b['intersect'].sum(0), b['union'].sum(0)))
    assert 0 < low <= diff <= high
    assert paired_miou_interval(b, a)[0] == pytest.approx(-diff)
    # the images are what is resampled: four copies of every image give the
    # same difference and about half the width (1 / sqrt(4))
    four = [{k: np.tile(v, (4, 1)) for k, v in s.items()} for s in (a, b)]
    diff4, low4, high4 = paired_miou_interval(*four)
    assert diff4 == pytest.approx(diff)
    assert 0.35 < (high4 - low4) / (high - low) < 0.65
    # pairing: both conditions share every draw of images, so the spread
    # between images cancels; independent draws for a and b keep it
    draw = np.random.default_rng(7).multinomial(
        12, np.full(12, 1 / 12), size=(2, 2000))
    unpaired = np.quantile(
        miou(draw[0] @ a['intersect'], draw[0] @ a['union']) -
        miou(draw[1] @ b['intersect'], draw[1] @ b['union']), [0.025, 0.975])
    assert high - low < 0.5 * (unpaired[1] - unpaired[0])


def test_errors_name_the_problem(tmp_path):
    rng = np.random.default_rng(2)
    a, b = random_areas(rng), random_areas(rng, images=5)
    with pytest.raises(ValueError, match='one shape'):
        paired_miou_interval(a, b)
    with pytest.raises(ValueError, match=r'level must be in \(0, 1\)'):
        paired_miou_interval(a, a, level=95)
    empty = dict(intersect=np.zeros((0, 4)), union=np.zeros((0, 4)))
    with pytest.raises(ValueError, match='no images'):
        paired_miou_interval(empty, empty)
    with pytest.raises(ValueError, match='same images'):
        paired_miou_interval(
            dict(a, img_path=['x'] * 12), dict(a, img_path=['y'] * 12))
    path = tmp_path / 'per_image.json'
    path.write_text(json.dumps([dict(
        img_path='x.png', clean=dict(intersect=[1, 2], union=[2, 2]))]))
    assert pass_areas(str(path), 'clean')['intersect'].tolist() == [[1, 2]]
    with pytest.raises(KeyError, match=r"no pass 'PGD'; passes: \['clean'\]"):
        pass_areas(str(path), 'PGD')
