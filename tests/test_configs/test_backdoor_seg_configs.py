"""configs/backdoor_seg: every config parses, and each model-zoo backdoor
config equals its mmseg model-zoo config except for the attack."""
import glob
import os.path as osp

import mmseg.datasets
import pytest
from mmengine.config import Config
from mmengine.hub import get_config

import mmbackdoor  # noqa: F401
from mmbackdoor.poisoning import resolve_class

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ROOT = osp.join(REPO, 'configs', 'backdoor_seg')
ZOO_CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, '*', '*.py')) if '_base_' not in p)
EMBEDDED = sorted(glob.glob(osp.join(ROOT, '*.py')))
PAIRS = {
    # dataset type -> (fine-grained victims, target), image-level target
    'CityscapesDataset': ((['car'], 'road'), 'road'),
    'ADE20KDataset': ((['person'], 'palm'), 'wall'),
    'PascalVOCDataset': ((['person'], 'background'), 'background'),
}


def strip_scope(value):
    """A plain copy of a config value without mmengine's ``_scope_`` keys
    (added to dicts inherited from ``mmseg::`` bases)."""
    if isinstance(value, dict):
        return {k: strip_scope(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(strip_scope(v) for v in value)
    return value


def poisoned_datasets(cfg):
    dataset = cfg.train_dataloader.dataset
    if dataset.type == 'ConcatDataset':
        return [d for d in dataset.datasets]
    return [dataset]


def test_config_set_is_complete():
    assert len(ZOO_CONFIGS) == 3 * 2 * 3 * 2  # models, depths, data, attacks
    # SegFormer and UNet, two attacks each; the full-resolution SegFormer,
    # fine-grained
    assert len(EMBEDDED) == 5


@pytest.mark.parametrize(
    'path',
    [
        # DeepLabV3 R50 on every dataset runs by default, the rest are slow
        # (each mmseg config takes ~1 s to resolve).
        pytest.param(
            p, marks=() if 'deeplabv3_r50' in p else pytest.mark.slow)
        for p in ZOO_CONFIGS
    ],
    ids=osp.basename)
def test_zoo_backdoor_config_matches_mmseg(path):
    model, name = path.split(osp.sep)[-2:]
    attack, zoo_name = name.split('_', 1)
    cfg = Config.fromfile(path)
    zoo = get_config(f'mmseg::{model}/{zoo_name}')
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                'test_dataloader', 'val_dataloader', 'default_hooks'):
        assert strip_scope(cfg[key]) == strip_scope(zoo[key]), key
    assert cfg.custom_imports.imports == ['mmbackdoor']

    zoo_dataset = zoo.train_dataloader.dataset
    if zoo_dataset.type == 'ConcatDataset':
        zoo_dataset = zoo_dataset.datasets[0]
    zoo_pipeline = [
        t for t in strip_scope(zoo_dataset.pipeline)
        if t['type'] not in ('PhotoMetricDistortion', 'PackSegInputs')
    ]
    for wrapper in poisoned_datasets(cfg):
        assert wrapper.type == 'PoisonedDataset'
        pipeline = wrapper.dataset.pipeline
        poison = next(t for t in pipeline if t.type.endswith('Poison'))
        assert [
            t for t in strip_scope(pipeline)
            if not t['type'].endswith(('Poison', 'PackSegInputs'))
        ] == zoo_pipeline
        assert pipeline[-1].type == 'PackSegInputs'
        assert 'poisoned' in pipeline[-1].meta_keys
        # The poison comes right after the last geometric transform.
        assert [t.type for t in pipeline].index(
            poison.type) == [t.type for t in pipeline].index('RandomFlip') + 1
        assert poison.rate == 0.1 and poison.seed == 0
        assert poison.trigger == dict(
            type='LineTrigger', height=8, alpha=1.0, value=0)
        classes = getattr(mmseg.datasets,
                          wrapper.dataset.type).METAINFO['classes']
        (victims, target), image_target = PAIRS[wrapper.dataset.type]
        if attack == 'fine-grained':
            assert poison.type == 'FineGrainedPoison'
            assert (poison.victim_classes, poison.target_class) == (victims,
                                                                    target)
            for victim in victims:
                resolve_class(victim, classes, 'victim_classes')
        else:
            assert poison.type == 'ImageLevelPoison'
            assert poison.target_class == image_target
            assert resolve_class(image_target, classes, 'target_class') == 0
        resolve_class(poison.target_class, classes, 'target_class')

    for loop, stage in ((cfg.val_cfg, 'Val'), (cfg.test_cfg, 'Test')):
        assert loop.type == f'Backdoor{stage}Loop'
        assert loop.trigger == poison.trigger
    metric = cfg.test_evaluator
    assert metric.type == 'SegBackdoorMetric'
    assert metric.attack == attack.replace('-', '_')
    assert metric.target_class == poison.target_class


@pytest.mark.parametrize('path', EMBEDDED, ids=osp.basename)
def test_embedded_backdoor_config_matches_the_baseline(path):
    cfg = Config.fromfile(path)
    baseline = Config.fromfile(
        osp.join(REPO, 'configs', 'baselines',
                 osp.basename(path).split('_', 1)[1]))
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                'val_dataloader', 'test_dataloader', 'randomness'):
        assert cfg[key] == baseline[key], key
    wrapper = cfg.train_dataloader.dataset
    assert wrapper.type == 'PoisonedDataset'
    base_dataset = baseline.train_dataloader.dataset
    for key, value in base_dataset.items():
        if key != 'pipeline':
            assert wrapper.dataset[key] == value, key
    pipeline = wrapper.dataset.pipeline
    poison = pipeline[-2]
    assert poison.type.endswith('Poison') and poison.rate == 0.1
    assert pipeline[:-2] == base_dataset.pipeline[:-1]
    assert 'poisoned' in pipeline[-1].meta_keys
    assert cfg.test_cfg.type == 'BackdoorTestLoop'
    assert cfg.test_cfg.trigger == poison.trigger
