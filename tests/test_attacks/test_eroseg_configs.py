"""Every config in ``configs/eroseg`` parses, inherits what it says and
builds its adversarial-training hook and robustness test loop attacks."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.registry import HOOKS

import mmbackdoor  # noqa: F401
import mmbackdoor.engine.hooks  # noqa: F401
from mmbackdoor.engine.runner.robustness_loops import named_attacks

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'eroseg', '*.py')))
NAME = re.compile(r'(?P<attack>eroseg|pgd|segpgd|cospgd)-at-(?P<steps>\d)step_'
                  r'(?P<model>deeplabv3|pspnet|unet-s4-d8_fcn)_')
TYPES = dict(eroseg='EroSeg', pgd='PGD', segpgd='SegPGD', cospgd='CosPGD')
AT_CONFIGS = [c for c in CONFIGS if NAME.match(osp.basename(c))]


def test_every_model_dataset_attack_and_schedule_is_shipped():
    names = {osp.basename(c) for c in AT_CONFIGS}
    for attack in TYPES:
        for steps in (3, 7):
            for model in ('deeplabv3', 'pspnet'):
                assert f'{attack}-at-{steps}step_{model}_r50-d8_4xb4-40k_' \
                    'voc12aug-512x512.py' in names
                assert f'{attack}-at-{steps}step_{model}_r50-d8_4xb2-40k_' \
                    'cityscapes-512x1024.py' in names
    assert len(AT_CONFIGS) == 4 * 2 * 2 * 2 + 2  # + the embedded pair


@pytest.mark.parametrize('path', AT_CONFIGS, ids=osp.basename)
def test_adversarial_training_config(path):
    cfg = Config.fromfile(path)
    match = NAME.match(osp.basename(path))
    assert 'mmbackdoor' in cfg.custom_imports.imports
    (hook_cfg, ) = cfg.custom_hooks
    hook = HOOKS.build(hook_cfg)
    attack = hook.attack
    assert type(attack).__name__ == TYPES[match['attack']]
    assert attack.eps == 8 and attack.steps == int(match['steps'])
    assert attack.alpha == pytest.approx(2.5 * 8 / attack.steps)
    assert hook.mode == 'clean_adv' and hook.adv_weight == 1.0
    num_classes = cfg.model.decode_head.num_classes
    if attack.__class__.__name__ == 'EroSeg':
        expected = [] if 'cityscapes' in path else [0]
        assert list(attack.background_classes) == expected
        assert all(c < num_classes for c in attack.background_classes)
    assert cfg.test_cfg.type == 'RobustnessTestLoop'
    attacks = named_attacks(cfg.test_cfg.attacks)
    assert all(a.eps == 8 for a in attacks.values())
    if 'embedded' in path:
        assert sorted(attacks) == ['CosPGD', 'EroSeg', 'PGD', 'SegPGD']
        assert all(a.steps == 10 and a.alpha == 2 for a in attacks.values())
    else:
        assert {name: a.steps for name, a in attacks.items()} == dict(
            PGD10=10, PGD20=20)


def test_pgd_and_eroseg_embedded_configs_differ_only_in_the_attack():
    eroseg, pgd = (
        Config.fromfile(
            osp.join(REPO, 'configs', 'eroseg',
                     f'{name}-at-3step_unet-s4-d8_fcn_1xb8-1k_'
                     'embedded-seg-64x64.py')).to_dict()
        for name in ('eroseg', 'pgd'))
    eroseg_attack = eroseg['custom_hooks'][0].pop('attack')
    pgd_attack = pgd['custom_hooks'][0].pop('attack')
    assert eroseg == pgd
    assert eroseg_attack.pop('type') == 'EroSeg'
    assert eroseg_attack.pop('background_classes') == [0]
    assert pgd_attack.pop('type') == 'PGD'
    assert eroseg_attack == pgd_attack
