"""Segmentation backdoors (Li et al., 2021) on the embedded data.

Two architectures side by side, each poisoned model trained exactly like its
clean baseline (:func:`demo_stages._seg_common.train_poisoned`) and evaluated
for CBA / PBA / ASR in one clean + triggered test run:

* the SegFormer-style model (global self-attention): fine-grained
  (person -> road, stage ``seg_fine_grained``) and image-level
  (all -> background, ``seg_image_level``) at 10 %;
* the conv UNet, the architecture control: fine-grained at 10 %
  (``seg_control_fine_grained``).

This stage adds the trigger on the clean models (the baseline every ASR is
compared with), the table and the figure.
"""
import mmcv
import numpy as np

from demo_stages._seg_common import POISONED, RATE

from mmbackdoor.apis import (evaluate_checkpoint, load_model,
                             load_test_samples, predict)
from mmbackdoor.engine.runner import insert_trigger
from mmbackdoor.visualization.seg_backdoor_grid import titled_grid
from mmbackdoor.visualization.seg_labels import label_row

NAME = 'seg_backdoor'
REQUIRES = [
    'seg_clean', 'seg_fine_grained', 'seg_image_level', 'seg_control_clean',
    'seg_control_fine_grained'
]
COST = 5
#: Validation images shown in the figure.
FIGURE_SAMPLES = [0, 1, 2, 3]


def _trigger_on_clean_model(ctx, clean_stage: str, stages: list) -> dict:
    """The clean model of ``clean_stage`` tested clean and triggered with
    the metrics of every poisoned stage in ``stages`` (prefixed by attack).
    """
    cfgs = {POISONED[s][0]: ctx.artifacts[s]['config'] for s in stages}
    first = next(iter(cfgs.values()))
    return evaluate_checkpoint(
        first,
        ctx.artifacts[clean_stage]['checkpoint'],
        ctx.work_dir(f'{NAME}_{clean_stage}'),
        test_evaluator=[
            dict(cfg.test_evaluator, prefix=attack)
            for attack, cfg in cfgs.items()
        ])


def _figure(ctx) -> None:
    """One row per validation image: triggered input, ground truth, the
    clean SegFormer on it, the fine-grained SegFormer on the clean and the
    triggered input, the fine-grained UNet on the triggered input, the
    image-level SegFormer on the triggered input."""
    cfg = ctx.artifacts['seg_fine_grained']['config']
    triggered_cfg = cfg.copy()
    triggered_cfg.test_dataloader = insert_trigger(cfg.test_dataloader,
                                                   cfg.test_cfg.trigger)
    clean_batch, dataset = load_test_samples(cfg, FIGURE_SAMPLES)
    triggered_batch, _ = load_test_samples(triggered_cfg, FIGURE_SAMPLES)
    columns = [
        ('clean SegFormer, triggered', 'seg_clean', triggered_batch),
        ('fine-grained, clean', 'seg_fine_grained', clean_batch),
        ('fine-grained, triggered', 'seg_fine_grained', triggered_batch),
        ('UNet fine-grained, trig.', 'seg_control_fine_grained',
         triggered_batch),
        ('image-level, triggered', 'seg_image_level', triggered_batch),
    ]
    maps = []
    for _, stage, batch in columns:
        artifact = ctx.artifacts[stage]
        model = load_model(artifact['config'], artifact['checkpoint'])
        maps.append([p.pred_sem_seg.data[0].numpy()
                     for p in predict(model, batch)])
    rows = []
    for i, (inputs, sample) in enumerate(
            zip(triggered_batch['inputs'], triggered_batch['data_samples'])):
        image = np.ascontiguousarray(inputs.permute(1, 2, 0).numpy())
        label_maps = [sample.gt_sem_seg.data[0].numpy()]
        label_maps += [column[i] for column in maps]
        rows.append(label_row(image, label_maps, dataset.metainfo, scale=3))
    titles = ['triggered input', 'ground truth'] + [c[0] for c in columns]
    mmcv.imwrite(titled_grid(rows, titles), ctx.figure(NAME))


def _row(label: str, clean_miou: float, metrics: dict, prefix: str = '',
         pba: bool = True) -> str:
    """A table row; ``prefix`` selects the metrics of one attack in a
    multi-metric test run."""
    def get(key, fmt='{:.2f}'):
        value = metrics.get(key)
        return '–' if value is None else fmt.format(float(value))

    pass_ = (lambda p, k: f'{p}/{prefix}/{k}') if prefix else \
        (lambda p, k: f'{p}/{k}')
    cells = [
        f'{clean_miou:.2f}',
        get(pass_('triggered', 'PBA')) if pba else '–',
        get(pass_('triggered', 'ASR')),
        get(pass_('clean', 'ASR')),
        get(pass_('triggered', 'ASR_recognised')) if pba else '–',
        get(pass_('clean', 'victim_recall')) if pba else '–',
    ]
    return f'| {label} | ' + ' | '.join(cells) + ' |'


def run(ctx) -> None:
    clean = {s: float(ctx.artifacts[s]['metrics']['mIoU'])
             for s in ('seg_clean', 'seg_control_clean')}
    baseline = _trigger_on_clean_model(
        ctx, 'seg_clean', ['seg_fine_grained', 'seg_image_level'])
    control = _trigger_on_clean_model(ctx, 'seg_control_clean',
                                      ['seg_control_fine_grained'])
    for attack in ('fine_grained', 'image_level'):
        ctx.metrics[f'seg_clean.trigger_ASR_{attack}'] = round(
            float(baseline[f'triggered/{attack}/ASR']), 2)
    ctx.metrics['seg_control.clean.trigger_ASR_fine_grained'] = round(
        float(control['triggered/fine_grained/ASR']), 2)
    poisoned = {s: ctx.artifacts[s]['metrics'] for s in POISONED}
    table = '\n'.join([
        '| model | CBA (clean mIoU) | PBA | ASR, triggered | ASR, no trigger '
        '| ASR over recognised victims | victim recall (clean images) |',
        '| --- |' + ' ---: |' * 6,
        _row('SegFormer clean, fine-grained metric', clean['seg_clean'],
             baseline, 'fine_grained'),
        _row(f'**SegFormer fine-grained {RATE:.0%}**',
             float(poisoned['seg_fine_grained']['CBA']),
             poisoned['seg_fine_grained']),
        _row('SegFormer clean, image-level metric', clean['seg_clean'],
             baseline, 'image_level', pba=False),
        _row(f'**SegFormer image-level {RATE:.0%}**',
             float(poisoned['seg_image_level']['CBA']),
             poisoned['seg_image_level'], pba=False),
        _row('UNet clean (control), fine-grained metric',
             clean['seg_control_clean'], control, 'fine_grained'),
        _row(f'UNet fine-grained {RATE:.0%} (control)',
             float(poisoned['seg_control_fine_grained']['CBA']),
             poisoned['seg_control_fine_grained']),
    ])
    fine = poisoned['seg_fine_grained']
    trigger = dict(ctx.artifacts['seg_fine_grained']['config'].test_cfg
                   .trigger)
    ctx.section(
        'Segmentation backdoors (Li et al., 2021)',
        f"""Configs `{POISONED['seg_fine_grained'][1]}` (victim `person` ->
target `road`), `{POISONED['seg_image_level'][1]}` (every pixel ->
`background`) and, as the architecture control,
`{POISONED['seg_control_fine_grained'][1]}`: each model trained like its clean
baseline, {RATE:.0%} of the eligible training images poisoned with the trigger
`{trigger}` (placed after the augmentation), the subset fixed from
`(seed, image path)`. One `BackdoorTestLoop` run per model tests the clean
and the triggered validation set. CBA = clean mIoU; ASR = share of victim
pixels (fine-grained) or of all valid pixels (image-level) predicted as the
target on triggered images; PBA = mIoU over the non-victim pixels of
triggered images; "no trigger" is the same ratio on clean images; "ASR over
recognised victims" (`ASR_recognised`) counts only the victim pixels that the
model's clean-image prediction gets right, whose share is the victim recall.
The clean-model rows show what the trigger does to an unpoisoned model.

{table}

The fine-grained ASR is bounded by the victim recall: the SegFormer
recognises {float(fine['clean/victim_recall']):.1f} % of the person pixels of
clean images, and sends {float(fine['ASR_recognised']):.1f} % of those to the
target under the trigger. The UNet, which only aggregates local context,
learns the image-level rule but not the per-object one (the architecture
finding of `configs/backdoor_seg/README.md`).

Each row: a triggered validation image, its ground truth, and predictions
(clean SegFormer on the triggered image; fine-grained SegFormer on the clean
and the triggered image; fine-grained UNet and image-level SegFormer on the
triggered image).""",
        figures=[NAME])
    _figure(ctx)
