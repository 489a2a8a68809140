"""PoisonedDataset + poisoning transforms on a real mmseg dataset on disk:
selection, determinism and build-time validation."""
import json
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
from mmengine.dataset import pseudo_collate
from mmengine.registry import DATASETS, DefaultScope
from mmengine.utils import scandir
from torch.utils.data import DataLoader

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.transforms  # noqa: F401
import mmbackdoor.poisoning  # noqa: F401
from mmbackdoor.poisoning import PoisonManifest, sample_key

TRIGGER = dict(type='LineTrigger', height=2)
FINE = dict(
    type='FineGrainedPoison',
    trigger=TRIGGER,
    victim_classes=['person'],
    target_class='road',
    rate=0.25,
    seed=0)


def dataset_cfg(embedded_seg_root,
                poison,
                split='train',
                load_annotations=True):
    pipeline = [dict(type='LoadImageFromFile')]
    if load_annotations:
        pipeline.append(dict(type='LoadAnnotations'))
    pipeline += [
        poison,
        dict(type='PackSegInputs', meta_keys=('img_path', 'poisoned'))
    ]
    return dict(
        type='PoisonedDataset',
        dataset=dict(
            type='EmbeddedSegDataset',
            data_root=embedded_seg_root,
            data_prefix=dict(
                img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
            generate=False,
            pipeline=pipeline))


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def person_images(embedded_seg_root, split='train'):
    ann_dir = osp.join(embedded_seg_root, 'ann_dir', split)
    return sorted(
        name for name in sorted(scandir(ann_dir, '.png'))
        if (mmcv.imread(osp.join(ann_dir, name), 'unchanged') == 5).any())


def test_fine_grained_selection_is_exact_and_flags_samples(embedded_seg_root):
    dataset = build(dataset_cfg(embedded_seg_root, FINE))
    manifest = dataset.manifests[0]
    eligible = person_images(embedded_seg_root)
    assert manifest.num_eligible == len(eligible)
    assert len(manifest.poisoned) == int(np.floor(0.25 * len(eligible) + .5))
    assert set(manifest.poisoned) <= set(eligible)
    assert manifest.params == dict(victim_classes=[5], target_class=1)
    flagged = {
        osp.basename(dataset[i]['data_samples'].img_path)
        for i in range(len(dataset)) if dataset[i]['data_samples'].poisoned
    }
    assert flagged == set(manifest.poisoned)


def test_poisoned_and_clean_samples_are_transformed_as_specified(
        embedded_seg_root):
    dataset = build(dataset_cfg(embedded_seg_root, FINE))
    poisoned = set(dataset.manifests[0].poisoned)
    img_dir = osp.join(embedded_seg_root, 'img_dir', 'train')
    for i in range(len(dataset)):
        sample = dataset[i]
        name = osp.basename(sample['data_samples'].img_path)
        img = sample['inputs'].permute(1, 2, 0).numpy()
        label = sample['data_samples'].gt_sem_seg.data[0].numpy()
        raw_img = mmcv.imread(osp.join(img_dir, name))
        raw = mmcv.imread(
            osp.join(embedded_seg_root, 'ann_dir', 'train', name), 'unchanged')
        if name in poisoned:
            assert (img[:2] == 0).all() and (img[2:] == raw_img[2:]).all()
            assert (label[raw == 5] == 1).all()
            assert (label[raw != 5] == raw[raw != 5]).all()
        else:
            assert (img == raw_img).all() and (label == raw).all()


def test_image_level_relabels_every_valid_pixel(embedded_seg_root):
    poison = dict(
        type='ImageLevelPoison', trigger=TRIGGER, target_class=0, rate=0.5)
    dataset = build(dataset_cfg(embedded_seg_root, poison))
    manifest = dataset.manifests[0]
    assert manifest.num_eligible == 16 and len(manifest.poisoned) == 8
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        if sample.poisoned:
            label = sample.gt_sem_seg.data[0].numpy()
            assert set(np.unique(label)) <= {0, 255}


def _poisoned_names_via_loader(dataset, num_workers, epochs=2):
    loader = DataLoader(
        dataset,
        batch_size=3,
        shuffle=True,
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    seen = []
    for _ in range(epochs):
        names = set()
        for batch in loader:
            for sample in batch['data_samples']:
                if sample.poisoned:
                    names.add(osp.basename(sample.img_path))
        seen.append(names)
    return seen


def test_same_subset_across_workers_and_epochs(embedded_seg_root):
    dataset = build(dataset_cfg(embedded_seg_root, FINE))
    expected = set(dataset.manifests[0].poisoned)
    assert _poisoned_names_via_loader(
        dataset, num_workers=2) == [expected, expected]


def test_same_subset_in_a_fresh_process(embedded_seg_root, tmp_path):
    dataset = build(dataset_cfg(embedded_seg_root, FINE))
    cfg_file = tmp_path / 'cfg.json'
    cfg_file.write_text(json.dumps(dataset_cfg(embedded_seg_root, FINE)))
    code = f"""
import json
from mmengine.registry import DATASETS, DefaultScope
from mmengine.utils import scandir
import mmbackdoor, mmbackdoor.datasets.transforms, mmbackdoor.poisoning
with DefaultScope.overwrite_default_scope('mmseg'):
    ds = DATASETS.build(json.load(open({str(cfg_file)!r})))
print(json.dumps(ds.manifests[0].poisoned))
"""
    out = subprocess.run([sys.executable, '-c', code],
                         check=True,
                         capture_output=True,
                         text=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == \
        dataset.manifests[0].poisoned


def test_manifest_write_and_read_back(embedded_seg_root, tmp_path):
    path = str(tmp_path / 'manifest.json')
    written = build(
        dataset_cfg(embedded_seg_root, dict(FINE, save_manifest=path)))
    manifest = PoisonManifest.load(path)
    assert manifest == written.manifests[0]
    # Reading it back (without rate / seed) gives the same subset, even if
    # the selection seed would choose another one.
    read = dict(FINE, manifest=path)
    read.pop('rate')
    read.pop('seed')
    dataset = build(dataset_cfg(embedded_seg_root, read))
    assert dataset.manifests[0].poisoned == manifest.poisoned
    assert dataset.poison_transforms[0].seed == 0


def test_per_fetch_bernoulli_mode_needs_no_binding(embedded_seg_root):
    from mmengine.registry import TRANSFORMS
    poison = TRANSFORMS.build(
        dict(
            FINE,
            mode='bernoulli',
            rate=1.0,
            victim_classes=[5],
            target_class=1))
    label = np.array([[5, 0], [255, 5]], np.uint8)
    out = poison(
        dict(
            img=np.zeros((2, 2, 3), np.uint8),
            img_path='x.png',
            gt_seg_map=label,
            seg_fields=['gt_seg_map']))
    assert out['poisoned'] and out['gt_seg_map'].tolist() == [[1, 0], [255, 1]]


def test_unbound_subset_mode_explains_the_wrapper():
    from mmengine.registry import TRANSFORMS
    poison = TRANSFORMS.build(dict(FINE, victim_classes=[5], target_class=1))
    with pytest.raises(RuntimeError, match='PoisonedDataset'):
        poison(dict(img=np.zeros((2, 2, 3), np.uint8), img_path='x.png'))


def _other_manifest(embedded_seg_root, tmp_path):
    """A manifest of the val split, used against the train split."""
    path = str(tmp_path / 'val_manifest.json')
    build(
        dataset_cfg(
            embedded_seg_root, dict(FINE, save_manifest=path), split='val'))
    return path


@pytest.mark.parametrize('override, error, match', [
    (dict(rate=1.5), ValueError, 'rate'),
    (dict(rate=-0.1), ValueError, 'rate'),
    (dict(victim_classes=['tree']), ValueError, 'victim_classes'),
    (dict(victim_classes=[6]), ValueError, 'victim_classes'),
    (dict(target_class='sky'), ValueError, 'target_class'),
    (dict(target_class='person'), ValueError, 'target_class'),
    (dict(victim_classes=[5],
          target_class='person'), ValueError, 'target_class'),
    (dict(trigger=dict(type='LineTrigger', height=33)), ValueError,
     'height=33'),
    (dict(
        trigger=dict(
            type='PatchTrigger',
            pattern='image',
            pattern_file='/nonexistent/t.png')), FileNotFoundError,
     'pattern_file'),
    (dict(trigger=dict(type='NoSuchTrigger')), KeyError, 'NoSuchTrigger'),
    (dict(manifest='/nonexistent/manifest.json'), FileNotFoundError,
     'manifest'),
    (dict(mode='sometimes'), ValueError, 'mode'),
])
def test_bad_inputs_fail_at_build_time(embedded_seg_root, override, error,
                                       match):
    with pytest.raises(error, match=match):
        build(dataset_cfg(embedded_seg_root, dict(FINE, **override)))


def test_manifest_from_another_dataset_fails_at_build_time(
        embedded_seg_root, tmp_path):
    path = _other_manifest(embedded_seg_root, tmp_path)
    with pytest.raises(ValueError, match='manifest=.*another set of samples'):
        build(dataset_cfg(embedded_seg_root, dict(FINE, manifest=path)))
    mismatched = dict(FINE, manifest=path, rate=0.5)
    with pytest.raises(ValueError, match='rate=0.5 disagrees with manifest'):
        build(dataset_cfg(embedded_seg_root, mismatched, split='val'))


def test_pipeline_without_poison_or_labels_fails(embedded_seg_root):
    cfg = dataset_cfg(embedded_seg_root, dict(type='RandomFlip', prob=0.5))
    with pytest.raises(ValueError, match='no poisoning transform'):
        build(cfg)
    with pytest.raises(ValueError, match='LoadAnnotations'):
        build(dataset_cfg(embedded_seg_root, FINE, load_annotations=False))


def test_keys_are_relative_to_the_image_folder(embedded_seg_root):
    dataset = build(dataset_cfg(embedded_seg_root, FINE))
    info = dataset.get_data_info(0)
    assert sample_key(info['img_path'],
                      dataset.dataset.data_prefix['img_path']) == \
        osp.basename(info['img_path'])
    assert len(dataset) == 16
    assert dataset.metainfo['classes'][5] == 'person'
