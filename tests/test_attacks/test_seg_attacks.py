"""PGD, SegPGD, CosPGD and EroSeg on a real (tiny) mmseg segmentor."""
import copy

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from mmseg.structures import SegDataSample

from mmbackdoor.attacks import CosPGD, EroSeg, SegPGD, build_attack
from mmbackdoor.attacks import functional as AF
from mmbackdoor.registry import ATTACKS

from mmbackdoor.testing.tiny_segmentor import (NUM_CLASSES, build_segmentor,
                                               make_batch)

ATTACK_TYPES = ['PGD', 'SegPGD', 'CosPGD', 'EroSeg']


def check_invariants(adv, batch, eps):
    for x_adv, x in zip(adv, batch['inputs']):
        assert x_adv.shape == x.shape and x_adv.dtype == torch.float32
        assert (x_adv - x.float()).abs().max() <= eps + 1e-4
        assert x_adv.min() >= 0 and x_adv.max() <= 255


@pytest.mark.parametrize('training', [False, True])
@pytest.mark.parametrize('random_start', [False, True])
@pytest.mark.parametrize('name', ATTACK_TYPES)
def test_eps_ball_range_and_no_side_effects(name, random_start, training,
                                            trained):
    model, batch = trained
    model.train()
    grads = [torch.full_like(p, 0.5) for p in model.parameters()]
    for p, g in zip(model.parameters(), grads):
        p.grad = g.clone()
    before = copy.deepcopy(batch)
    attack = ATTACKS.build(
        dict(type=name, eps=8, alpha=3, steps=4, random_start=random_start))
    adv = attack(model, batch, training=training)
    check_invariants(adv, batch, 8)
    assert any((a - x.float()).abs().max() > 1 for a, x in zip(
        adv, batch['inputs'])), 'the attack did not move'
    # the model's mode, parameters' gradients and the batch are untouched
    assert model.training
    assert all(
        torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))
    for x, y in zip(batch['inputs'], before['inputs']):
        assert torch.equal(x, y)
    for s, t in zip(batch['data_samples'], before['data_samples']):
        assert torch.equal(s.gt_sem_seg.data, t.gt_sem_seg.data)
        assert set(s.keys()) == set(t.keys())
        assert s.metainfo == t.metainfo
    model.zero_grad(set_to_none=True)
    model.eval()


def test_eval_mode_is_kept_and_parameters_get_no_grad(segmentor, batch):
    segmentor.eval()
    ATTACKS.build(dict(type='EroSeg', steps=2))(segmentor, batch)
    assert not segmentor.training
    assert all(p.grad is None for p in segmentor.parameters())


@settings(max_examples=12, deadline=None)
@given(
    name=st.sampled_from(ATTACK_TYPES),
    eps=st.floats(0, 20),
    alpha=st.floats(0.1, 30),
    steps=st.integers(1, 3),
    seed=st.integers(0, 1000))
def test_invariants_hold_for_any_budget(name, eps, alpha, steps, seed):
    model = build_segmentor()
    batch = make_batch(seed=seed)
    attack = ATTACKS.build(
        dict(type=name, eps=eps, alpha=alpha, steps=steps, random_start=True))
    check_invariants(attack(model, batch), batch, eps)


def test_zero_eps_returns_the_clean_images(segmentor, batch):
    adv = ATTACKS.build(dict(type='PGD', eps=0))(segmentor, batch)
    for a, x in zip(adv, batch['inputs']):
        assert torch.equal(a, x.float())


def manual_gradient(model, batch):
    """Gradient of the mean CE w.r.t. raw BGR pixels, with the normalisation
    written out by hand (BGR->RGB, (x - mean) / std)."""
    x = torch.stack([img.float() for img in batch['inputs']])
    x.requires_grad_()
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    logits = model.decode_head(model.extract_feat((x[:, [2, 1, 0]] - mean) /
                                                  std))
    labels = torch.stack([s.gt_sem_seg.data[0] for s in batch['data_samples']])
    logits = F.interpolate(logits, labels.shape[-2:], mode='bilinear')
    loss = F.cross_entropy(logits, labels, ignore_index=255)
    return torch.autograd.grad(loss, x)[0]


@pytest.mark.parametrize('training', [False, True])
def test_gradient_passes_through_the_data_preprocessor(training, trained):
    model, batch = trained
    grad = manual_gradient(model, batch)
    assert grad.abs().sum() > 0
    attack = ATTACKS.build(dict(type='PGD', eps=1, alpha=1, steps=1))
    adv = torch.stack(attack(model, batch, training=training))
    clean = torch.stack([img.float() for img in batch['inputs']])
    expected = AF.linf_project(clean + grad.sign(),
                               *AF.linf_bounds(clean, 1))
    assert torch.equal(adv, expected)


def pixel_acc(model, batch, inputs=None):
    data = dict(batch, inputs=inputs) if inputs is not None else batch
    with torch.no_grad():
        outs = model.test_step(data)
    hits = valid = 0
    for out in outs:
        label = out.gt_sem_seg.data
        hits += ((out.pred_sem_seg.data == label) & (label != 255)).sum()
        valid += (label != 255).sum()
    return (hits / valid).item()


@pytest.mark.parametrize('name', ATTACK_TYPES)
def test_attacks_lower_accuracy(name, trained):
    model, batch = trained
    clean = pixel_acc(model, batch)
    assert clean > 0.9
    attack = ATTACKS.build(dict(type=name, eps=8, alpha=2, steps=5))
    result = attack.run(model, batch)
    assert pixel_acc(model, batch, result.inputs) < clean - 0.3
    assert len(result.losses) == len(result.accuracy) == 5
    assert result.accuracy[0] == pytest.approx(clean, abs=1e-6)


def test_targeted_mode_pushes_pixels_to_the_target(trained):
    model, batch = trained
    with torch.no_grad():
        outs = model.test_step(batch)
    before = sum((o.pred_sem_seg.data == 2).sum() for o in outs)
    attack = ATTACKS.build(
        dict(type='PGD', eps=16, alpha=4, steps=5, target_class=2))
    result = attack.run(model, batch)
    with torch.no_grad():
        outs = model.test_step(dict(batch, inputs=result.inputs))
    after = sum((o.pred_sem_seg.data == 2).sum() for o in outs)
    assert after > before + 500
    # the reported accuracy is agreement with the target: it rises
    assert result.accuracy[-1] > result.accuracy[0]


def test_test_pipeline_labels_at_original_size_and_slide_inference():
    # inputs resized to 32x32, labels at the original 48x48 (mmseg's test
    # pipeline); sliding-window inference with overlapping windows
    model = build_segmentor(mode='slide').eval()
    batch = make_batch(label_size=48)
    attack = ATTACKS.build(dict(type='SegPGD', steps=2))
    logits, labels = attack.logits_and_labels(model, batch['inputs'],
                                              batch['data_samples'], False)
    assert logits.shape == (2, NUM_CLASSES, 48, 48)
    with torch.no_grad():
        outs = model.test_step(batch)
    assert torch.allclose(logits.detach(),
                          torch.stack([o.seg_logits.data for o in outs]),
                          atol=1e-5)
    check_invariants(attack(model, batch), batch, 8)


def test_labels_of_different_sizes_are_flattened(segmentor):
    batch = make_batch(label_size=48)
    batch['data_samples'][1] = make_batch(label_size=40).get(
        'data_samples')[1]
    attack = ATTACKS.build(dict(type='CosPGD', steps=1))
    logits, labels = attack.logits_and_labels(segmentor, batch['inputs'],
                                              batch['data_samples'], False)
    assert logits.shape == (1, NUM_CLASSES, 48 * 48 + 40 * 40)
    assert labels.shape == (1, 48 * 48 + 40 * 40)
    result = attack.run(segmentor, batch, record=True)
    check_invariants(result.inputs, batch, 8)
    assert result.weights[0].shape == labels.shape


def test_segpgd_and_cospgd_weights_follow_their_step(trained):
    model, batch = trained
    logits = torch.randn(2, NUM_CLASSES, 8, 8)
    labels = torch.randint(0, NUM_CLASSES, (2, 8, 8))
    valid = torch.rand(2, 8, 8) > 0.2
    segpgd = SegPGD(steps=5)
    for step in range(5):
        assert torch.equal(
            segpgd.pixel_weights(logits, labels, valid, step, {}),
            AF.segpgd_weights(logits, labels, valid, step, 5))
    assert torch.equal(
        CosPGD().pixel_weights(logits, labels, valid, 3, {}),
        AF.cospgd_weights(logits, labels, valid))


def test_eroseg_weights_follow_the_schedule():
    attack = EroSeg(steps=3, tau0=0.8, beta=0.8, lam=0.7,
                    background_classes=[0])
    probs = torch.tensor([[.6, .85, .93, .99]])
    logits = torch.stack([probs, 1 - probs], dim=1).log()
    labels = torch.tensor([[0, 1, 1, 1]])
    logits[:, :, 1:] = logits[:, :, 1:].flip(1)  # predict 1 on pixels 1..3
    valid = torch.ones_like(labels, dtype=torch.bool)
    weights = [
        attack.pixel_weights(logits, labels, valid, t, {}) * 4
        for t in range(3)
    ]
    expected = [[.3, 0, 0, 0], [.3, .7, 0, 0], [.3, .7, .7, 0]]
    for w, e in zip(weights, expected):
        assert torch.allclose(w, torch.tensor([e]))


@pytest.mark.parametrize('reentry', [True, False])
def test_eroseg_reentry_of_fooled_pixels(reentry):
    attack = EroSeg(background_classes=[], reentry=reentry)
    labels = torch.zeros(1, 2, dtype=torch.long)
    valid = torch.ones(1, 2, dtype=torch.bool)
    correct = torch.tensor([[[.6, .6], [.4, .4]]]).log()
    fooled = torch.tensor([[[.6, .3], [.4, .7]]]).log()  # pixel 1 fooled
    state = {}
    masks = [(attack.pixel_weights(z, labels, valid, 0, state) > 0).tolist()
             for z in (correct, fooled, correct)]
    assert masks[:2] == [[[True, True]], [[True, False]]]
    assert masks[2] == [[True, reentry]]


def test_record_keeps_weights_of_every_step(trained):
    model, batch = trained
    result = ATTACKS.build(dict(type='EroSeg', steps=3)).run(
        model, batch, record=True)
    assert len(result.weights) == 3
    for w, fraction in zip(result.weights, result.attacked_fraction):
        assert w.shape == (4, 32, 32)
        valid = torch.stack(
            [s.gt_sem_seg.data[0] != 255 for s in batch['data_samples']])
        assert ((w > 0) & valid).sum() / valid.sum() == pytest.approx(
            fraction)
    assert 0 < result.attacked_fraction[0]


def test_random_start_follows_the_generator(segmentor, batch):
    attack = ATTACKS.build(dict(type='PGD', steps=1, random_start=True))
    runs = [
        attack(segmentor, batch, generator=torch.Generator().manual_seed(1))
        for _ in range(2)
    ]
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_repr_shows_every_argument():
    assert repr(ATTACKS.build(dict(type='EroSeg', steps=3))) == (
        'EroSeg(eps=8.0, alpha=2.0, steps=3, random_start=False, '
        'target_class=None, ignore_index=255, fuse_conv_bn=True, tau0=0.8, '
        'beta=0.8, lam=0.7, background_classes=(0,), reentry=True)')


@pytest.mark.parametrize('cfg, error, message', [
    # wrong values: ValueError
    (dict(type='PGD', eps=-1), ValueError,
     'PGD: eps must be a number >= 0, got -1'),
    (dict(type='SegPGD', steps=0), ValueError,
     'SegPGD: steps must be an integer >= 1'),
    (dict(type='PGD', alpha=0), ValueError, 'alpha must be a number > 0'),
    (dict(type='EroSeg', tau0=1.5), ValueError,
     'tau0 must be a number >= 0 and <= 1'),
    (dict(type='EroSeg', lam=-0.1), ValueError,
     'lam must be a number >= 0 and <= 1'),
    (dict(type='EroSeg', background_classes=[-1]), ValueError,
     r'background_classes\[...\] must be an integer >= 0'),
    (dict(type='PGD', target_class=-1), ValueError,
     'target_class must be an integer >= 0'),
    # wrong types: TypeError
    (dict(type='CosPGD', steps=2.5), TypeError,
     r'steps must be an integer >= 1, got 2.5 \(float\)'),
    (dict(type='PGD', eps='8'), TypeError, 'eps must be a number >= 0'),
    (dict(type='PGD', steps=True), TypeError, 'steps must be an integer'),
    (dict(type='EroSeg', background_classes=0), TypeError,
     'background_classes must be a list'),
    (dict(type='EroSeg', background_classes=[0.5]), TypeError,
     r'background_classes\[...\] must be an integer >= 0'),
    (dict(type='EroSeg', reentry=1), TypeError, 'reentry must be True'),
    (dict(type='PGD', random_start='yes'), TypeError,
     'random_start must be True'),
])
def test_bad_arguments_fail_at_build_time(cfg, error, message):
    with pytest.raises(error, match=message):
        build_attack(cfg)


def test_build_attack_argument_kinds():
    with pytest.raises(TypeError, match='attack must be a dict'):
        build_attack('PGD')
    with pytest.raises(ValueError, match=r'"type" key \(one of \[.*PGD'):
        build_attack(dict(eps=8))


def test_unknown_attack_names_the_registered_ones():
    with pytest.raises(KeyError, match=r"unknown attack type 'FGSM'.*"
                       r"'CosPGD', 'EroSeg', 'PGD', 'SegPGD'"):
        build_attack(dict(type='FGSM'))


def test_class_indices_are_checked_against_the_model(segmentor, batch):
    with pytest.raises(ValueError, match=r'background_classes \[4\] out of '
                       r'range; this model has classes 0..3'):
        EroSeg(background_classes=[0, 4])(segmentor, batch)
    with pytest.raises(ValueError, match=r'target_class must be in \[0, 3\]'):
        SegPGD(target_class=7)(segmentor, batch)


def test_bad_batches_and_models_fail_clearly(segmentor, batch):
    attack = ATTACKS.build(dict(type='PGD', steps=1))
    with pytest.raises(TypeError, match='data_batch must be a dict'):
        attack(segmentor, batch['inputs'])
    with pytest.raises(ValueError, match='2 inputs and 1 data_samples'):
        attack(segmentor, dict(batch, data_samples=batch['data_samples'][:1]))
    with pytest.raises(TypeError, match='attacks mmseg segmentors'):
        attack(torch.nn.Conv2d(3, 3, 1), batch)
    unlabelled = [
        SegDataSample(metainfo=s.metainfo) for s in batch['data_samples']
    ]
    with pytest.raises(ValueError, match='has no gt_sem_seg'):
        attack(segmentor, dict(batch, data_samples=unlabelled))
    with pytest.raises(TypeError, match=r'\["inputs"\]\[0\] must be a CHW '
                       'tensor, got ndarray'):
        attack(segmentor,
               dict(batch, inputs=[x.numpy() for x in batch['inputs']]))
    with pytest.raises(ValueError, match=r'\["inputs"\]\[0\] must be a CHW '
                       r'tensor, got shape \(1, '):
        attack(segmentor, dict(batch, inputs=[x[None]
                                              for x in batch['inputs']]))
