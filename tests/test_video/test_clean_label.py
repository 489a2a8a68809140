"""The attacker's side of the clean-label video backdoor: trigger
optimisation, enhancement, crafting and the manifest."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from video_backdoor_helpers import (NUM_CLASSES, build_model, make_cfg,
                                    save_checkpoint, save_trigger_file)

from mmbackdoor.poisoning.clean_label import (
    attack_dataset, class_indices, clip_view, craft_poison, endless_batches,
    enhance_clips, export_backbone, load_manifest, optimize_universal_trigger,
    progress_summary, recognizer_logits, trigger_loss)
from mmbackdoor.triggers import UniversalTrigger


@pytest.fixture
def setup(tmp_path, fmt):
    cfg = make_cfg(str(tmp_path / 'data'), fmt)
    return cfg, build_model(cfg), attack_dataset(cfg, 'val')


def first_batch(dataset, seed=0, batch_size=2):
    others = class_indices(dataset, 0, same=False)
    return endless_batches(dataset, others, batch_size, seed)


def test_logits_pass_through_the_data_preprocessor(setup):
    """Softmax of our logits on raw clips equals what the model's own test
    step (preprocessor + head + averaging) predicts."""
    _, model, dataset = setup
    batch = next(first_batch(dataset))
    inputs = torch.stack(batch['inputs']).float()
    logits = recognizer_logits(model, inputs, batch['data_samples'])
    with torch.no_grad():
        preds = model.test_step(batch)
    expected = torch.stack([p.pred_score for p in preds])
    torch.testing.assert_close(logits.softmax(-1).mean(1), expected)


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


def test_first_trigger_step_is_a_signed_gradient_step(setup, fmt):
    """One step from grey 128 equals ``clip(128 - sign(grad))`` with the
    gradient taken by hand (direct slicing, preprocessor, head)."""
    _, model, dataset = setup
    model.train()
    trigger, history = optimize_universal_trigger(
        model, first_batch(dataset), 0, size=5, steps=1, progress=False)
    assert model.training, 'the model mode is restored'
    assert all(p.grad is None for p in model.parameters())
    batch = next(first_batch(dataset))
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


def test_trigger_is_deterministic_integral_and_static_on_request(setup):
    _, model, dataset = setup
    runs = [
        optimize_universal_trigger(
            model, first_batch(dataset, seed=3), 1, 4, 4, progress=False)[0]
        for _ in range(2)
    ]
    np.testing.assert_array_equal(*runs)
    assert np.abs(runs[0].astype(int) - 128).max() <= 4
    static, _ = optimize_universal_trigger(
        model, first_batch(dataset), 1, 4, 2, static=True, progress=False)
    assert static.shape[0] == 1


def test_trigger_snapshots_equal_shorter_runs(setup):
    """A snapshot after k steps is the trigger of a k-step run on the same
    batch stream (one run serves a budget study)."""
    _, model, dataset = setup
    long, history = optimize_universal_trigger(
        model, first_batch(dataset, seed=3), 1, 4, 4, progress=False,
        snapshot_steps=(2, 4), log_interval=2)
    short, _ = optimize_universal_trigger(
        model, first_batch(dataset, seed=3), 1, 4, 2, progress=False)
    np.testing.assert_array_equal(history['snapshots'][2], short)
    np.testing.assert_array_equal(history['snapshots'][4], long)
    summary = progress_summary(history, 3)
    assert summary['step'] == [3, 4]
    assert summary['success'][0] == round(
        100 * np.mean(history['success'][:3]), 2)
    with pytest.raises(ValueError, match='snapshot_steps must lie in'):
        optimize_universal_trigger(
            model, first_batch(dataset), 1, 4, 2, progress=False,
            snapshot_steps=(3, ))


def test_trigger_rejects_bad_settings(setup):
    _, model, dataset = setup
    with pytest.raises(ValueError, match=r'target_class must be an int in '
                       rf'\[0, {NUM_CLASSES - 1}\]'):
        optimize_universal_trigger(model, first_batch(dataset), NUM_CLASSES,
                                   4, 1)
    with pytest.raises(ValueError, match='larger than the model input'):
        optimize_universal_trigger(model, first_batch(dataset), 0, 21, 1,
                                   progress=False)


def test_enhancement_is_a_bounded_untargeted_attack(setup):
    _, model, dataset = setup
    batch = next(first_batch(dataset, batch_size=4))
    x = torch.stack(batch['inputs']).float()
    original = x.clone()
    adv = enhance_clips(model, x, batch['data_samples'], eps=8, steps=10)
    assert torch.equal(x, original), 'the input is not modified'
    assert (adv - x).abs().max() <= 8 and adv.min() >= 0 and adv.max() <= 255
    assert torch.equal(adv, adv.round()), 'integer steps stay on the grid'
    labels = torch.cat([d.gt_label for d in batch['data_samples']])

    def loss(inputs):
        logits = recognizer_logits(model, inputs, batch['data_samples'])
        return F.cross_entropy(
            logits.flatten(0, 1), labels.repeat_interleave(logits.shape[1]))

    with torch.no_grad():
        assert loss(adv) > loss(x)
    assert torch.equal(
        enhance_clips(model, x, batch['data_samples'], steps=0), x)


def test_craft_poison_stores_enhanced_triggered_clips(setup, tmp_path, fmt):
    cfg, model, dataset = setup
    clip_len = 4 if fmt == 'NCTHW' else 1
    patches = np.full((clip_len, 3, 3, 3), 200, np.uint8)
    trigger = UniversalTrigger(
        save_trigger_file(str(tmp_path / 't.npy'), patches))
    out = str(tmp_path / 'poison')
    manifest = craft_poison(model, dataset, 0, out, trigger, rate=0.67,
                            progress=False)
    assert manifest == load_manifest(out)
    targets = class_indices(dataset, 0)
    assert len(manifest['videos']) == round(0.67 * len(targets)) == 2
    by_key = {
        osp.basename(dataset.get_data_info(i)['frame_dir']): i
        for i in targets
    }
    for entry in manifest['videos']:
        assert entry['label'] == 0
        clean = dataset[by_key[entry['video']]]
        frames = clip_view(clean['inputs'][None].float(), fmt)[0]
        frames = frames.flatten(0, 1).permute(0, 2, 3, 1).numpy()
        clip = np.load(osp.join(out, entry['file']))
        assert clip.dtype == np.uint8 and clip.shape == frames.shape
        expected = np.broadcast_to(patches[0], (len(clip), 3, 3, 3))
        np.testing.assert_array_equal(clip[:, -3:, -3:], expected)
        diff = np.abs(clip[:, :-3].astype(int) - frames[:, :-3])
        assert diff.max() <= 8 and diff.max() > 0
        assert entry['frame_inds'] == [
            int(i) for i in clean['data_samples'].frame_inds
        ]


def test_craft_poison_rate_edges(setup, tmp_path):
    _, model, dataset = setup
    all_ = craft_poison(model, dataset, 1, str(tmp_path / 'all'), rate=1.0,
                        steps=1, progress=False)
    assert sorted(v['video'] for v in all_['videos']) == [
        f'train_c1_{i}' for i in range(3)
    ]
    assert all_['trigger'] is None
    none = craft_poison(model, dataset, 1, str(tmp_path / 'none'), rate=0.0,
                        progress=False)
    assert none['videos'] == [] and none['clip_shape'] is None


def test_craft_poison_fails_before_writing(setup, tmp_path, fmt):
    cfg, model, dataset = setup
    out = str(tmp_path / 'poison')
    for kwargs, match in [(dict(rate=1.5), r'rate must be in \[0, 1\]'),
                          (dict(rate=-0.1), r'rate must be in \[0, 1\]'),
                          (dict(eps=-1), 'eps >= 0')]:
        with pytest.raises(ValueError, match=match):
            craft_poison(model, dataset, 0, out, progress=False, **kwargs)
    with pytest.raises(ValueError, match='target_class must be an int'):
        craft_poison(model, dataset, NUM_CLASSES, out, progress=False)
    if fmt == 'NCTHW':  # per-frame trigger whose T differs from clip_len
        wrong = UniversalTrigger(
            save_trigger_file(str(tmp_path / 'w.npy'),
                              np.zeros((3, 2, 2, 3), np.uint8)))
        with pytest.raises(ValueError, match='3 per-frame patches but the '
                           'pipeline yields clips of 4 frames'):
            craft_poison(model, dataset, 0, out, wrong, progress=False)
    big = UniversalTrigger(
        save_trigger_file(str(tmp_path / 'big.npy'),
                          np.zeros((1, 21, 21, 3), np.uint8)))
    with pytest.raises(ValueError, match='larger than the frame'):
        craft_poison(model, dataset, 0, out, big, progress=False)
    assert not osp.exists(out)
    inside = osp.join(dataset.data_prefix['img'], 'poison')
    with pytest.raises(ValueError, match='inside the source dataset'):
        craft_poison(model, dataset, 0, inside, progress=False)
    os.makedirs(out)
    open(osp.join(out, 'keep.txt'), 'w').close()
    with pytest.raises(FileExistsError, match='never overwritten'):
        craft_poison(model, dataset, 0, out, progress=False)


@pytest.fixture
def poison_dir(tmp_path):
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW')
    out = str(tmp_path / 'poison')
    craft_poison(build_model(cfg), attack_dataset(cfg), 0, out, rate=1.0,
                 steps=1, progress=False)
    return out


def edit_manifest(poison_dir, edit):
    path = osp.join(poison_dir, 'manifest.json')
    with open(path) as f:
        manifest = json.load(f)
    edit(manifest)
    with open(path, 'w') as f:
        json.dump(manifest, f)


@pytest.mark.parametrize('edit,error,match', [
    (lambda m: m.pop('videos'), ValueError, "malformed key 'videos'"),
    (lambda m: m.update(version=99), ValueError, 'has version 99'),
    (lambda m: m['videos'][0].pop('frame_inds'), ValueError,
     'every video needs'),
    (lambda m: m['videos'].append(dict(m['videos'][0])), ValueError,
     'listed twice'),
    (lambda m: m['videos'][0].update(file='clips/missing.npy'),
     FileNotFoundError, 'is missing'),
    (lambda m: m.update(clip_shape=[1, 2, 3, 3]), ValueError,
     'the manifest says'),
])
def test_manifest_validation(poison_dir, edit, error, match):
    load_manifest(poison_dir)
    edit_manifest(poison_dir, edit)
    with pytest.raises(error, match=match):
        load_manifest(poison_dir)


def test_manifest_missing_corrupt_or_tampered(poison_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match='craft_poison.py'):
        load_manifest(str(tmp_path))
    manifest = load_manifest(poison_dir)
    clip_file = osp.join(poison_dir, manifest['videos'][0]['file'])
    clip = np.load(clip_file)
    clip[0, 0, 0, 0] ^= 1
    np.save(clip_file, clip)
    with pytest.raises(ValueError, match='SHA-256'):
        load_manifest(poison_dir)
    with open(clip_file, 'wb') as f:
        f.write(b'garbage')
    with pytest.raises(ValueError, match='not a readable .npy'):
        load_manifest(poison_dir)
    with open(osp.join(poison_dir, 'manifest.json'), 'w') as f:
        f.write('{"videos": [')
    with pytest.raises(ValueError, match='corrupt manifest'):
        load_manifest(poison_dir)


def test_export_backbone_feeds_a_fresh_recognizer(tmp_path):
    """The exported backbone loads through ``backbone.pretrained``; the
    classifier stays freshly initialised (the paper's victim)."""
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW')
    trained = build_model(cfg, seed=1)
    out = export_backbone(
        save_checkpoint(trained, str(tmp_path / 'full.pth')),
        str(tmp_path / 'backbone.pth'))
    model_cfg = cfg.model.copy()
    model_cfg.backbone.pretrained = out
    torch.manual_seed(2)
    fresh = MODELS.build(model_cfg)
    fresh.init_weights()
    for name, value in trained.backbone.state_dict().items():
        assert torch.equal(fresh.backbone.state_dict()[name], value), name
    assert not torch.equal(fresh.cls_head.fc_cls.weight,
                           trained.cls_head.fc_cls.weight)
    with pytest.raises(ValueError, match='no backbone'):
        torch.save(dict(state_dict=dict(w=torch.zeros(1))),
                   str(tmp_path / 'x.pth'))
        export_backbone(str(tmp_path / 'x.pth'), str(tmp_path / 'y.pth'))
