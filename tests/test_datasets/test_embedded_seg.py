"""The embedded segmentation dataset: generation, layout read by mmseg,
safety of concurrent generation, and a Runner smoke test of the baseline
(the scene rendering is tested in ``test_rendering/test_seg_scenes.py``)."""
import json
import multiprocessing
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmseg.registry import DATASETS

import mmbackdoor  # noqa: F401
from mmbackdoor.datasets import embedded_seg
from mmbackdoor.datasets.embedded_seg import (CLASSES, IGNORE_INDEX,
                                              generate_embedded_seg,
                                              scaled_data_root)
from mmbackdoor.datasets.generation import file_digests
from mmbackdoor.datasets.rendering import seg_scenes

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(REPO, 'configs', 'baselines',
                    'unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
TINY = dict(num_train=4, num_val=2, img_size=32)
# Parameters of the shared ``embedded_seg_root`` fixture.
SHARED = dict(seed=0, num_train=16, num_val=6, img_size=32)
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def build_split(data_root, split, pipeline=LOAD, **kwargs):
    cfg = dict(
        type='EmbeddedSegDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
        pipeline=pipeline,
        **kwargs)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def leftovers(parent):
    return [name for name in os.listdir(parent) if '.tmp-' in name]


def test_rendering_names_are_re_exported():
    assert CLASSES is seg_scenes.CLASSES
    assert IGNORE_INDEX == seg_scenes.IGNORE_INDEX == 255
    assert embedded_seg.render_sample is seg_scenes.render_sample


def test_same_seed_is_bit_identical_and_other_seed_differs(tmp_path):
    a = file_digests(generate_embedded_seg(str(tmp_path / 'a'), **TINY))
    b = file_digests(generate_embedded_seg(str(tmp_path / 'b'), **TINY))
    c = file_digests(generate_embedded_seg(str(tmp_path / 'c'), 1, **TINY))
    assert len(a) == 2 * (TINY['num_train'] + TINY['num_val']) + 1
    assert a == b
    images = [k for k in a if k.startswith('img_dir')]
    assert all(a[k] != c[k] for k in images)


def test_sample_depends_only_on_seed_split_and_index(tmp_path):
    small = file_digests(
        generate_embedded_seg(
            str(tmp_path / 'small'), num_train=2, num_val=1, img_size=32))
    large = file_digests(generate_embedded_seg(str(tmp_path / 'l'), **TINY))
    shared = [k for k in small if k != 'meta.json']
    assert len(shared) == 6
    assert all(small[k] == large[k] for k in shared)


def test_layout_is_read_by_mmseg(embedded_seg_root):
    train = build_split(embedded_seg_root, 'train', **SHARED)
    val = build_split(embedded_seg_root, 'val', **SHARED)
    assert (len(train), len(val)) == (16, 6)
    assert train.metainfo['classes'] == CLASSES
    assert len(train.metainfo['palette']) == len(CLASSES)
    seen = set()
    for i in range(len(train)):
        sample = train[i]
        img, seg = sample['img'], sample['gt_seg_map']
        assert img.shape == (32, 32, 3) and img.dtype == np.uint8
        assert seg.shape == (32, 32) and seg.dtype == np.uint8
        values = set(np.unique(seg).tolist())
        assert values <= set(range(len(CLASSES))) | {IGNORE_INDEX}
        objects = values - {0, IGNORE_INDEX}
        assert len(objects) >= 2, f'sample {i} shows only {objects}'
        seen |= values
    # every class, and some void border pixels, occur in the train split
    assert seen == set(range(len(CLASSES))) | {IGNORE_INDEX}


def test_ignore_pixels_are_thin_borders(embedded_seg_root):
    train = build_split(embedded_seg_root, 'train', **SHARED)
    segs = np.stack([train[i]['gt_seg_map'] for i in range(len(train))])
    void = segs == IGNORE_INDEX
    assert 0 < void.mean() < 0.1
    # a void pixel always touches at least one labelled pixel
    padded = np.pad(void, ((0, 0), (1, 1), (1, 1)), constant_values=True)
    all_void = np.ones_like(void)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        all_void &= padded[:, dy:dy + 32, dx:dx + 32]
    assert not (void & all_void).any()


def test_generates_lazily_on_first_use(tmp_path):
    root = str(tmp_path / 'not' / 'yet' / 'embedded_seg')
    dataset = build_split(root, 'val', lazy_init=True, **TINY)
    assert not osp.exists(root)
    dataset.full_init()
    assert len(dataset) == TINY['num_val']
    assert file_digests(root) == file_digests(
        generate_embedded_seg(str(tmp_path / 'ref'), **TINY))


def test_complete_dataset_is_not_rewritten(tmp_path):
    root = generate_embedded_seg(str(tmp_path / 'd'), **TINY)
    stamps = {
        f: os.stat(osp.join(root, f)).st_mtime_ns
        for f in file_digests(root)
    }
    assert len(build_split(root, 'train', **TINY)) == TINY['num_train']
    assert generate_embedded_seg(root, **TINY) == root
    assert stamps == {
        f: os.stat(osp.join(root, f)).st_mtime_ns
        for f in file_digests(root)
    }


def test_lost_race_keeps_the_winner_and_cleans_up(tmp_path, monkeypatch):
    """Another rank renames its copy into place while this one writes."""
    root = str(tmp_path / 'embedded_seg')
    write = embedded_seg._write

    def write_then_lose(folder, meta):
        write(folder, meta)
        # The other rank, generating the same data, renames its copy first.
        monkeypatch.setattr(embedded_seg, '_write', write)
        generate_embedded_seg(root, **TINY)

    monkeypatch.setattr(embedded_seg, '_write', write_then_lose)
    assert generate_embedded_seg(root, **TINY) == root
    monkeypatch.undo()
    assert leftovers(tmp_path) == []
    assert file_digests(root) == file_digests(
        generate_embedded_seg(str(tmp_path / 'ref'), **TINY))


def test_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
    """A run that dies while writing leaves no partial data_root behind."""
    root = str(tmp_path / 'embedded_seg')
    render = embedded_seg.render_sample
    calls = []

    def render_then_fail(*args):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError('interrupted')
        return render(*args)

    with monkeypatch.context() as m:
        m.setattr(embedded_seg, 'render_sample', render_then_fail)
        with pytest.raises(RuntimeError, match='interrupted'):
            generate_embedded_seg(root, **TINY)
    assert os.listdir(tmp_path) == []
    assert file_digests(generate_embedded_seg(root, **TINY)) == \
        file_digests(generate_embedded_seg(str(tmp_path / 'ref'), **TINY))


def _generate_after(barrier, root):
    barrier.wait()
    generate_embedded_seg(root, **TINY)


def test_concurrent_processes_and_stale_temp_folder(tmp_path):
    root = str(tmp_path / 'embedded_seg')
    stale = tmp_path / '.embedded_seg.tmp-crashed'
    stale.mkdir()
    (stale / 'junk.png').write_bytes(b'partial')
    ctx = multiprocessing.get_context('fork')
    barrier = ctx.Barrier(3)
    procs = [
        ctx.Process(target=_generate_after, args=(barrier, root))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert leftovers(tmp_path) == [stale.name]  # only the foreign one
    assert file_digests(root) == file_digests(
        generate_embedded_seg(str(tmp_path / 'ref'), **TINY))


@pytest.mark.parametrize('kwargs, error, key', [
    (dict(num_train=0), ValueError, 'num_train'),
    (dict(num_val=2.5), TypeError, 'num_val'),
    (dict(img_size=16), ValueError, 'img_size'),
    (dict(seed=-1), ValueError, 'seed'),
    (dict(num_train=True), TypeError, 'num_train'),
    (dict(min_coverage=0.5), ValueError, 'min_coverage'),
    (dict(person_scale=0), ValueError, r'person_scale must be .* \(0, 3\]'),
    (dict(person_scale=3.5), ValueError, 'person_scale'),
    (dict(person_scale='2'), ValueError, 'person_scale'),
])
def test_bad_arguments_are_rejected(tmp_path, kwargs, error, key):
    with pytest.raises(error, match=key):
        generate_embedded_seg(str(tmp_path / 'd'), **kwargs)
    assert os.listdir(tmp_path) == []


def test_bad_dataset_config_fails_at_build_time(tmp_path):
    root = str(tmp_path / 'd')
    with pytest.raises(ValueError, match='num_train'):
        build_split(root, 'train', lazy_init=True, num_train=0)
    with pytest.raises(ValueError, match='data_root'):
        build_split(None, 'train', lazy_init=True)
    assert os.listdir(tmp_path) == []


def test_existing_data_must_match(tmp_path):
    root = generate_embedded_seg(str(tmp_path / 'd'), **TINY)
    with pytest.raises(FileExistsError, match='seed: stored 0 != requested 1'):
        build_split(root, 'train', seed=1, **TINY)
    foreign = tmp_path / 'foreign'
    (foreign / 'img_dir').mkdir(parents=True)
    with pytest.raises(FileExistsError, match='meta.json'):
        generate_embedded_seg(str(foreign), **TINY)
    # meta.json marks a complete dataset: it is written last and the folder
    # becomes data_root by an atomic rename, so files are not counted and a
    # file removed by hand afterwards is not regenerated.
    os.remove(osp.join(root, 'ann_dir', 'val', '00001.png'))
    assert generate_embedded_seg(root, **TINY) == root
    assert not osp.exists(osp.join(root, 'ann_dir', 'val', '00001.png'))
    # ``generate=False`` reads any folder in the layout as it is
    assert len(build_split(root, 'val', generate=False)) == 2


def test_person_scale_is_stored_and_checked(tmp_path):
    default = generate_embedded_seg(str(tmp_path / 'd'), **TINY)
    with open(osp.join(default, 'meta.json')) as f:
        # absent at the default: data generated before the option stays valid
        assert 'person_scale' not in json.load(f)
    assert generate_embedded_seg(default, person_scale=1.0, **TINY) == default
    large = generate_embedded_seg(
        str(tmp_path / 'large'), person_scale=2, **TINY)
    with open(osp.join(large, 'meta.json')) as f:
        assert json.load(f)['person_scale'] == 2.0
    assert file_digests(large) != file_digests(default)
    with pytest.raises(FileExistsError, match='person_scale'):
        build_split(large, 'train', **TINY)
    assert len(build_split(large, 'val', person_scale=2, **TINY)) == 2


def test_overwrite_replaces_the_dataset(tmp_path):
    root = generate_embedded_seg(str(tmp_path / 'd'), **TINY)
    generate_embedded_seg(root, 1, overwrite=True, **TINY)
    assert leftovers(tmp_path) == []
    assert file_digests(root) == file_digests(
        generate_embedded_seg(str(tmp_path / 'ref'), 1, **TINY))


def test_train_pipeline_quarter_turn_is_exact(embedded_seg_root):
    """The base config's rotation by 90 degrees loses no pixel."""
    pipeline = Config.fromfile(BASELINE).train_pipeline
    for t in pipeline:
        if t['type'] == 'RandomRotate':
            t['prob'] = 1.0
        elif t['type'] == 'RandomFlip':
            t['prob'] = 0.0
    plain = build_split(embedded_seg_root, 'val', **SHARED)
    rotated = build_split(
        embedded_seg_root, 'val', pipeline=pipeline[:-1], **SHARED)
    assert [t['type'] for t in pipeline] == [
        'LoadImageFromFile', 'LoadAnnotations', 'RandomRotate', 'RandomFlip',
        'PackSegInputs'
    ]
    for i in range(len(plain)):
        a, b = plain[i], rotated[i]
        # mmcv rotates counter-clockwise for a positive angle
        np.testing.assert_array_equal(
            np.rot90(a['gt_seg_map'], -1), b['gt_seg_map'])
        np.testing.assert_array_equal(np.rot90(a['img'], -1), b['img'])


def test_baseline_config_trains_and_validates(embedded_seg_root, tmp_path):
    """Two iterations of the baseline through a real Runner."""
    cfg = Config.fromfile(BASELINE)
    cfg.work_dir = str(tmp_path / 'work')
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=embedded_seg_root, **SHARED)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.model.data_preprocessor.size = (32, 32)
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler[0].total_steps = 2
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
    metrics = runner.val_loop.run()
    assert set(metrics) == {'aAcc', 'mIoU', 'mAcc'}
    assert all(0 <= v <= 100 for v in metrics.values())
    assert runner.model.decode_head.num_classes == len(CLASSES)


def test_scaled_data_root_names_a_folder_per_person_scale():
    assert scaled_data_root('data/embedded_seg', 1) == 'data/embedded_seg'
    assert scaled_data_root('data/embedded_seg/', 2) == \
        'data/embedded_seg_person2'
    assert scaled_data_root('d', 1.5) == 'd_person1.5'
