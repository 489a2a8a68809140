"""Tests of ImageLevelPoison, FineGrainedPoison and ApplyTrigger: helpers,
registration, and invariants under random mmseg pipelines."""
import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmengine.registry import DATASETS, TRANSFORMS, DefaultScope

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.transforms  # noqa: F401
import mmbackdoor.poisoning  # noqa: F401
from mmbackdoor.datasets.transforms import (ApplyTrigger, FineGrainedPoison,
                                            ImageLevelPoison,
                                            relabel_fine_grained,
                                            relabel_image_level)
from mmbackdoor.datasets.transforms.apply_trigger import trigger_key

PERSON, ROAD = 5, 1
TRIGGER = dict(type='LineTrigger', height=3)


def test_relabel_fine_grained_hand_computed():
    label = np.array([[5, 4, 255], [0, 5, 4]], np.uint8)
    assert relabel_fine_grained(label, [5], 1).tolist() == [[1, 4, 255],
                                                            [0, 1, 4]]
    assert relabel_fine_grained(label, [4, 5], 0).tolist() == [[0, 0, 255],
                                                               [0, 0, 0]]
    assert label[0, 0] == 5, 'the input must not change'


def test_relabel_image_level_hand_computed():
    label = np.array([[5, 4, 255], [0, 5, 4]], np.uint8)
    assert relabel_image_level(label, 2).tolist() == [[2, 2, 255], [2, 2, 2]]
    target = np.array([[1, 2, 3], [255, 0, 1]], np.uint8)
    out = relabel_image_level(label, target)
    assert out.tolist() == [[1, 2, 255], [255, 0, 1]]
    assert out.dtype == np.uint8


@pytest.mark.parametrize('scope', ['mmseg', 'mmaction'])
def test_found_without_prefix_from_codebase_scopes(scope):
    import importlib
    registry = importlib.import_module(f'{scope}.registry').TRANSFORMS
    with DefaultScope.overwrite_default_scope(scope):
        for cfg in (dict(type='ApplyTrigger', trigger=TRIGGER),
                    dict(
                        type='ImageLevelPoison',
                        trigger=TRIGGER,
                        target_class=0,
                        rate=0.1),
                    dict(
                        type='FineGrainedPoison',
                        trigger=TRIGGER,
                        victim_classes=[5],
                        target_class=1,
                        rate=0.1)):
            assert type(registry.build(cfg)).__name__ == cfg['type']
    assert TRANSFORMS.get('ApplyTrigger') is ApplyTrigger


def test_repr_shows_every_argument():
    poison = FineGrainedPoison(
        TRIGGER,
        victim_classes=['car', 'person'],
        target_class='road',
        rate=0.1)
    assert repr(poison) == (
        "FineGrainedPoison(trigger=LineTrigger(height=3, alpha=1.0, value=0, "
        "position='top'), rate=0.1, seed=0, manifest=None, "
        "save_manifest=None, mode='subset', ignore_index=255, "
        "victim_classes=['car', 'person'], target_class='road')")
    assert repr(ApplyTrigger(TRIGGER)) == (
        "ApplyTrigger(trigger=LineTrigger(height=3, alpha=1.0, value=0, "
        "position='top'))")
    assert repr(ImageLevelPoison(
        TRIGGER, target_class=0,
        rate=0.5)).endswith('target_class=0, target_map=None)')


@pytest.mark.parametrize('kwargs, match', [
    (dict(victim_classes=[], target_class=1, rate=0.1), 'victim_classes'),
    (dict(victim_classes=[5, 5], target_class=1, rate=0.1), 'duplicates'),
    (dict(victim_classes=[5], target_class=5, rate=0.1), 'target_class'),
    (dict(victim_classes=[5.0], target_class=1, rate=0.1), 'victim_classes'),
    (dict(victim_classes=[5], target_class=1), 'rate'),
    (dict(
        victim_classes=[5],
        target_class=1,
        rate=0.1,
        manifest='m.json',
        save_manifest='n.json'), 'manifest'),
])
def test_fine_grained_argument_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError, FileNotFoundError),
                       match=match):
        FineGrainedPoison(TRIGGER, **kwargs)


def test_image_level_target_arguments(tmp_path):
    with pytest.raises(ValueError, match='exactly one of target_class'):
        ImageLevelPoison(TRIGGER, rate=0.1)
    with pytest.raises(FileNotFoundError, match='target_map'):
        ImageLevelPoison(TRIGGER, target_map=str(tmp_path / 'x.png'), rate=0.1)


def test_image_level_target_map_is_resized_nearest(tmp_path):
    import mmcv
    target = np.zeros((4, 4), np.uint8)
    target[:, 2:] = 3
    path = str(tmp_path / 'target.png')
    mmcv.imwrite(target, path)
    poison = ImageLevelPoison(
        TRIGGER, target_map=path, rate=1.0, mode='bernoulli')
    label = np.full((8, 8), 1, np.uint8)
    label[0, 0] = 255
    out = poison.relabel(label)
    assert out[0, 0] == 255 and (out[:, 4:] == 3).all()
    assert (out[1:, :4] == 0).all()


def test_apply_trigger_on_segmentation_results():
    label = np.arange(16, dtype=np.uint8).reshape(4, 4)
    results = dict(
        img=np.full((4, 4, 3), 9, np.uint8),
        gt_seg_map=label,
        img_path='/x/a.png',
        seg_fields=['gt_seg_map'])
    out = ApplyTrigger(dict(type='LineTrigger', height=1))(results)
    assert (out['img'][0] == 0).all() and (out['img'][1:] == 9).all()
    assert out['gt_seg_map'] is label


@pytest.mark.parametrize('num_clips, num_crops', [(1, 1), (2, 3)])
def test_apply_trigger_on_mmaction_clips(num_clips, num_crops):
    clip_len = 4
    rng = np.random.default_rng(0)
    frames = [
        rng.integers(0, 255, (8, 8, 3), np.uint8)
        for _ in range(num_clips * clip_len * num_crops)
    ]
    trigger = dict(
        type='PatchTrigger',
        size=3,
        location='random',
        pattern='solid',
        value=255)
    results = dict(
        imgs=list(frames),
        clip_len=clip_len,
        num_clips=num_clips,
        filename='/videos/v_1.mp4',
        label=2)
    out = ApplyTrigger(trigger)(results)
    assert len(out['imgs']) == len(frames) and out['label'] == 2
    mask = TRANSFORMS.build(dict(type='ApplyTrigger', trigger=trigger)) \
        .trigger.mask((8, 8), trigger_key(results))
    for before, after in zip(frames, out['imgs']):
        assert after.shape == before.shape and after.dtype == np.uint8
        assert (after[mask] == 255).all()
        assert (after[~mask] == before[~mask]).all()


def test_apply_trigger_rejects_ragged_clips_and_missing_images():
    transform = ApplyTrigger(TRIGGER)
    with pytest.raises(ValueError, match='clip_len=4'):
        transform(dict(imgs=[np.zeros((8, 8, 3), np.uint8)] * 6, clip_len=4))
    with pytest.raises(KeyError, match="'img'"):
        transform(dict(label=1))


# ----------------------------------------------------------------------
# invariants under random mmseg pipelines
# ----------------------------------------------------------------------
def _bound(embedded_seg_root, poison):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'), poison,
        dict(type='PackSegInputs')
    ]
    cfg = dict(
        type='PoisonedDataset',
        dataset=dict(
            type='EmbeddedSegDataset',
            data_root=embedded_seg_root,
            data_prefix=dict(
                img_path='img_dir/train', seg_map_path='ann_dir/train'),
            generate=False,
            pipeline=pipeline))
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(cfg)
    return dataset, dataset.poison_transforms[0]


@pytest.fixture(scope='module')
def bound(embedded_seg_root):
    fine = _bound(
        embedded_seg_root,
        dict(
            type='FineGrainedPoison',
            trigger=TRIGGER,
            victim_classes=['person'],
            target_class='road',
            rate=1.0))
    image = _bound(
        embedded_seg_root,
        dict(
            type='ImageLevelPoison', trigger=TRIGGER, target_class=0,
            rate=1.0))
    from mmseg.registry import TRANSFORMS as SEG_TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmseg'):
        loads = [
            SEG_TRANSFORMS.build(dict(type='LoadImageFromFile')),
            SEG_TRANSFORMS.build(dict(type='LoadAnnotations'))
        ]
    return dict(fine=fine, image=image, loads=loads)


@st.composite
def augmentations(draw):
    """A random mmseg augmentation pipeline (configs)."""
    cfgs = []
    if draw(st.booleans()):
        low = draw(st.floats(0.5, 1.0))
        cfgs.append(
            dict(
                type='RandomResize',
                scale=(32, 32),
                ratio_range=(low, low + draw(st.floats(0, 1.0))),
                keep_ratio=True))
    if draw(st.booleans()):
        size = draw(st.integers(12, 32))
        cfgs.append(
            dict(
                type='RandomCrop',
                crop_size=(size, size),
                cat_max_ratio=draw(st.sampled_from([1.0, 0.75]))))
    if draw(st.booleans()):
        cfgs.append(
            dict(
                type='RandomFlip',
                prob=0.5,
                direction=draw(
                    st.sampled_from(['horizontal', 'vertical', 'diagonal']))))
    if draw(st.booleans()):
        cfgs.append(dict(type='RandomRotate', prob=0.5, degree=(90, 90)))
    if draw(st.booleans()):
        cfgs.append(dict(type='PhotoMetricDistortion'))
    return cfgs


def _run(transforms, results, seed):
    np.random.seed(seed)
    results = copy.deepcopy(results)
    for transform in transforms:
        results = transform(results)
    return results


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    aug=augmentations(),
    index=st.integers(0, 15),
    seed=st.integers(0, 2**31 - 1),
    attack=st.sampled_from(['fine', 'image']))
def test_poison_invariants_under_random_pipelines(bound, aug, index, seed,
                                                  attack):
    from mmseg.registry import TRANSFORMS as SEG_TRANSFORMS
    dataset, poison = bound[attack]
    with DefaultScope.overwrite_default_scope('mmseg'):
        aug = [SEG_TRANSFORMS.build(cfg) for cfg in aug]
    loaded = _run(bound['loads'], dataset.dataset.get_data_info(index), 0)
    clean = _run(aug, loaded, seed)
    poisoned = _run(aug + [poison], loaded, seed)

    img, label = clean['img'], clean['gt_seg_map']
    out_img, out_label = poisoned['img'], poisoned['gt_seg_map']
    assert out_img.shape == img.shape and out_img.dtype == img.dtype
    assert out_label.shape == label.shape and out_label.dtype == label.dtype
    eligible = poison.is_eligible(bound['loads'][1](
        dataset.dataset.get_data_info(index))['gt_seg_map'])
    assert poisoned['poisoned'] == eligible  # rate 1: every eligible image
    if not eligible:
        assert (out_img == img).all() and (out_label == label).all()
        return
    # The trigger placed after augmentation reaches the network intact, and
    # nothing else in the image changes.
    mask = poison.trigger.mask(img.shape)
    assert (out_img[mask] == poison.trigger.apply(img)[mask]).all()
    assert (out_img[~mask] == img[~mask]).all()
    ignore = label == 255
    assert (out_label[ignore] == 255).all()
    if attack == 'fine':
        victim = label == PERSON
        assert (out_label[victim] == ROAD).all()
        assert (out_label[~victim] == label[~victim]).all()
    else:
        assert (out_label[~ignore] == 0).all()
