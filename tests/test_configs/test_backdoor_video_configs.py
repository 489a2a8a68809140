"""The configs of configs/backdoor_video parse, and every victim config
spells out exactly what ``clean_label_config`` does to its clean config."""
import glob
import os.path as osp

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
