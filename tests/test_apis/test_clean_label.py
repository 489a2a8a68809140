"""The attacker's side of the clean-label video backdoor: crafting the
poison folder (the manifest itself: ``tests/test_poisoning/
test_clip_manifest.py``)."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from mmbackdoor.apis.clean_label import class_indices, craft_poison
from mmbackdoor.attacks.video import clip_view
from mmbackdoor.poisoning import load_clip_manifest
from mmbackdoor.testing.video import NUM_CLASSES, save_trigger_file
from mmbackdoor.triggers import UniversalTrigger


def test_craft_poison_stores_enhanced_triggered_clips(video_setup, tmp_path,
                                                      fmt):
    cfg, model, dataset = video_setup
    clip_len = 4 if fmt == 'NCTHW' else 1
    patches = np.full((clip_len, 3, 3, 3), 200, np.uint8)
    trigger = UniversalTrigger(
        save_trigger_file(str(tmp_path / 't.npy'), patches))
    out = str(tmp_path / 'poison')
    manifest = craft_poison(model, dataset, 0, out, trigger, rate=0.67,
                            progress=False)
    assert manifest == load_clip_manifest(out)
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


def test_craft_poison_rate_edges(video_setup, tmp_path):
    _, model, dataset = video_setup
    all_ = craft_poison(model, dataset, 1, str(tmp_path / 'all'), rate=1.0,
                        steps=1, progress=False)
    assert sorted(v['video'] for v in all_['videos']) == [
        f'train_c1_{i}' for i in range(3)
    ]
    assert all_['trigger'] is None
    none = craft_poison(model, dataset, 1, str(tmp_path / 'none'), rate=0.0,
                        progress=False)
    assert none['videos'] == [] and none['clip_shape'] is None


def test_craft_poison_fails_before_writing(video_setup, tmp_path, fmt):
    cfg, model, dataset = video_setup
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
    with pytest.raises(ValueError, match='overlaps the source folder'):
        craft_poison(model, dataset, 0, inside, progress=False)
    os.makedirs(out)
    open(osp.join(out, 'keep.txt'), 'w').close()
    with pytest.raises(FileExistsError, match='not empty'):
        craft_poison(model, dataset, 0, out, progress=False)


def test_craft_poison_overwrites_only_when_asked(video_setup, tmp_path):
    """A non-empty folder is refused unless ``overwrite=True``, which
    replaces it -- but only after every other check passed, and never a
    folder of the dataset."""
    _, model, dataset = video_setup
    out = str(tmp_path / 'poison')
    first = craft_poison(model, dataset, 1, out, rate=1.0, steps=0,
                         progress=False)
    open(osp.join(out, 'stale.txt'), 'w').close()
    with pytest.raises(FileExistsError, match='overwrite'):
        craft_poison(model, dataset, 1, out, rate=0.34, steps=0,
                     progress=False)
    assert load_clip_manifest(out) == first
    big = UniversalTrigger(
        save_trigger_file(str(tmp_path / 'big.npy'),
                          np.zeros((1, 21, 21, 3), np.uint8)))
    with pytest.raises(ValueError, match='larger than the frame'):
        craft_poison(model, dataset, 1, out, big, rate=0.34, steps=0,
                     progress=False, overwrite=True)
    assert load_clip_manifest(out) == first
    assert osp.exists(osp.join(out, 'stale.txt'))
    with pytest.raises(ValueError, match='overlaps the source folder'):
        craft_poison(model, dataset, 1, dataset.data_prefix['img'],
                     rate=0.34, steps=0, progress=False, overwrite=True)
    second = craft_poison(model, dataset, 1, out, rate=0.34, steps=0,
                          progress=False, overwrite=True)
    assert second == load_clip_manifest(out)
    assert len(first['videos']) == 3 and len(second['videos']) == 1
    assert sorted(os.listdir(out)) == ['clips', 'manifest.json']
    assert os.listdir(osp.join(out, 'clips')) == ['00000.npy']


def test_craft_poison_keeps_the_manifest_header(video_setup, tmp_path):
    _, model, dataset = video_setup
    out = str(tmp_path / 'poison')
    with pytest.raises(ValueError, match=r"must not set \['version'\]"):
        craft_poison(model, dataset, 1, out, rate=1.0, steps=0,
                     progress=False, extra=dict(version=3))
    assert not osp.exists(out)
    craft_poison(model, dataset, 1, out, rate=1.0, steps=0, progress=False,
                 extra=dict(config='clean.py'))
    with open(osp.join(out, 'manifest.json')) as f:
        written = json.load(f)
    assert (written['format'], written['kind'], written['version']) == (
        'mmbackdoor.manifest', 'clips', 2)
    assert written['config'] == 'clean.py'
