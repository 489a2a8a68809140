"""mmbackdoor.apis.robustness: the attacks of one budget and EroSeg's
background classes, as robustness_eval.py and the demo use them."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmbackdoor.apis.robustness import background_classes, robustness_attacks

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(REPO, 'configs', 'baselines',
                    'unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')


@pytest.mark.parametrize('config, expected', [
    ('mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-40k_voc12aug-512x512.py', [0]),
    ('mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py', []),
    (BASELINE, [0]),
])
def test_background_classes_from_the_dataset(config, expected):
    from mmengine.hub import get_config
    cfg = get_config(config) if '::' in config else Config.fromfile(config)
    assert background_classes(cfg) == expected


def test_robustness_attacks_share_the_budget_and_find_the_background():
    cfg = Config.fromfile(BASELINE)
    budget = dict(eps=4.0, alpha=1.0, steps=3)
    attacks = robustness_attacks(cfg, ['PGD', 'EroSeg'], budget)
    assert attacks == dict(
        PGD=dict(type='PGD', **budget),
        EroSeg=dict(type='EroSeg', background_classes=[0], **budget))
    given = robustness_attacks(cfg, ['EroSeg'], budget, background=[2, 3])
    assert given['EroSeg']['background_classes'] == [2, 3]
    with pytest.raises(ValueError, match=r"unknown \['FGSM'\]; registered"):
        robustness_attacks(cfg, ['PGD', 'FGSM'], budget)


def test_background_classes_needs_a_registered_dataset():
    cfg = Config.fromfile(BASELINE)
    cfg.test_dataloader.dataset.type = 'NoSuchDataset'
    with pytest.raises(ValueError, match="'NoSuchDataset' is not registered"):
        background_classes(cfg)
