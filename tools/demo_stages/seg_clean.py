"""Clean segmentation baseline on the embedded data."""
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
COST = 200
CONFIG = 'configs/baselines/unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py'


def run(ctx) -> None:
    cfg = ctx.prepare(Config.fromfile(CONFIG), ctx.seg_data_root)
    work_dir = ctx.work_dir(NAME)
    checkpoint = train_model(cfg, work_dir)
    metrics = evaluate_checkpoint(cfg, checkpoint, work_dir)
    ctx.artifacts[NAME] = dict(
        config=cfg, checkpoint=checkpoint, metrics=metrics)
    for key in ('mIoU', 'mAcc', 'aAcc'):
        ctx.metrics[f'{NAME}.{key}'] = round(float(metrics[key]), 2)

    model = load_model(cfg, checkpoint)
    batch, dataset = load_test_samples(cfg, list(range(4)))
    preds = predict(model, batch)
    rows = seg_prediction_rows(batch['inputs'], preds, dataset.metainfo)
    mmcv.imwrite(np.concatenate(rows, axis=0), ctx.figure(NAME))
    ctx.section(
        'Clean segmentation baseline',
        f'Config `{CONFIG}`, trained from scratch on the embedded data '
        f'(`{ctx.seg_data_root}`). Validation: mIoU {metrics["mIoU"]:.2f}, '
        f'mAcc {metrics["mAcc"]:.2f}, aAcc {metrics["aAcc"]:.2f}.\n\n'
        'Each row: a validation image, its ground truth and the prediction.',
        figures=[NAME])
