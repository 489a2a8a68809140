"""The universal adversarial video trigger: its loss, its signed-gradient
steps, determinism, snapshots and bad settings."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmbackdoor.attacks.video import (optimize_universal_trigger,
                                      progress_summary, trigger_loss)
from mmbackdoor.testing.video import NUM_CLASSES, nontarget_batches


def test_trigger_loss_variants_by_hand():
    logits = torch.tensor([[[3.0, 1.0, 0.0]], [[0.0, 1.0, 2.0]]])
    logp = logits.log_softmax(-1)[:, 0]
    ce_target = -(logp[0, 0] + logp[1, 0]) / 2
    torch.testing.assert_close(trigger_loss(logits, 0, 'ce'), ce_target)
    # clip 0 already predicts the target: its two terms cancel
    expected = ce_target - (-(logp[0, 0] + logp[1, 2]) / 2)
    torch.testing.assert_close(
        trigger_loss(logits, 0, 'ce_minus_pred'), expected)
    with pytest.raises(ValueError, match='loss must be one of'):
        trigger_loss(logits, 0, 'hinge')


def test_first_trigger_step_is_a_signed_gradient_step(video_setup, fmt):
    """One step from grey 128 equals ``clip(128 - sign(grad))`` with the
    gradient taken by hand (direct slicing, preprocessor, head)."""
    _, model, dataset = video_setup
    model.train()
    trigger, history = optimize_universal_trigger(
        model, nontarget_batches(dataset), 0, size=5, steps=1, progress=False)
    assert model.training, 'the model mode is restored'
    assert all(p.grad is None for p in model.parameters())
    batch = next(nontarget_batches(dataset))
    x = torch.stack(batch['inputs']).float()
    clip_len = x.shape[3] if fmt == 'NCTHW' else 1
    patch = torch.full((clip_len, 3, 5, 5), 128.0, requires_grad=True)
    if fmt == 'NCTHW':  # B x V x C x T x H x W
        x[..., -5:, -5:] = patch.permute(1, 0, 2, 3)
    else:  # B x M x C x H x W
        x[..., -5:, -5:] = patch[0]
    model.eval()
    data = model.data_preprocessor(
        dict(inputs=list(x), data_samples=batch['data_samples']), False)
    scores = model(data['inputs'], mode='tensor', stage='head')
    loss = F.cross_entropy(scores, torch.zeros(len(scores), dtype=torch.long))
    grad, = torch.autograd.grad(loss, patch)
    expected = (128 - grad.sign()).permute(0, 2, 3, 1).to(torch.uint8)
    assert trigger.shape == (clip_len, 5, 5, 3) and trigger.dtype == np.uint8
    np.testing.assert_array_equal(trigger, expected.numpy())
    assert len(history['success']) == len(history['loss']) == 1
    assert 0 <= history['success'][0] <= 1
    np.testing.assert_allclose(history['loss'][0], loss.item(), rtol=1e-5)
    assert history['snapshots'] == {}


def test_trigger_is_deterministic_integral_and_static_on_request(video_setup):
    _, model, dataset = video_setup
    runs = [
        optimize_universal_trigger(
            model, nontarget_batches(dataset, seed=3), 1, 4, 4,
            progress=False)[0]
        for _ in range(2)
    ]
    np.testing.assert_array_equal(*runs)
    assert np.abs(runs[0].astype(int) - 128).max() <= 4
    static, _ = optimize_universal_trigger(
        model, nontarget_batches(dataset), 1, 4, 2, static=True,
        progress=False)
    assert static.shape[0] == 1


def test_trigger_snapshots_equal_shorter_runs(video_setup):
    """A snapshot after k steps is the trigger of a k-step run on the same
    batch stream (one run serves a budget study)."""
    _, model, dataset = video_setup
    long, history = optimize_universal_trigger(
        model, nontarget_batches(dataset, seed=3), 1, 4, 4, progress=False,
        snapshot_steps=(2, 4), log_interval=2)
    short, _ = optimize_universal_trigger(
        model, nontarget_batches(dataset, seed=3), 1, 4, 2, progress=False)
    np.testing.assert_array_equal(history['snapshots'][2], short)
    np.testing.assert_array_equal(history['snapshots'][4], long)
    summary = progress_summary(history, 3)
    assert summary['step'] == [3, 4]
    assert summary['success'][0] == round(
        100 * np.mean(history['success'][:3]), 2)
    with pytest.raises(ValueError, match='snapshot_steps must lie in'):
        optimize_universal_trigger(
            model, nontarget_batches(dataset), 1, 4, 2, progress=False,
            snapshot_steps=(3, ))


def test_trigger_rejects_bad_settings(video_setup):
    _, model, dataset = video_setup
    with pytest.raises(ValueError, match=r'target_class must be an int in '
                       rf'\[0, {NUM_CLASSES - 1}\]'):
        optimize_universal_trigger(model, nontarget_batches(dataset),
                                   NUM_CLASSES, 4, 1)
    with pytest.raises(ValueError, match='larger than the model input'):
        optimize_universal_trigger(model, nontarget_batches(dataset), 0, 21, 1,
                                   progress=False)
