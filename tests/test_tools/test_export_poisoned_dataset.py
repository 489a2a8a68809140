"""tools/misc/export_poisoned_dataset.py and mmbackdoor.apis.export."""
import json
import os
import os.path as osp
import runpy
import sys

import mmcv
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope
from PIL import Image

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.embedded_seg  # noqa: F401
import mmbackdoor.engine.runner  # noqa: F401
import mmbackdoor.evaluation.metrics.seg_backdoor_metric  # noqa: F401
from mmbackdoor.apis.export import (dataset_cfg_of_split, encode_label,
                                    export_poisoned_dataset, image_quality,
                                    read_label_file, write_label_file)
from mmbackdoor.datasets.generation import file_digests
from mmbackdoor.poisoning import PoisonManifest
from mmbackdoor.testing.crash import kill, start_hanging, wait_hanging
from mmbackdoor.testing.real_layouts import VOC_IDS, write_voc12aug

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'misc', 'export_poisoned_dataset.py')
CONFIG = osp.join(REPO, 'configs', 'backdoor_seg',
                  'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
VOC_CONFIG = osp.join(
    REPO, 'configs', 'backdoor_seg', 'deeplabv3',
    'fine-grained_deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py')


def tool_args(embedded_seg_root, out_dir, *options):
    return [
        CONFIG, out_dir, *options, '--cfg-options',
        f'train_dataloader.dataset.dataset.data_root={embedded_seg_root}',
        'train_dataloader.dataset.dataset.generate=False',
        'train_dataloader.dataset.dataset.pipeline.4.rate=0.5'
    ]


def run_tool(embedded_seg_root, out_dir, *options):
    argv = sys.argv
    sys.argv = [TOOL, *tool_args(embedded_seg_root, out_dir, *options)]
    try:
        runpy.run_path(TOOL, run_name='__main__')
    finally:
        sys.argv = argv


def test_export_writes_a_poisoned_copy(embedded_seg_root, tmp_path, capsys):
    before = file_digests(embedded_seg_root)
    out_dir = str(tmp_path / 'poisoned')
    run_tool(embedded_seg_root, out_dir)
    out = capsys.readouterr().out
    summary = json.loads(out[out.index('{\n'):])  # after the progress bar
    assert file_digests(
        embedded_seg_root) == before, 'the source must not change'
    with open(osp.join(out_dir, 'manifest.json')) as f:
        manifest = json.load(f)
    poisoned = set(manifest['poisoned'])
    extra = manifest['extra']
    assert extra['num_poisoned_written'] == len(poisoned) > 0
    assert summary['num_poisoned'] == len(poisoned)
    assert summary['realised_rate'] == round(manifest['realised_rate'], 4)
    assert 10 < extra['psnr_min'] <= extra['psnr_mean'] < 60
    assert 0 < extra['ssim_min'] <= extra['ssim_mean'] < 1
    after = file_digests(out_dir)
    for split_dir in ('img_dir/train', 'ann_dir/train'):
        names = sorted(os.listdir(osp.join(embedded_seg_root, split_dir)))
        assert sorted(os.listdir(osp.join(out_dir, split_dir))) == names
        for name in names:
            rel = osp.join(split_dir, name)
            assert (after[rel] == before[rel]) == (name not in poisoned)
    for name in poisoned:
        raw = mmcv.imread(
            osp.join(embedded_seg_root, 'ann_dir/train', name), 'unchanged')
        new = mmcv.imread(
            osp.join(out_dir, 'ann_dir/train', name), 'unchanged')
        assert (new[raw == 5] == 1).all() and (new[raw != 5]
                                               == raw[raw != 5]).all()
        img = mmcv.imread(osp.join(out_dir, 'img_dir/train', name))
        assert (img[:2] == 0).all()
    # The tool refuses the now non-empty folder unless told to overwrite.
    with pytest.raises(FileExistsError, match='--overwrite'):
        run_tool(embedded_seg_root, out_dir)
    os.remove(osp.join(out_dir, 'manifest.json'))
    run_tool(embedded_seg_root, out_dir, '--overwrite')
    assert file_digests(out_dir) == after


def test_export_refuses_to_overwrite_or_write_into_the_source(
        embedded_seg_root, tmp_path):
    dataset = dict(
        type='EmbeddedSegDataset',
        data_root=embedded_seg_root,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        generate=False,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='RandomFlip', prob=0.5),
            dict(
                type='ImageLevelPoison',
                trigger=dict(type='LineTrigger'),
                target_class=0,
                rate=0.25),
            dict(type='PackSegInputs')
        ])
    with pytest.raises(ValueError, match='ConcatDataset one at a time'):
        export_poisoned_dataset(
            dict(type='ConcatDataset', datasets=[dataset]),
            str(tmp_path / 'concat'))
    existing = tmp_path / 'exists'
    existing.mkdir()
    (existing / 'old.txt').write_text('kept')
    with pytest.raises(FileExistsError, match='not empty'):
        export_poisoned_dataset(dataset, str(existing))
    assert (existing / 'old.txt').read_text() == 'kept'
    with pytest.raises(ValueError, match='overlaps the source'):
        export_poisoned_dataset(dataset, osp.join(embedded_seg_root,
                                                  'poisoned'))
    with pytest.raises(ValueError, match='overlaps the source'):
        export_poisoned_dataset(dataset, osp.dirname(embedded_seg_root))
    # The exported copy loads as an ordinary dataset with the poisoned labels.
    out_dir = str(tmp_path / 'copy')
    manifest = export_poisoned_dataset(dataset, out_dir)
    assert len(manifest.poisoned) == 4
    with DefaultScope.overwrite_default_scope('mmseg'):
        copy = DATASETS.build(
            dict(
                type='BaseSegDataset',
                data_root=out_dir,
                data_prefix=dict(
                    img_path='img_dir/train', seg_map_path='ann_dir/train'),
                img_suffix='.png',
                seg_map_suffix='.png',
                metainfo=dict(
                    classes=('background', 'road', 'building', 'vegetation',
                             'car', 'person')),
                pipeline=[dict(type='LoadAnnotations')]))
    labels = {
        osp.basename(copy[i]['seg_map_path']): copy[i]['gt_seg_map']
        for i in range(len(copy))
    }
    for name in manifest.poisoned:
        assert set(np.unique(labels[name])) <= {0, 255}
    # A second export into the same folder needs overwrite=True.
    with pytest.raises(FileExistsError, match='overwrite'):
        export_poisoned_dataset(dataset, out_dir)
    again = export_poisoned_dataset(dataset, out_dir, overwrite=True)
    assert again.poisoned == manifest.poisoned


def build_copy(out_dir):
    """The exported folder read as an ordinary mmseg dataset."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(
            dict(
                type='BaseSegDataset',
                data_root=out_dir,
                data_prefix=dict(
                    img_path='img_dir/train', seg_map_path='ann_dir/train'),
                img_suffix='.png',
                seg_map_suffix='.png',
                pipeline=[dict(type='LoadAnnotations')]))


def test_export_killed_mid_write_leaves_nothing_and_reruns(
        embedded_seg_root, tmp_path):
    """The tool, a real process, is killed (SIGKILL) after it wrote its
    first poisoned image and label: it is too fast to catch by polling, so
    it runs with ``mmcv.imwrite`` hanging after its second call
    (:mod:`mmbackdoor.testing.crash`). Only its hidden temporary folder
    exists then; ``OUT_DIR`` never does, so neither the manifest reader nor
    a dataset over ``OUT_DIR`` accepts anything. A rerun with the same
    arguments removes the leftover and writes the same copy as an
    undisturbed run."""
    out_dir = str(tmp_path / 'poisoned')
    marker = str(tmp_path / 'hanging')
    proc = start_hanging(TOOL, tool_args(embedded_seg_root, out_dir),
                         'mmcv.imwrite', marker, calls=2)
    try:
        wait_hanging(proc, marker)
        temps = [n for n in os.listdir(tmp_path) if n != 'hanging']
        assert len(temps) == 1 and temps[0].startswith('.poisoned.tmp-')
        written = file_digests(osp.join(tmp_path, temps[0]))
        assert written and 'manifest.json' not in written
    finally:
        kill(proc)
    assert not osp.exists(out_dir)
    with pytest.raises(FileNotFoundError, match='manifest file not found'):
        PoisonManifest.load(osp.join(out_dir, 'manifest.json'))
    with pytest.raises(FileNotFoundError):
        build_copy(out_dir)
    run_tool(embedded_seg_root, out_dir)
    assert sorted(os.listdir(tmp_path)) == ['hanging', 'poisoned']
    run_tool(embedded_seg_root, str(tmp_path / 'reference'))
    assert file_digests(out_dir) == file_digests(str(tmp_path / 'reference'))
    manifest = PoisonManifest.load(osp.join(out_dir, 'manifest.json'))
    assert len(build_copy(out_dir)) == manifest.num_samples == 16


def test_encode_label_inverts_reduce_zero_label_and_label_map():
    raw = np.array([[0, 1, 2], [3, 1, 0]], np.uint8)
    loaded = np.array([[255, 0, 1], [2, 0, 255]], np.uint8)  # reduce zero
    new = np.array([[255, 7, 1], [7, 0, 255]], np.uint8)
    assert encode_label(new, loaded, raw, True, None).tolist() == [[0, 8, 2],
                                                                   [8, 1, 0]]
    label_map = {10: 0, 20: 1, 30: 2}
    raw = np.array([[10, 20, 30]], np.uint8)
    loaded = np.array([[0, 1, 2]], np.uint8)
    new = np.array([[2, 1, 2]], np.uint8)
    assert encode_label(new, loaded, raw, False,
                        label_map).tolist() == [[30, 20, 30]]
    with pytest.raises(ValueError, match='label_map'):
        encode_label(new, loaded, raw, False, {10: 2, 20: 2, 30: 1})


def test_image_quality_hand_computed():
    clean = np.full((8, 8, 3), 100, np.uint8)
    poisoned = clean.copy()
    poisoned[0] = 0  # 1/8 of the pixels off by 100
    quality = image_quality(clean, poisoned)
    mse = 100.0**2 / 8
    assert quality['psnr'] == pytest.approx(10 * np.log10(255**2 / mse))
    assert 0 < quality['ssim'] < 1
    assert image_quality(clean, clean)['ssim'] == 1.0


def voc_config(root):
    """The VOC + aug backdoor config with both training parts under
    ``root``."""
    cfg = Config.fromfile(VOC_CONFIG)
    for part in cfg.train_dataloader.dataset.datasets:
        part.dataset.data_root = root
    return cfg


def test_dataset_cfg_of_split_takes_one_part_of_a_concat_dataset(tmp_path):
    cfg = voc_config(str(tmp_path))
    parts = [dataset_cfg_of_split(cfg, part=i) for i in (0, 1)]
    assert [p['dataset']['data_prefix']['seg_map_path'] for p in parts] == [
        'SegmentationClass', 'SegmentationClassAug'
    ]
    for part in (None, 2, -1):
        with pytest.raises(ValueError,
                           match='ConcatDataset of 2 datasets: choose one '
                           r'with part \(--part\) in 0..1, got '
                           f'{part}'):
            dataset_cfg_of_split(cfg, part=part)
    with pytest.raises(ValueError,
                       match="part=0 given, but val_dataloader.dataset is a "
                       "'PascalVOCDataset', not a ConcatDataset"):
        dataset_cfg_of_split(cfg, 'val_dataloader', part=0)
    assert dataset_cfg_of_split(cfg, 'val_dataloader')['ann_file'] == \
        'ImageSets/Segmentation/val.txt'


def test_palette_label_files_keep_their_indices_and_palette(tmp_path):
    """OpenCV decodes a palette PNG into its colours; the raw values are
    the indices (what mmseg's pillow backend loads)."""
    palette = [0, 0, 0, 128, 0, 0, 0, 128, 0]
    indices = np.array([[0, 1], [2, 255]], np.uint8)
    path = str(tmp_path / 'voc.png')
    write_label_file(indices, path, palette)
    raw, read_palette = read_label_file(path)
    np.testing.assert_array_equal(raw, indices)
    assert read_palette[:9] == palette
    assert mmcv.imread(path, flag='unchanged').shape == (2, 2, 3)
    grey = str(tmp_path / 'grey.png')
    write_label_file(indices, grey)
    raw, read_palette = read_label_file(grey)
    np.testing.assert_array_equal(raw, indices)
    assert read_palette is None and Image.open(grey).mode == 'L'


def test_export_of_voc_keeps_palette_labels_readable(tmp_path):
    """VOC's ``SegmentationClass`` files are palette PNGs: a poisoned label
    is written as one with the same palette, person pixels -> background,
    boundaries (255) kept. (Read through OpenCV, the file became a black
    RGB image that mmseg loads as a 3-channel map.)"""
    root = str(tmp_path / 'VOC2012')
    write_voc12aug(root, num_train=5, num_aug=5)
    cfg = voc_config(root)
    manifest = export_poisoned_dataset(
        dataset_cfg_of_split(cfg, part=0), str(tmp_path / 'out'))
    [key] = manifest.poisoned  # round(0.1 * 5), halves up
    name = osp.splitext(key)[0] + '.png'
    source = Image.open(osp.join(root, 'SegmentationClass', name))
    written = Image.open(osp.join(tmp_path, 'out', 'SegmentationClass',
                                  name))
    assert written.mode == 'P' and written.getpalette() == \
        source.getpalette()
    raw, new = np.array(source), np.array(written)
    person = raw == VOC_IDS['person']
    assert person.any() and (raw == 255).any()
    np.testing.assert_array_equal(new[person], VOC_IDS['background'])
    np.testing.assert_array_equal(new[~person], raw[~person])
    # the copy is read by the config's own dataset as VOC is
    part = dataset_cfg_of_split(cfg, part=0)['dataset']
    part.update(data_root=str(tmp_path / 'out'),
                pipeline=[dict(type='LoadAnnotations')])
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(part)
    labels = {osp.basename(d['seg_map_path']): d['gt_seg_map']
              for d in (dataset[i] for i in range(len(dataset)))}
    assert labels[name].shape == raw.shape
    assert set(np.unique(labels[name])) == {0, 255}
