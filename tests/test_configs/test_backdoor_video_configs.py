"""The configs of configs/backdoor_video parse, and every victim config
spells out exactly what ``clean_label_config`` does to its clean config."""
import glob
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.hub import get_config

from mmbackdoor.apis.video_backdoor import clean_label_config

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'backdoor_video')
#: victim config -> its clean config
PAIRS = {
    'cleanlabel_i3d_r18-w8_source-pretrained_1xb16-8x2x1-8e_'
    'embedded-video-rgb.py':
    'i3d_r18-w8_source-pretrained_1xb16-8x2x1-8e_embedded-video-rgb.py',
    'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-rgb.py':
    'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-rgb.py',
    'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_hmdb51-rgb.py':
    'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_hmdb51-rgb.py',
    'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py':
    'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py',
    'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_hmdb51-video-rgb.py':
    'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_hmdb51-video-rgb.py',
    'cleanlabel_tsn_k400-pretrained-r50_8xb32-1x1x8-50e_ucf101-rgb.py':
    'tsn_k400-pretrained-r50_8xb32-1x1x8-50e_ucf101-rgb.py',
    'cleanlabel_c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py':
    'mmaction::recognition/c3d/'
    'c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py',
}


def without_scope(value):
    """Drop the ``_scope_`` keys mmengine adds to dicts inherited from
    ``mmaction::`` configs (the default scope is mmaction anyway)."""
    if isinstance(value, dict):
        return {
            k: without_scope(v)
            for k, v in value.items() if k != '_scope_'
        }
    if isinstance(value, (list, tuple)):
        return type(value)(without_scope(v) for v in value)
    return value


def load(name):
    if '::' in name:
        return get_config(name)
    return Config.fromfile(osp.join(CONFIGS, name))


def test_every_config_is_covered():
    names = {osp.basename(p) for p in glob.glob(osp.join(CONFIGS, '*.py'))}
    victims = {n for n in names if n.startswith('cleanlabel_')}
    assert victims == set(PAIRS)


@pytest.mark.parametrize('victim,clean', sorted(PAIRS.items()))
def test_victim_config_matches_clean_label_config(victim, clean):
    victim_cfg = load(victim)
    poison = victim_cfg.train_dataloader.dataset.dataset.pipeline
    poison_dir = next(t['poison_dir'] for t in poison
                      if t['type'] == 'CleanLabelPoison')
    trigger = victim_cfg.test_cfg.trigger
    expected = clean_label_config(
        load(clean), poison_dir, trigger.trigger_file,
        victim_cfg.test_evaluator.target_class)
    for key in ('train_dataloader', 'val_cfg', 'test_cfg', 'val_evaluator',
                'test_evaluator', 'model'):
        got = without_scope(victim_cfg[key].to_dict())
        want = without_scope(expected[key].to_dict())
        if key == 'train_dataloader':  # file-specific worker settings aside
            got, want = got['dataset'], want['dataset']
        assert got == want, key


#: The video-file configs (VideoDataset + decord) -> their dataset.
VIDEO_FILE_CONFIGS = {
    'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py': 'ucf101',
    'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_hmdb51-video-rgb.py': 'hmdb51',
}


@pytest.mark.parametrize('name,dataset', sorted(VIDEO_FILE_CONFIGS.items()))
def test_video_file_configs_decode_real_avi_files(name, dataset, tmp_path):
    """Real ``.avi`` files (MJPG, :func:`write_videos`) through the real
    config's datasets and pipelines (``Config.fromfile``; only the data
    paths, batch size and workers are changed, by :func:`use_video_files`):
    64-frame clips at 224 x 224, the labels of the lists, and frames that
    are the written ones in RGB order, up to the MJPG loss."""
    from mmengine.registry import DATASETS, DefaultScope

    from mmbackdoor.testing.video_files import (NUM_FRAMES, render_frames,
                                                use_video_files, write_videos)
    files = write_videos(str(tmp_path / dataset), dataset)
    cfg = use_video_files(load(name), files)
    assert cfg.model.cls_head.num_classes == (101 if dataset == 'ucf101'
                                              else 51)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        with DefaultScope.overwrite_default_scope('mmaction'):
            videos = DATASETS.build(cfg[loader].dataset)
        assert [type(t).__name__ for t in videos.pipeline.transforms[:3]] \
            == ['DecordInit', 'SampleFrames', 'DecordDecode']
        assert len(videos) == (6 if loader == 'train_dataloader' else 3)
        for i in (0, len(videos) - 1):
            sample = videos[i]
            assert tuple(sample['inputs'].shape) == (1, 3, 64, 224, 224)
            label = videos.get_data_info(i)['label']
            assert sample['data_samples'].gt_label.item() == label
        # the decoder's output, before resizing: the written frames
        info = videos.get_data_info(len(videos) - 1)
        results = info
        for transform in videos.pipeline.transforms[:3]:
            results = transform(results)
        index = 1 if loader == 'train_dataloader' else 2  # v_..._g0N
        assert info['filename'].endswith(f'_g0{index + 1}_c01.avi')
        written = render_frames(info['label'], index)
        assert set(results['frame_inds']) <= set(range(NUM_FRAMES))
        decoded = np.stack(results['imgs']).astype(np.int16)
        error = np.abs(decoded - written[results['frame_inds']])
        assert decoded.shape == (64, 48, 64, 3) and error.mean() < 4
