"""Clean video-recognition model on the embedded data, fine-tuned from a
backbone pretrained on disjoint source classes.

This is also the attacker's clean model of the clean-label backdoor
(``video_trigger`` and the victims fine-tune the same backbone with the same
recipe), as Zhao et al. (2020) attack a Kinetics-pretrained I3D fine-tuned on
UCF101: pretraining on the embedded generator's SOURCE motion classes ->
export of the backbone -> fine-tuning with a new classifier on the target
classes.
"""
import os.path as osp

from mmengine.config import Config

from mmbackdoor.apis import (evaluate_checkpoint, load_model,
                             load_test_samples, predict, train_model)
from mmbackdoor.apis.checkpoint import export_backbone
from mmbackdoor.apis.video_backdoor import NO_VAL
from mmbackdoor.visualization.prediction_grid import clip_prediction_figure

NAME = 'video_clean'
REQUIRES = []
COST = 168
CONFIGS = 'configs/backdoor_video/'
SOURCE_CONFIG = CONFIGS + \
    'i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-source-rgb.py'
CONFIG = CONFIGS + \
    'i3d_r18-w8_source-pretrained_1xb16-8x2x1-8e_embedded-video-rgb.py'


def run(ctx) -> None:
    work_dir = ctx.work_dir(NAME)
    source_root = ctx.video_data_root + '_source'
    source_cfg = ctx.prepare(Config.fromfile(SOURCE_CONFIG), source_root)
    source_ckpt = train_model(source_cfg, osp.join(work_dir, 'source'),
                              **NO_VAL)
    source_top1 = 100 * float(
        evaluate_checkpoint(source_cfg, source_ckpt,
                            osp.join(work_dir, 'source'))['acc/top1'])
    backbone = export_backbone(source_ckpt,
                               osp.join(work_dir, 'source_backbone.pth'))

    cfg = ctx.prepare(Config.fromfile(CONFIG), ctx.video_data_root)
    cfg.model.backbone.pretrained = backbone
    checkpoint = train_model(cfg, osp.join(work_dir, 'clean'), **NO_VAL)
    metrics = evaluate_checkpoint(cfg, checkpoint,
                                  osp.join(work_dir, 'clean'))
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
        'Clean video-recognition model',
        f'An I3D-style ResNet3d-18 (width 8). Its backbone is first '
        f'pretrained on {len(source_cfg.source_classes)} synthetic SOURCE '
        f'motion classes (`{source_root}`, disjoint from the task\'s '
        f'classes; config `{SOURCE_CONFIG}`, source top-1 '
        f'{source_top1:.2f} %), then fine-tuned with a new classifier on '
        f'the embedded motion clips (`{ctx.video_data_root}`; config '
        f'`{CONFIG}`), as a Kinetics-pretrained I3D is fine-tuned on UCF101. '
        f'Validation top-1: {top1:.2f} %. This is also the attacker\'s clean '
        'model of the clean-label backdoor below.',
        figures=[NAME])
