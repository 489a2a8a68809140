"""Clean segmentation baseline on the embedded data: the SegFormer-style
model (global self-attention) of the backdoor stages. :func:`train_clean` is
shared with ``seg_control_clean`` (the conv UNet control)."""
import mmcv
import numpy as np
from mmengine.config import Config

from mmbackdoor.apis import (evaluate_checkpoint, load_model,
                             load_test_samples, predict, train_model)
from mmbackdoor.visualization.prediction_grid import seg_prediction_rows

NAME = 'seg_clean'
REQUIRES = []
#: Seconds it takes on one core (measured); the demo starts the longest
#: remaining chains of stages first.
COST = 171
CONFIG = 'configs/baselines/segformer_mit-t16_1xb8-1k_embedded-seg-64x64.py'


def train_clean(ctx, name: str, config: str, key_prefix: str,
                title: str) -> None:
    """Stage ``name``: train ``config`` on the embedded data, test it, store
    ``<key_prefix>.{mIoU,mAcc,aAcc}``, draw predictions."""
    cfg = ctx.prepare(Config.fromfile(config), ctx.seg_data_root)
    work_dir = ctx.work_dir(name)
    checkpoint = train_model(cfg, work_dir)
    metrics = evaluate_checkpoint(cfg, checkpoint, work_dir)
    ctx.artifacts[name] = dict(
        config=cfg, checkpoint=checkpoint, metrics=metrics)
    for key in ('mIoU', 'mAcc', 'aAcc'):
        ctx.metrics[f'{key_prefix}.{key}'] = round(float(metrics[key]), 2)

    model = load_model(cfg, checkpoint)
    batch, dataset = load_test_samples(cfg, list(range(4)))
    preds = predict(model, batch)
    rows = seg_prediction_rows(batch['inputs'], preds, dataset.metainfo)
    mmcv.imwrite(np.concatenate(rows, axis=0), ctx.figure(name))
    ctx.section(
        title,
        f'Config `{config}`, trained from scratch on the embedded data '
        f'(`{ctx.seg_data_root}`). Validation: mIoU {metrics["mIoU"]:.2f}, '
        f'mAcc {metrics["mAcc"]:.2f}, aAcc {metrics["aAcc"]:.2f}.\n\n'
        'Each row: a validation image, its ground truth and the prediction.',
        figures=[name])


def run(ctx) -> None:
    train_clean(ctx, NAME, CONFIG, NAME,
                'Clean segmentation baseline (SegFormer-style)')
