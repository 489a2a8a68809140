"""What the segmentation stages of the demo share: training a clean
baseline (:func:`train_clean`: ``seg_clean``, ``seg_control_clean``) and a
poisoned model trained like its baseline (:func:`train_poisoned`:
``seg_fine_grained``, ``seg_image_level``, ``seg_control_fine_grained``),
with the poisoned stages' settings (:data:`POISONED`)."""
import mmcv
import numpy as np
from mmengine.config import Config

from mmbackdoor.apis import (backdoor_experiment_config, evaluate_checkpoint,
                             load_model, load_test_samples, predict,
                             train_and_test, train_model)
from mmbackdoor.visualization.prediction_grid import seg_prediction_rows

_CONFIGS = 'configs/backdoor_seg/'
#: Poisoned stage -> (attack, config, clean stage of its architecture,
#: ``metrics.json`` prefix).
POISONED = {
    'seg_fine_grained':
    ('fine_grained', _CONFIGS +
     'fine-grained_segformer_mit-t16_1xb8-1k_embedded-seg-64x64.py',
     'seg_clean', 'seg_fine_grained'),
    'seg_image_level':
    ('image_level', _CONFIGS +
     'image-level_segformer_mit-t16_1xb8-1k_embedded-seg-64x64.py',
     'seg_clean', 'seg_image_level'),
    'seg_control_fine_grained':
    ('fine_grained', _CONFIGS +
     'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py',
     'seg_control_clean', 'seg_control.fine_grained'),
}
RATE = 0.1
#: ``metrics.json`` keys per attack: key -> test-run metric it copies.
METRIC_KEYS = dict(
    fine_grained=dict(
        CBA='CBA', PBA='PBA', ASR='ASR', ASR_no_trigger='clean/ASR',
        ASR_recognised='ASR_recognised',
        victim_recall='clean/victim_recall'),
    image_level=dict(CBA='CBA', ASR='ASR', ASR_no_trigger='clean/ASR'))
#: Test batch size (64x64 images, whole-image inference: same metrics as 1).
TEST_BATCH_SIZE = 20


def train_clean(ctx, name: str, config: str, key_prefix: str,
                title: str) -> None:
    """Stage ``name``: train ``config`` on the embedded data, test it, store
    ``<key_prefix>.{mIoU,mAcc,aAcc}``, draw predictions."""
    cfg = ctx.prepare(Config.fromfile(config))
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
        f'(`{ctx.seg_data_root}`, persons at scale '
        f'{ctx.seg_person_scale:g}). Validation: mIoU {metrics["mIoU"]:.2f}, '
        f'mAcc {metrics["mAcc"]:.2f}, aAcc {metrics["aAcc"]:.2f}.\n\n'
        'Each row: a validation image, its ground truth and the prediction.',
        figures=[name])


def train_poisoned(ctx, name: str) -> None:
    """Stage ``name`` (a key of :data:`POISONED`): train its config poisoned
    at ``RATE`` with its clean baseline's model and schedule, test it."""
    attack, config, clean_stage, prefix = POISONED[name]
    cfg = backdoor_experiment_config(
        ctx.seg_data(Config.fromfile(config)),
        rate=RATE,
        schedule_from=ctx.artifacts[clean_stage]['config'],
        test_batch_size=TEST_BATCH_SIZE)
    metrics, checkpoint = train_and_test(cfg, ctx.work_dir(name))
    ctx.artifacts[name] = dict(
        config=cfg, checkpoint=checkpoint, metrics=metrics)
    for key, source in METRIC_KEYS[attack].items():
        ctx.metrics[f'{prefix}.{key}'] = round(float(metrics[source]), 2)
