"""The embedded segmentation models (SegFormer-style and UNet): each clean,
fine-grained and image-level config trains a few iterations through a real
Runner on real data and tests with its own loop and metrics; the
full-resolution SegFormer on the 2x persons differs from the demo's
SegFormer only in its stride, data and schedule."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmbackdoor  # noqa: F401
from mmbackdoor.testing.seg import tiny_seg_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEGFORMER = 'segformer_mit-t16_1xb8-1k_embedded-seg-64x64.py'
SEGFORMER_S1 = 'segformer_mit-t16-s1_1xb8-2k_embedded-seg-person2-64x64.py'
CONFIGS = [
    'configs/baselines/' + SEGFORMER,
    'configs/backdoor_seg/fine-grained_' + SEGFORMER,
    'configs/backdoor_seg/image-level_' + SEGFORMER,
    'configs/baselines/' + SEGFORMER_S1,
    'configs/backdoor_seg/fine-grained_' + SEGFORMER_S1,
]


def small(cfg: Config, root: str, work_dir: str, iters: int = 3) -> Config:
    """``cfg`` on the session's small embedded dataset, ``iters``
    iterations."""
    return tiny_seg_config(cfg, root, work_dir, iters)


def test_segformer_is_a_global_context_model_of_mmseg_parts():
    cfg = Config.fromfile(osp.join(REPO, CONFIGS[0]))
    assert cfg.model.backbone.type == 'MixVisionTransformer'
    assert cfg.model.decode_head.type == 'SegformerHead'
    # every stage attends over the whole (reduced) image
    assert cfg.model.backbone.sr_ratios == [8, 4, 2, 1]
    assert cfg.model.decode_head.num_classes == 6
    unet = Config.fromfile(osp.join(
        REPO, 'configs/baselines/unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py'))
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'train_dataloader', 'test_dataloader', 'randomness'):
        assert cfg[key] == unet[key], key


@pytest.mark.parametrize('folder,prefix', [('baselines', ''),
                                           ('backdoor_seg', 'fine-grained_')])
def test_full_resolution_setting_changes_stride_data_and_schedule(
        folder, prefix):
    full = Config.fromfile(
        osp.join(REPO, 'configs', folder, prefix + SEGFORMER_S1))
    demo = Config.fromfile(osp.join(REPO, 'configs', folder, prefix + SEGFORMER))
    assert full.model.backbone.strides == [1, 2, 2, 2]
    full.model.backbone.strides = demo.model.backbone.strides
    assert full.model == demo.model
    assert full.train_cfg.max_iters == 2000
    assert full.param_scheduler[0].total_steps == 2000
    assert full.default_hooks.checkpoint.interval == 2000
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = full[key].dataset
        dataset = dataset.get('dataset', dataset)  # PoisonedDataset
        assert dataset.data_root == 'data/embedded_seg_person2', key
        assert dataset.pop('person_scale') == 2, key
        dataset.data_root = 'data/embedded_seg'
        assert full[key] == demo[key], key
    for key in ('optim_wrapper', 'randomness', 'val_cfg', 'test_cfg',
                'val_evaluator', 'test_evaluator'):
        assert full.get(key) == demo.get(key), key


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_trains_and_tests(config, embedded_seg_root, tmp_path):
    cfg = small(Config.fromfile(osp.join(REPO, config)), embedded_seg_root,
                str(tmp_path))
    runner = Runner.from_cfg(cfg)
    before = [p.detach().clone() for p in runner.model.parameters()]
    runner.train()
    assert runner.iter == 3
    assert any(not torch.equal(a, b.detach())
               for a, b in zip(before, runner.model.parameters()))
    metrics = runner.test()
    assert 0 <= metrics['mIoU' if 'baselines' in config else 'CBA'] <= 100
    if 'fine-grained' in config:
        for key in ('PBA', 'ASR', 'ASR_recognised', 'clean/victim_recall',
                    'clean/ASR'):
            assert key in metrics, key
    if 'image-level' in config:
        assert 'ASR' in metrics and 'clean/ASR' in metrics
        assert 'ASR_recognised' not in metrics
