"""A real dataset that is not where its config says fails when the dataset
is built, with the path, its config key and the expected layout; a minimal
copy in the real layout passes and loads."""
import copy
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope

from mmbackdoor.datasets import check_dataset_files, dataset_file_problems
from mmbackdoor.testing.real_layouts import (CITY, FRAME, VIDEO,
                                             write_cityscapes, write_ucf101)
from mmbackdoor.utils import is_installed

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CITYSCAPES = osp.join(
    REPO, 'configs', 'backdoor_seg', 'fcn',
    'fine-grained_fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py')
CITYSCAPES_CLEAN = osp.join(
    REPO, 'configs', 'eroseg',
    'pgd-at-3step_pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py')
UCF101 = osp.join(REPO, 'configs', 'backdoor_video',
                  'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_'
                  'ucf101-rgb.py')
UCF101_CLEAN = osp.join(
    REPO, 'configs', 'backdoor_video',
    'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-rgb.py')
UCF101_VIDEO = osp.join(REPO, 'configs', 'backdoor_video',
                        'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_'
                        'ucf101-video-rgb.py')

needs_mmseg = pytest.mark.skipif(
    not is_installed('mmseg'), reason='mmseg is not installed')
needs_mmaction = pytest.mark.skipif(
    not is_installed('mmaction'), reason='mmaction is not installed')


def build(cfg, scope):
    with DefaultScope.overwrite_default_scope(scope):
        return DATASETS.build(copy.deepcopy(cfg))


# ---- segmentation: Cityscapes -------------------------------------------


def cityscapes_train(data_root):
    """The Cityscapes backdoor config's training set (a PoisonedDataset)
    pointed at ``data_root``."""
    cfg = Config.fromfile(CITYSCAPES).train_dataloader.dataset
    cfg.dataset.data_root = data_root
    return cfg.to_dict()


def assert_cityscapes_message(err, path, problem):
    message = str(err.value)
    assert 'CityscapesDataset (PoisonedDataset.dataset)' in message
    assert f'PoisonedDataset.dataset.data_root: {path!r} {problem}' in message
    # the expected layout and where to read more
    assert 'leftImg8bit/' in message and 'gtFine/' in message
    assert '_gtFine_labelTrainIds.png' in message
    assert 'tools/dataset_converters/cityscapes.py' in message
    assert 'docs/data_preparation.md' in message


@needs_mmseg
def test_cityscapes_missing_data_root_fails_at_build(tmp_path):
    root = str(tmp_path / 'cityscapes')
    with pytest.raises(FileNotFoundError) as err:
        build(cityscapes_train(root), 'mmseg')
    assert_cityscapes_message(err, root, 'does not exist')


@needs_mmseg
def test_cityscapes_empty_data_root_fails_at_build(tmp_path):
    root = str(tmp_path / 'cityscapes')
    os.makedirs(root)
    with pytest.raises(FileNotFoundError) as err:
        build(cityscapes_train(root), 'mmseg')
    assert_cityscapes_message(err, root, 'is empty')


@needs_mmseg
def test_cityscapes_empty_image_folder_names_the_prefix(tmp_path):
    root = tmp_path / 'cityscapes'
    write_cityscapes(str(root))
    for name in os.listdir(root / 'leftImg8bit' / 'train' / CITY):
        os.remove(root / 'leftImg8bit' / 'train' / CITY / name)
    os.rmdir(root / 'leftImg8bit' / 'train' / CITY)
    with pytest.raises(FileNotFoundError,
                       match=r'PoisonedDataset\.dataset\.data_prefix\.'
                       r'img_path: .*leftImg8bit/train\' is empty'):
        build(cityscapes_train(str(root)), 'mmseg')


@needs_mmseg
def test_cityscapes_without_converted_labels_points_at_the_converter(
        tmp_path):
    root = str(tmp_path / 'cityscapes')
    write_cityscapes(root, label_suffix='_gtFine_labelIds.png')
    with pytest.raises(FileNotFoundError) as err:
        build(cityscapes_train(root), 'mmseg')
    message = str(err.value)
    assert 'data_prefix.seg_map_path: the label map' in message
    assert f'{FRAME}_gtFine_labelTrainIds.png' in message
    assert "made by mmseg's tools/dataset_converters/cityscapes.py" in message


@needs_mmseg
def test_cityscapes_minimal_layout_passes_and_loads(tmp_path):
    root = str(tmp_path / 'cityscapes')
    write_cityscapes(root)
    cfg = cityscapes_train(root)
    assert dataset_file_problems(cfg['dataset']) == []
    check_dataset_files(cfg)
    # the real loader reads what the check accepted
    inner = copy.deepcopy(cfg['dataset'])
    inner['pipeline'] = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations')
    ]
    dataset = build(inner, 'mmseg')
    assert len(dataset) == 1
    sample = dataset[0]
    assert sample['img'].shape == (16, 32, 3)
    assert set(np.unique(sample['gt_seg_map'])) == {0, 11, 13, 255}


@needs_mmseg
def test_clean_config_datasets_are_checked_before_the_runner(tmp_path):
    """A clean config (mmseg's own CityscapesDataset, no wrapper): the
    tools' check names the dataloader key."""
    from mmbackdoor.apis.cli import check_data
    cfg = Config.fromfile(CITYSCAPES_CLEAN)
    root = str(tmp_path / 'cityscapes')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    with pytest.raises(FileNotFoundError) as err:
        check_data(cfg, 'test')
    message = str(err.value)
    assert f'test_dataloader.dataset.data_root: {root!r} does not ' \
        'exist' in message
    assert 'train_dataloader' not in message
    with pytest.raises(FileNotFoundError, match='val_dataloader.dataset'):
        check_data(cfg, 'train')
    write_cityscapes(root)
    check_data(cfg, 'train')
    check_data(cfg, 'test')


@needs_mmseg
def test_test_tool_fails_with_the_layout_before_building_the_runner(
        tmp_path):
    root = str(tmp_path / 'missing')
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'), CITYSCAPES_CLEAN,
        str(tmp_path / 'no.pth'), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'test_dataloader.dataset.data_root={root}'
    ],
                          capture_output=True,
                          text=True,
                          cwd=str(tmp_path),
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                              [REPO, os.environ.get('PYTHONPATH', '')])))
    assert proc.returncode != 0
    assert 'FileNotFoundError: CityscapesDataset (test_dataloader.dataset)' \
        in proc.stderr
    assert f'{root!r} does not exist' in proc.stderr
    assert 'leftImg8bit/' in proc.stderr
    assert not (tmp_path / 'work').exists()  # no runner was built


# ---- video: UCF101 rawframes ---------------------------------------------


def ucf101_train(root, config=UCF101):
    """The UCF101 config's training set with its list and frame folder
    under ``root`` (the configs' ``data/ucf101``)."""
    cfg = Config.fromfile(config).train_dataloader.dataset
    inner = cfg.dataset if cfg.type == 'PoisonedDataset' else cfg
    inner.ann_file = osp.join(root, 'ucf101_train_split_1_rawframes.txt')
    inner.data_prefix = dict(img=osp.join(root, 'rawframes'))
    return cfg.to_dict()


def assert_ucf101_message(err, root, problem):
    message = str(err.value)
    assert 'RawframeDataset (PoisonedDataset.dataset)' in message
    frames = osp.join(root, 'rawframes')
    ann_file = osp.join(root, 'ucf101_train_split_1_rawframes.txt')
    assert f'PoisonedDataset.dataset.data_prefix.img: {frames!r} ' \
        f'{problem}' in message
    assert f'PoisonedDataset.dataset.ann_file: {ann_file!r} ' \
        f'{problem}' in message
    assert 'ucf101_train_split_1_rawframes.txt' in message
    assert 'img_00001.jpg' in message and 'rawframes/' in message
    assert 'build_rawframes.py' in message
    assert 'docs/data_preparation.md' in message


@needs_mmaction
def test_ucf101_missing_data_root_fails_at_build(tmp_path):
    root = str(tmp_path / 'ucf101')
    with pytest.raises(FileNotFoundError) as err:
        build(ucf101_train(root), 'mmaction')
    assert_ucf101_message(err, root, 'does not exist')


@needs_mmaction
def test_ucf101_empty_data_root_fails_at_build(tmp_path):
    root = str(tmp_path / 'ucf101')
    os.makedirs(osp.join(root, 'rawframes'))
    open(osp.join(root, 'ucf101_train_split_1_rawframes.txt'), 'w').close()
    with pytest.raises(FileNotFoundError) as err:
        build(ucf101_train(root), 'mmaction')
    assert_ucf101_message(err, root, 'is empty')


@needs_mmaction
def test_ucf101_list_naming_missing_frames_fails_at_build(tmp_path):
    root = str(tmp_path / 'ucf101')
    write_ucf101(root)
    os.rename(
        osp.join(root, 'rawframes', VIDEO, 'img_00001.jpg'),
        osp.join(root, 'rawframes', VIDEO, 'frame_00001.jpg'))
    with pytest.raises(FileNotFoundError,
                       match=r"the first frame .*img_00001\.jpg' of "
                       f"'{VIDEO}' does not exist"):
        build(ucf101_train(root), 'mmaction')
    with open(osp.join(root, 'ucf101_train_split_1_rawframes.txt'),
              'w') as f:
        f.write('YoYo/v_YoYo_g01_c01 3 100\n')
    with pytest.raises(FileNotFoundError,
                       match="lists 'YoYo/v_YoYo_g01_c01', but its frame "
                       'folder .* does not exist'):
        build(ucf101_train(root), 'mmaction')


@needs_mmaction
def test_ucf101_minimal_layout_passes_and_loads(tmp_path):
    root = str(tmp_path / 'ucf101')
    write_ucf101(root)
    cfg = ucf101_train(root)
    assert dataset_file_problems(cfg['dataset']) == []
    check_dataset_files(cfg)
    # the clean config's RawframeDataset and pipeline read it
    dataset = build(ucf101_train(root, UCF101_CLEAN), 'mmaction')
    assert len(dataset) == 1
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 3, 64, 224, 224)
    assert sample['data_samples'].gt_label.item() == 0


# ---- video: UCF101 video files ------------------------------------------


@needs_mmaction
def test_ucf101_video_files_are_checked_at_build(tmp_path):
    """The UCF101 video-file victim config (VideoDataset): missing folders
    fail at build time with the layout of the ``.avi`` files; real files
    (:func:`write_videos`) pass; a listed file that is gone is named."""
    from mmbackdoor.testing.video_files import write_videos
    root = str(tmp_path / 'ucf101')
    cfg = Config.fromfile(UCF101_VIDEO).train_dataloader.dataset
    cfg.dataset.ann_file = osp.join(root, 'ucf101_train_split_1_videos.txt')
    cfg.dataset.data_prefix = dict(video=osp.join(root, 'videos'))
    with pytest.raises(FileNotFoundError) as err:
        build(cfg.to_dict(), 'mmaction')
    message = str(err.value)
    assert 'VideoDataset (PoisonedDataset.dataset)' in message
    assert 'PoisonedDataset.dataset.data_prefix.video: ' \
        f"{osp.join(root, 'videos')!r} does not exist" in message
    assert "'<class>/<video>.avi <label>'" in message
    assert 'build_file_list.py ... --format videos' in message
    write_videos(root)
    assert dataset_file_problems(cfg.dataset.to_dict()) == []
    check_dataset_files(cfg.to_dict())
    first = 'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi'
    os.remove(osp.join(root, 'videos', first))
    assert dataset_file_problems(cfg.dataset.to_dict()) == [
        f'dataset.ann_file lists {first!r}, but '
        f"{osp.join(root, 'videos', first)!r} does not exist"
    ]


def test_unknown_and_remote_datasets_are_not_checked(tmp_path):
    missing = str(tmp_path / 'missing')
    assert dataset_file_problems(
        dict(type='EmbeddedSegDataset', data_root=missing)) == []
    assert dataset_file_problems(
        dict(type='CityscapesDataset', data_root='s3://bucket/cityscapes')) \
        == []
    assert dataset_file_problems(
        dict(type='mmseg.CityscapesDataset', data_root=missing,
             backend_args=dict(backend='petrel'))) == []
    assert dataset_file_problems(
        dict(type='mmseg.CityscapesDataset', data_root=missing)) != []
