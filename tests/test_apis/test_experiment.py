"""Config helpers of :mod:`mmbackdoor.apis.experiment` on a real backdoor
config: every dataloader's dataset, below the ``PoisonedDataset`` wrapper."""
import os.path as osp

from mmengine.config import Config

from mmbackdoor.apis import set_data_root, set_dataset_options

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FINE_GRAINED = osp.join(
    REPO, 'configs', 'backdoor_seg',
    'fine-grained_segformer_mit-t16_1xb8-1k_embedded-seg-64x64.py')


def datasets(cfg):
    return [
        cfg.train_dataloader.dataset.dataset, cfg.val_dataloader.dataset,
        cfg.test_dataloader.dataset
    ]


def test_data_root_and_options_reach_every_dataset():
    cfg = Config.fromfile(FINE_GRAINED)
    assert cfg.train_dataloader.dataset.type == 'PoisonedDataset'
    assert set_data_root(cfg, 'elsewhere') is cfg
    assert set_dataset_options(cfg, person_scale=2, num_train=8) is cfg
    for dataset in datasets(cfg):
        assert dataset.type == 'EmbeddedSegDataset'
        assert (dataset.data_root, dataset.person_scale,
                dataset.num_train) == ('elsewhere', 2, 8)
    assert 'person_scale' not in cfg.train_dataloader.dataset
