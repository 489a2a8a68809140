"""The pure pieces of the attacks against hand-computed values."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmbackdoor.attacks import functional as AF


def logits_from_probs(probs):
    """``(C, P)`` probabilities -> ``(1, C, P)`` logits with that softmax."""
    return torch.tensor(probs).log()[None]


def test_linf_bounds_and_projection_clip_to_ball_and_range():
    x = torch.tensor([0., 3., 100., 250., 255.])
    lower, upper = AF.linf_bounds(x, 8)
    assert lower.tolist() == [0., 0., 92., 242., 247.]
    assert upper.tolist() == [8., 11., 108., 255., 255.]
    x_adv = torch.tensor([-5., 20., 95., 240., 255.])
    assert AF.linf_project(x_adv, lower,
                           upper).tolist() == [0., 11., 95., 242., 255.]


def test_linf_step_signs_and_direction():
    x = torch.tensor([10., 10., 10.])
    grad = torch.tensor([-0.3, 0., 2.])
    assert AF.linf_step(x, grad, 2).tolist() == [8., 10., 12.]
    assert AF.linf_step(x, grad, 2, ascend=False).tolist() == [12., 10., 8.]


def test_random_start_stays_in_ball_and_range_and_follows_generator():
    x = torch.tensor([0., 128., 255.]).repeat(1000)
    a = AF.linf_random_start(x, 8, torch.Generator().manual_seed(3))
    b = AF.linf_random_start(x, 8, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert (a - x).abs().max() <= 8 and a.min() >= 0 and a.max() <= 255
    # the noise really spreads over the ball
    assert (a[1::3] - 128).abs().max() > 7


def test_pixel_cross_entropy_is_ce_on_valid_and_zero_elsewhere():
    logits = torch.randn(2, 3, 4, 5)
    labels = torch.randint(0, 3, (2, 4, 5))
    labels[0, 0] = 255
    valid = labels != 255
    out = AF.pixel_cross_entropy(logits, labels, valid)
    ref = F.cross_entropy(logits, labels, ignore_index=255, reduction='none')
    assert torch.allclose(out, ref)
    assert (out[0, 0] == 0).all()


def test_pgd_weights_average_valid_pixels():
    valid = torch.tensor([[True, False, True, True]])
    assert torch.allclose(AF.pgd_weights(valid),
                          torch.tensor([[1 / 3, 0, 1 / 3, 1 / 3]]))


@pytest.mark.parametrize('steps', [1, 4, 10])
def test_segpgd_lambda_is_t_minus_1_over_2T(steps):
    # t = step + 1 in the paper's notation
    assert [AF.segpgd_lambda(s, steps) for s in range(steps)] == \
        [(t - 1) / (2 * steps) for t in range(1, steps + 1)]


def test_segpgd_weights_formula():
    # 4 pixels: predictions 0, 1, 1, 0; labels 0, 0, 1, 255(ignored)
    logits = logits_from_probs([[.7, .4, .2, .6], [.3, .6, .8, .4]])
    labels = torch.tensor([[0, 0, 1, 255]])
    valid = labels != 255
    # T = 4, third step (t = 3): λ = 2 / 8; normaliser N·H·W = 4
    w = AF.segpgd_weights(logits, labels, valid, step=2, steps=4)
    assert torch.allclose(w, torch.tensor([[.75, .25, .75, 0]]) / 4)
    # targeted: pixels already at their label (target) get λ
    w = AF.segpgd_weights(logits, labels, valid, 2, 4, targeted=True)
    assert torch.allclose(w, torch.tensor([[.25, .75, .25, 0]]) / 4)


def test_cospgd_weights_formula():
    # softmax (0.25, 0.75) for label 1: cos = 0.75 / sqrt(0.25² + 0.75²)
    logits = logits_from_probs([[.25, .25, .5], [.75, .75, .5]])
    labels = torch.tensor([[1, 0, 255]])
    valid = labels != 255
    norm = math.sqrt(.25**2 + .75**2)
    w = AF.cospgd_weights(logits, labels, valid)
    expected = torch.tensor([[.75 / norm, .25 / norm, 0]]) / 3
    assert torch.allclose(w, expected)
    # equals torch's cosine similarity with the one-hot label
    onehot = F.one_hot(torch.tensor([[1, 0]]), 2).permute(0, 2, 1).float()
    cos = F.cosine_similarity(logits[..., :2].softmax(1), onehot, dim=1)
    assert torch.allclose(w[:, :2] * 3, cos)
    w = AF.cospgd_weights(logits, labels, valid, targeted=True)
    assert torch.allclose(w, torch.tensor([[1 - .75 / norm, 1 - .25 / norm,
                                            0]]) / 3)


def test_eroseg_threshold_schedule():
    assert AF.eroseg_threshold(0, 0.8, 0.8) == pytest.approx(0.8)
    assert AF.eroseg_threshold(1, 0.8, 0.8) == pytest.approx(
        1 - 0.2 * math.exp(-0.8))  # 0.91013
    assert AF.eroseg_threshold(2, 0.8, 0.8) == pytest.approx(0.959619, 1e-5)
    assert AF.eroseg_threshold(3, 0.5, 0.0) == pytest.approx(0.5)


def test_eroseg_mask_erodes_into_confident_pixels():
    # confidences of the argmax class 0: 0.6, 0.85, 0.93, 0.99, 0.6, 0.85
    probs = [.6, .85, .93, .99, .6, .85]
    logits = logits_from_probs([probs, [1 - p for p in probs]])
    # pixel 4 is misclassified, pixel 5 is ignored
    labels = torch.tensor([[0, 0, 0, 0, 1, 255]])
    valid = labels != 255
    masks = [
        AF.eroseg_mask(logits, labels, valid,
                       AF.eroseg_threshold(t, 0.8, 0.8)).int().tolist()
        for t in range(3)
    ]
    # τ = 0.8, 0.910, 0.960: the mask grows from 0.6 to 0.85 to 0.93
    assert masks == [[[1, 0, 0, 0, 0, 0]], [[1, 1, 0, 0, 0, 0]],
                     [[1, 1, 1, 0, 0, 0]]]
    targeted = AF.eroseg_mask(logits, labels, valid, 0.9, targeted=True)
    assert targeted.int().tolist() == [[0, 0, 0, 0, 1, 0]]


def test_eroseg_weights_formula():
    mask = torch.tensor([[True, True, False, True]])
    labels = torch.tensor([[0, 2, 1, 3]])
    w = AF.eroseg_weights(mask, labels, background_classes=(0, 3), lam=0.7)
    assert torch.allclose(w, torch.tensor([[.3, .7, 0, .3]]) / 4)
    w = AF.eroseg_weights(mask, labels, background_classes=(), lam=0.7)
    assert torch.allclose(w, torch.tensor([[.7, .7, 0, .7]]) / 4)
