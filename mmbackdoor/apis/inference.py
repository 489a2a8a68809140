"""Run a trained model on a few samples of a config's test split."""
from typing import List, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, DefaultScope, MODELS
from mmengine.runner import load_checkpoint


def load_model(cfg: Config, checkpoint: str) -> BaseModel:
    """Build ``cfg.model`` in the config's scope and load ``checkpoint``
    (safe loading), in eval mode on the CPU."""
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu')
    return model.eval()


def load_test_samples(cfg: Config, indices: List[int]) -> Tuple[dict, list]:
    """The collated batch of ``indices`` of the test set (test pipeline),
    exactly as a dataloader yields it, and the dataset."""
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
    batch = pseudo_collate([dataset[i] for i in indices])
    return batch, dataset


@torch.no_grad()
def predict(model: BaseModel, batch: dict) -> list:
    """``model.test_step`` on a collated batch: the predicted data samples."""
    return model.test_step(batch)
