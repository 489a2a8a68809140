"""Clean video-recognition baseline on the embedded data."""
from mmengine.config import Config

from mmbackdoor.apis import (evaluate_checkpoint, load_model,
                             load_test_samples, predict, train_model)
from mmbackdoor.visualization.prediction_grid import clip_prediction_figure

NAME = 'video_clean'
REQUIRES = []
CONFIG = 'configs/baselines/i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-rgb.py'


def run(ctx) -> None:
    cfg = ctx.prepare(Config.fromfile(CONFIG), ctx.video_data_root)
    work_dir = ctx.work_dir(NAME)
    checkpoint = train_model(cfg, work_dir)
    metrics = evaluate_checkpoint(cfg, checkpoint, work_dir)
    ctx.artifacts[NAME] = dict(
        config=cfg, checkpoint=checkpoint, metrics=metrics)
    top1 = 100 * float(metrics['acc/top1'])
    ctx.metrics[f'{NAME}.top1'] = round(top1, 2)

    model = load_model(cfg, checkpoint)
    batch, dataset = load_test_samples(cfg, list(range(6)))  # six classes
    preds = predict(model, batch)
    classes = dataset.metainfo['classes']
    clips, titles = [], []
    for inputs, sample in zip(batch['inputs'], preds):
        # NCTHW (views x C x T x H x W) -> first view as T x H x W x C
        clips.append(inputs[0].permute(1, 2, 3, 0).numpy())
        titles.append(f'label {classes[int(sample.gt_label)]}, '
                      f'predicted {classes[int(sample.pred_label)]}')
    clip_prediction_figure(clips, titles, ctx.figure(NAME))
    ctx.section(
        'Clean video-recognition baseline',
        f'Config `{CONFIG}`, trained from scratch on the embedded motion '
        f'clips (`{ctx.video_data_root}`). Validation top-1: {top1:.2f} %.',
        figures=[NAME])
