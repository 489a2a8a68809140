"""The embedded video dataset: determinism, the rawframe layout read by
mmaction, lazy and atomic generation, argument checks, and a Runner smoke
test of the video baseline (the clip rendering is tested in
``test_rendering/test_motion_clips.py``)."""
import multiprocessing
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmbackdoor  # noqa: F401
from mmbackdoor.datasets import embedded_video
from mmbackdoor.datasets.embedded_video import (MOTIONS, SOURCE_CLASSES,
                                                TARGET_CLASSES,
                                                generate_embedded_video,
                                                render_clip,
                                                sample_clip_params)
from mmbackdoor.datasets.generation import file_digests
from mmbackdoor.datasets.rendering import motion_clips

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE_DATASET = osp.join(REPO, 'configs', '_base_', 'datasets',
                        'embedded_video.py')
BASELINE = osp.join(REPO, 'configs', 'baselines',
                    'i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-rgb.py')
TINY = dict(
    classes=('move_left', 'rotate_cw', 'grow'),
    num_train_per_class=2,
    num_val_per_class=1,
    num_frames=4,
    img_size=32)


def leftovers(parent):
    """Temporary siblings that generation left behind."""
    return [n for n in os.listdir(parent) if '.tmp-' in n or '.old-' in n]


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmaction'):
        return DATASETS.build(cfg)


def test_rendering_names_are_re_exported():
    assert MOTIONS is motion_clips.MOTIONS
    assert TARGET_CLASSES is motion_clips.TARGET_CLASSES
    assert SOURCE_CLASSES is motion_clips.SOURCE_CLASSES
    assert render_clip is motion_clips.render_clip
    assert sample_clip_params is motion_clips.sample_clip_params


def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path):
    a = file_digests(generate_embedded_video(str(tmp_path / 'a'), **TINY))
    b = file_digests(generate_embedded_video(str(tmp_path / 'b'), **TINY))
    c = file_digests(generate_embedded_video(str(tmp_path / 'c'), 1, **TINY))
    num_clips = 3 * (2 + 1)
    assert len(a) == num_clips * 4 + 3  # frames, two lists, meta.json
    assert a == b
    frames = [k for k in a if k.endswith('.png')]
    assert all(a[k] != c[k] for k in frames)


def test_clip_depends_only_on_seed_classes_split_and_index(tmp_path):
    small = dict(TINY, num_train_per_class=1)
    a = file_digests(generate_embedded_video(str(tmp_path / 'a'), **small))
    b = file_digests(generate_embedded_video(str(tmp_path / 'b'), **TINY))
    frames = [k for k in a if k.endswith('.png')]
    assert len(frames) == 3 * 2 * 4
    assert all(a[k] == b[k] for k in frames)


def test_rawframe_layout(tmp_path):
    root = generate_embedded_video(str(tmp_path / 'video'), **TINY)
    meta = embedded_video.read_meta(root)
    assert meta['classes'] == list(TINY['classes'])
    for split, per_class in (('train', 2), ('val', 1)):
        with open(osp.join(root, f'{split}_list.txt')) as f:
            lines = [line.split() for line in f]
        assert len(lines) == 3 * per_class
        labels = sorted(int(label) for _, _, label in lines)
        assert labels == sorted(list(range(3)) * per_class)
        for clip, total, label in lines:
            assert clip.startswith(f'{split}_{TINY["classes"][int(label)]}_')
            names = sorted(os.listdir(osp.join(root, 'rawframes', clip)))
            assert names == [f'img_{t:05}.png' for t in range(1, 5)]
            assert int(total) == 4
            frame = cv2.imread(osp.join(root, 'rawframes', clip, names[0]))
            assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8


def test_config_dataset_reads_frames_through_pipeline(tmp_path):
    """The dataset of the base config, built through the registry, reads the
    generated PNG frames with RawFrameDecode into 16x56x56 NCTHW clips."""
    cfg = Config.fromfile(BASE_DATASET)
    root = str(tmp_path / 'embedded_video')
    for loader, split, per_class in ((cfg.train_dataloader, 'train', 1),
                                     (cfg.val_dataloader, 'val', 2)):
        loader.dataset.update(
            data_root=root, num_train_per_class=1, num_val_per_class=2)
        dataset = build(loader.dataset)
        assert dataset.metainfo['classes'] == TARGET_CLASSES
        assert len(dataset) == per_class * len(TARGET_CLASSES)
        sample = dataset[0]
        assert sample['inputs'].shape == (1, 3, 16, 56, 56)
        assert sample['inputs'].dtype == torch.uint8
        assert sample['data_samples'].gt_label.item() == 0
        assert dataset.get_data_info(0)['frame_dir'] == osp.join(
            root, 'rawframes', f'{split}_move_left_0000')
    # The clip's frames are read from disk and centre-cropped.
    frames = np.stack([
        cv2.imread(
            osp.join(root, 'rawframes', 'val_move_left_0000',
                     f'img_{t:05}.png'))[4:60, 4:60, ::-1]
        for t in range(1, 17)
    ])
    assert np.array_equal(sample['inputs'][0].permute(1, 2, 3, 0).numpy(),
                          frames)


def test_source_and_target_sets_generate_to_different_roots(tmp_path):
    kwargs = dict(TINY, num_train_per_class=1)
    del kwargs['classes']
    roots = {
        classes:
        generate_embedded_video(
            str(tmp_path / name), classes=classes, **kwargs)
        for name, classes in (('target', TARGET_CLASSES), ('source',
                                                           SOURCE_CLASSES))
    }
    for classes, root in roots.items():
        dataset = build(
            dict(
                type='EmbeddedVideoDataset',
                data_root=root,
                ann_file='train_list.txt',
                pipeline=[],
                generate=False))
        assert dataset.metainfo['classes'] == classes
        assert {d['label'] for d in dataset} == set(range(len(classes)))
    # The class set enters the seed: the two sets share no backgrounds.
    target, source = (file_digests(r) for r in roots.values())
    assert not set(target.values()) & set(source.values())


def test_dataset_generates_lazily_and_once(tmp_path, monkeypatch):
    root = str(tmp_path / 'lazy' / 'embedded_video')
    cfg = dict(
        type='EmbeddedVideoDataset',
        data_root=root,
        ann_file='val_list.txt',
        pipeline=[],
        lazy_init=True,
        **TINY)
    dataset = build(cfg)
    assert not osp.exists(root)
    dataset.full_init()
    assert len(dataset) == 3 and osp.isfile(osp.join(root, 'meta.json'))

    def fail(*args):
        raise AssertionError('complete data must not be rewritten')

    monkeypatch.setattr(embedded_video, '_write_dataset', fail)
    assert len(build(dict(cfg, lazy_init=False))) == 3
    assert leftovers(osp.dirname(root)) == []


def test_failed_generation_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def render_then_fail(params, motion):
        calls.append(motion)
        if len(calls) == 3:
            raise RuntimeError('interrupted')
        return render_clip(params, motion)

    monkeypatch.setattr(embedded_video, 'render_clip', render_then_fail)
    with pytest.raises(RuntimeError, match='interrupted'):
        generate_embedded_video(str(tmp_path / 'video'), **TINY)
    assert os.listdir(tmp_path) == []


def test_losing_the_rename_race_keeps_the_winner(tmp_path, monkeypatch):
    """Another process renames its copy into place while this one writes:
    the finished data are kept and the temporary folder is removed."""
    root = str(tmp_path / 'video')
    reference = file_digests(
        generate_embedded_video(str(tmp_path / 'ref'), **TINY))
    write = embedded_video._write_dataset

    def write_while_other_finishes(folder, config):
        monkeypatch.setattr(embedded_video, '_write_dataset', write)
        generate_embedded_video(root, **TINY)  # the other process
        write(folder, config)

    monkeypatch.setattr(embedded_video, '_write_dataset',
                        write_while_other_finishes)
    assert generate_embedded_video(root, **TINY) == root
    assert file_digests(root) == reference
    assert leftovers(tmp_path) == []


def _generate_after(barrier, root):
    barrier.wait()
    generate_embedded_video(root, **TINY)


def test_concurrent_processes_generate_once(tmp_path):
    root = str(tmp_path / 'video')
    ctx = multiprocessing.get_context('fork')
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_generate_after, args=(barrier, root))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    reference = generate_embedded_video(str(tmp_path / 'ref'), **TINY)
    assert file_digests(root) == file_digests(reference)
    assert leftovers(tmp_path) == []


def test_existing_data_is_checked_and_overwritten_on_request(tmp_path):
    root = generate_embedded_video(str(tmp_path / 'video'), **TINY)
    with pytest.raises(FileExistsError, match='img_size: stored 32'):
        generate_embedded_video(root, **dict(TINY, img_size=16))
    other = dict(TINY, img_size=16)
    generate_embedded_video(root, overwrite=True, **other)
    assert embedded_video.read_meta(root)['img_size'] == 16
    assert file_digests(root) == file_digests(
        generate_embedded_video(str(tmp_path / 'ref'), **other))
    assert leftovers(tmp_path) == []


def test_foreign_folder_is_refused_and_empty_folder_filled(tmp_path):
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='no meta.json'):
        generate_embedded_video(str(foreign), **TINY)
    assert os.listdir(foreign) == ['notes.txt']
    empty = tmp_path / 'empty'
    empty.mkdir()
    generate_embedded_video(str(empty), **TINY)
    assert embedded_video.read_meta(str(empty)) is not None


@pytest.mark.parametrize('kwargs, error, message', [
    (dict(classes=('move_left', 'fly')), ValueError, "unknown motions.*'fly'"),
    (dict(classes='move_left'), TypeError, 'classes must be a sequence'),
    (dict(classes=('grow', 'grow')), ValueError, 'two distinct'),
    (dict(classes=('grow', )), ValueError, 'two distinct'),
    (dict(seed=-1), ValueError, 'seed must be >= 0'),
    (dict(seed=1.5), TypeError, 'seed must be an int'),
    (dict(num_train_per_class=0), ValueError, 'num_train_per_class'),
    (dict(num_val_per_class=0), ValueError, 'num_val_per_class'),
    (dict(num_frames=3), ValueError, 'num_frames must be >= 4'),
    (dict(img_size=8), ValueError, 'img_size must be >= 16'),
])
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, error, message):
    root = str(tmp_path / 'video')
    with pytest.raises(error, match=message):
        generate_embedded_video(root, **dict(TINY, **kwargs))
    # The dataset checks them when it is built, even with lazy_init.
    with pytest.raises(error, match=message):
        build(
            dict(
                type='EmbeddedVideoDataset',
                data_root=root,
                ann_file='train_list.txt',
                pipeline=[],
                lazy_init=True,
                **dict(TINY, **kwargs)))
    assert not osp.exists(root)


def test_dataset_argument_errors(tmp_path):
    cfg = dict(
        type='EmbeddedVideoDataset',
        data_root=str(tmp_path / 'missing'),
        ann_file='train_list.txt',
        pipeline=[])
    with pytest.raises(FileNotFoundError, match='generate=True'):
        build(dict(cfg, generate=False))
    with pytest.raises(ValueError, match='data_root must name'):
        build(dict(cfg, data_root=''))
    root = generate_embedded_video(str(tmp_path / 'video'), **TINY)
    with pytest.raises(ValueError, match='differ from the stored classes'):
        build(
            dict(cfg, data_root=root, generate=False, classes=TARGET_CLASSES))
    with pytest.raises(ValueError, match=r"metainfo\['classes'\]"):
        build(dict(cfg, data_root=root, metainfo=dict(classes=('a', 'b'))))
    with pytest.raises(ValueError, match='motion must be one of'):
        render_clip(sample_clip_params(np.random.default_rng(0), 4, 16), 'x')


def test_runner_trains_baseline_and_saves_checkpoint(tmp_path):
    """Two iterations of the video baseline on a tiny dataset through a
    real Runner; the checkpoint loads safely and holds the backbone."""
    cfg = Config.fromfile(BASELINE)
    tiny = dict(
        data_root=str(tmp_path / 'embedded_video'),
        num_train_per_class=1,
        num_val_per_class=1)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(
            batch_size=4, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.update(tiny)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == len(TARGET_CLASSES) // 4
    # The baseline samples 8 of the 16 frames.
    assert runner.train_dataloader.dataset[0]['inputs'].shape == (1, 3, 8, 56,
                                                                  56)
    ckpt = torch.load(
        osp.join(cfg.work_dir, 'epoch_1.pth'),
        map_location='cpu',
        weights_only=True)
    assert 'backbone.conv1.conv.weight' in ckpt['state_dict']
    assert ckpt['meta']['dataset_meta']['classes'] == TARGET_CLASSES
