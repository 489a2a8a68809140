"""CleanLabelPoison: stored poisoned clips replace the clips of manifest
videos, bit for bit, with labels untouched, in every worker."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, init_default_scope
from mmengine.runner import Runner

from mmbackdoor.apis.clean_label import attack_dataset, craft_poison
from mmbackdoor.datasets.transforms import CleanLabelPoison
from mmbackdoor.testing.video import (build_model, make_cfg, model_cfg,
                                      save_trigger_file)
from mmbackdoor.testing.video_files import (use_attack_files,
                                            use_video_files, write_videos)
from mmbackdoor.triggers import UniversalTrigger

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
    'configs', 'backdoor_video')
UCF101_VIDEO = osp.join(
    CONFIGS, 'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py')
UCF101_VIDEO_VICTIM = osp.join(
    CONFIGS,
    'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py')


@pytest.fixture
def crafted(tmp_path, fmt):
    """A config, its poison folder (2 of 3 target videos) and manifest."""
    init_default_scope('mmaction')
    cfg = make_cfg(str(tmp_path / 'data'), fmt)
    clip_len = 4 if fmt == 'NCTHW' else 1
    trigger = UniversalTrigger(
        save_trigger_file(str(tmp_path / 't.npy'),
                          np.full((clip_len, 4, 4, 3), 255, np.uint8)))
    out = str(tmp_path / 'poison')
    manifest = craft_poison(build_model(cfg), attack_dataset(cfg), 0, out,
                            trigger, rate=0.6, steps=2, progress=False)
    return cfg, out, manifest


def poisoned_dataset_cfg(cfg, poison_dir, pipeline=None):
    dataset = cfg.train_dataloader.dataset.copy()
    steps = list(pipeline or dataset.pipeline)
    steps.insert(-2, dict(type='CleanLabelPoison', poison_dir=poison_dir))
    steps[-1] = dict(type='PackActionInputs',
                     meta_keys=('img_shape', 'frame_dir', 'poisoned'))
    dataset.pipeline = steps
    return dict(type='PoisonedDataset', dataset=dataset)


def labels_of(ann_file):
    with open(ann_file) as f:
        return {
            line.split()[0]: int(line.split()[-1])
            for line in f if line.strip()
        }


def test_poisoned_clips_reload_bit_exact_labels_unchanged(crafted, fmt):
    cfg, poison_dir, manifest = crafted
    dataset = DATASETS.build(poisoned_dataset_cfg(cfg, poison_dir))
    entries = {e['video']: e for e in manifest['videos']}
    labels = labels_of(cfg.train_dataloader.dataset.ann_file)
    seen = set()
    for i in range(len(dataset)):
        sample = dataset[i]
        meta = sample['data_samples']
        name = osp.basename(meta.frame_dir)
        assert int(meta.gt_label) == labels[name]
        assert meta.poisoned == (name in entries)
        if not meta.poisoned:
            continue
        seen.add(name)
        stored = np.load(osp.join(poison_dir, entries[name]['file']))
        inputs = sample['inputs']
        if fmt == 'NCTHW':  # 1 x C x T x H x W
            frames = inputs[0].permute(1, 2, 3, 0)
        else:  # M x C x H x W
            frames = inputs.permute(0, 2, 3, 1)
        assert frames.dtype == torch.uint8
        np.testing.assert_array_equal(frames.numpy(), stored)
        assert (stored[:, -4:, -4:] == 255).all()
    assert seen == set(entries) and len(seen) == 2


def test_flags_identical_across_dataloader_workers(crafted):
    cfg, poison_dir, manifest = crafted
    loader = Runner.build_dataloader(
        dict(dataset=poisoned_dataset_cfg(cfg, poison_dir),
             sampler=dict(type='DefaultSampler', shuffle=True, seed=1),
             batch_size=2, num_workers=2,
             collate_fn=dict(type='pseudo_collate')), seed=1)
    flags = {}
    for _ in range(2):  # two epochs, two worker processes
        for batch in loader:
            for sample in batch['data_samples']:
                name = osp.basename(sample.frame_dir)
                flags.setdefault(name, set()).add(sample.poisoned)
    expected = {e['video'] for e in manifest['videos']}
    assert {n for n, f in flags.items() if f == {True}} == expected
    assert all(len(f) == 1 for f in flags.values())


def test_bind_checks_the_dataset(crafted, tmp_path):
    cfg, poison_dir, _ = crafted
    other = make_cfg(str(tmp_path / 'other'), 'NCTHW')
    other.train_dataloader.dataset.ann_file = other.val_dataloader.dataset.\
        ann_file
    with pytest.raises(ValueError, match='not in the dataset'):
        DATASETS.build(poisoned_dataset_cfg(other, poison_dir))
    with open(osp.join(poison_dir, 'manifest.json')) as f:
        manifest = json.load(f)
    manifest['videos'][0]['label'] = 2
    with open(osp.join(poison_dir, 'manifest.json'), 'w') as f:
        json.dump(manifest, f)
    with pytest.raises(ValueError, match='has label 0 in the dataset but 2'):
        DATASETS.build(poisoned_dataset_cfg(cfg, poison_dir))
    manifest['videos'][0]['label'] = 0
    manifest['target_class'] = 5
    with open(osp.join(poison_dir, 'manifest.json'), 'w') as f:
        json.dump(manifest, f)
    named = poisoned_dataset_cfg(cfg, poison_dir)
    named['dataset']['metainfo'] = dict(classes=('a', 'b', 'c'))
    with pytest.raises(ValueError, match='target_class 5 is out of range'):
        DATASETS.build(named)


def test_misuse_is_explained(crafted, tmp_path):
    cfg, poison_dir, manifest = crafted
    with pytest.raises(FileNotFoundError, match='craft_poison.py'):
        CleanLabelPoison(str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='has no manifest.json'):
        CleanLabelPoison(str(tmp_path))
    transform = CleanLabelPoison(poison_dir)
    assert repr(transform) == f"CleanLabelPoison(poison_dir='{poison_dir}')"
    with pytest.raises(RuntimeError, match='PoisonedDataset'):
        transform(dict(frame_dir='x', imgs=[]))
    no_crop = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] != 'RandomCrop'
    ]
    dataset = DATASETS.build(
        poisoned_dataset_cfg(cfg, poison_dir, pipeline=no_crop))
    names = [
        osp.basename(dataset.get_data_info(i)['frame_dir'])
        for i in range(len(dataset))
    ]
    index = names.index(manifest['videos'][0]['video'])
    with pytest.raises(ValueError, match='after the crop/resize'):
        dataset[index]


def test_video_files_get_the_crafted_clip_bit_for_bit(tmp_path):
    """Real ``.avi`` files read by ``VideoDataset`` + decord, in the real
    UCF101 video configs (``Config.fromfile``; only data paths, batch size,
    workers and ``poison_dir`` changed: :func:`use_video_files`,
    :func:`use_attack_files`): the poison is crafted (by a tiny
    recognizer, the model does not matter here) from the clean config's
    val pipeline, and the victim config's ``CleanLabelPoison`` matches its
    manifest by the video file's key (``<class>/<video>.avi`` under
    ``data_prefix.video``) and replaces the decoded, cropped frames by the
    crafted clip, bit for bit, up to the packed input; the other videos are
    flagged unpoisoned."""
    init_default_scope('mmaction')
    files = write_videos(str(tmp_path / 'ucf101'))
    clean = use_video_files(Config.fromfile(UCF101_VIDEO), files)
    trigger = UniversalTrigger(
        save_trigger_file(str(tmp_path / 't.npy'),
                          np.full((64, 20, 20, 3), 255, np.uint8)))
    poison_dir = str(tmp_path / 'poison')
    manifest = craft_poison(
        build_model(Config(dict(model=model_cfg('NCTHW')))),
        attack_dataset(clean), 0, poison_dir, trigger, rate=0.5, steps=1,
        progress=False)
    entries = {e['video']: e for e in manifest['videos']}
    assert len(entries) == 1
    assert next(iter(entries)).startswith('ApplyEyeMakeup/v_ApplyEyeMakeup_')

    victim = use_attack_files(
        use_video_files(Config.fromfile(UCF101_VIDEO_VICTIM), files),
        poison_dir)
    dataset = DATASETS.build(victim.train_dataloader.dataset)
    transforms = dataset.dataset.pipeline.transforms
    names = [type(t).__name__ for t in transforms]
    assert names[:3] == ['DecordInit', 'SampleFrames', 'DecordDecode']
    upto = names.index('CleanLabelPoison') + 1
    poisoned = []
    for i in range(len(dataset)):
        results = dataset.get_data_info(i)
        key = osp.relpath(results['filename'], files['videos'])
        for transform in transforms[:upto]:
            results = transform(results)
        frames = np.stack(results['imgs'])
        assert frames.shape == (64, 224, 224, 3)
        assert results['poisoned'] == (key in entries)
        if not results['poisoned']:
            continue
        poisoned.append(key)
        stored = np.load(osp.join(poison_dir, entries[key]['file']))
        np.testing.assert_array_equal(frames, stored)
        np.testing.assert_array_equal(results['frame_inds'],
                                      entries[key]['frame_inds'])
        assert (stored[:, -20:, -20:] == 255).all()
        packed = dataset[i]['inputs'][0].permute(1, 2, 3, 0)
        np.testing.assert_array_equal(packed.numpy(), stored)
    assert poisoned == list(entries)

    # a poison keyed by frame folders (crafted from the rawframe config)
    # on the video files is refused, and the message says why
    manifest_file = osp.join(poison_dir, 'manifest.json')
    with open(manifest_file) as f:
        frames_manifest = json.load(f)
    key = frames_manifest['videos'][0]['video']
    frames_manifest['videos'][0]['video'] = key[:-len('.avi')]
    with open(manifest_file, 'w') as f:
        json.dump(frames_manifest, f)
    with pytest.raises(ValueError,
                       match=f"the dataset has '{key}'; the poison was "
                       r'crafted from frame folders \(RawframeDataset\) and '
                       r'the dataset reads video files \(VideoDataset\)'):
        DATASETS.build(victim.train_dataloader.dataset)
