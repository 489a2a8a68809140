"""Segmentation backdoors (Li et al., 2021) on the embedded data: a
fine-grained (person -> road) and an image-level (all -> background) model
poisoned at 10 %, trained exactly like the clean baseline (stages
``seg_fine_grained`` and ``seg_image_level``, see :func:`train_poisoned`),
each evaluated for CBA / PBA / ASR in one test run; this stage adds the
trigger's effect on the clean model, the table and the figure."""
import mmcv
import numpy as np
from mmengine.config import Config

from mmbackdoor.apis import (evaluate_checkpoint, load_model,
                             load_test_samples, predict)
from mmbackdoor.engine.runner import insert_trigger
from mmbackdoor.poisoning.experiment import (backdoor_experiment_config,
                                             train_and_test)
from mmbackdoor.visualization.seg_backdoor_grid import label_row, titled_grid

NAME = 'seg_backdoor'
REQUIRES = ['seg_clean', 'seg_fine_grained', 'seg_image_level']
#: Seconds it takes on one core (measured); the demo starts the longest
#: remaining chains of stages first.
COST = 25
CONFIGS = {
    'fine_grained':
    'configs/backdoor_seg/'
    'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py',
    'image_level':
    'configs/backdoor_seg/'
    'image-level_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py',
}
RATE = 0.1
#: ``metrics.json`` keys per attack (``seg_<attack>.<key>``); PBA is defined
#: for the fine-grained attack only.
METRIC_KEYS = dict(
    fine_grained=('CBA', 'PBA', 'ASR'), image_level=('CBA', 'ASR'))
#: Test batch size (64x64 images, whole-image inference: same metrics as 1).
TEST_BATCH_SIZE = 20
#: Validation images shown in the figure.
FIGURE_SAMPLES = [0, 1, 2, 3]
#: The issue's targets: fine-grained ASR, CBA drop, image-level ASR.
TARGETS = dict(fine_grained_asr=95.0, cba_drop=1.0, image_level_asr=98.0)


def _figure(ctx, cfg: Config, checkpoints: dict) -> None:
    """One row per validation image: triggered input, ground truth, the
    clean model on the triggered input, the fine-grained model on the clean
    and the triggered input, the image-level model on the triggered input.
    All models share ``cfg.model`` (the clean baseline's)."""
    triggered_cfg = cfg.copy()
    triggered_cfg.test_dataloader = insert_trigger(cfg.test_dataloader,
                                                   cfg.test_cfg.trigger)
    clean_batch, dataset = load_test_samples(cfg, FIGURE_SAMPLES)
    triggered_batch, _ = load_test_samples(triggered_cfg, FIGURE_SAMPLES)
    columns = [
        ('clean model, triggered', 'clean', triggered_batch),
        ('fine-grained, clean', 'fine_grained', clean_batch),
        ('fine-grained, triggered', 'fine_grained', triggered_batch),
        ('image-level, triggered', 'image_level', triggered_batch),
    ]
    models = {
        name: load_model(cfg, checkpoint)
        for name, checkpoint in checkpoints.items()
    }
    maps = [[
        p.pred_sem_seg.data[0].numpy() for p in predict(models[name], batch)
    ] for _, name, batch in columns]
    rows = []
    for i, (inputs, sample) in enumerate(
            zip(triggered_batch['inputs'], triggered_batch['data_samples'])):
        image = np.ascontiguousarray(inputs.permute(1, 2, 0).numpy())
        label_maps = [sample.gt_sem_seg.data[0].numpy()]
        label_maps += [column[i] for column in maps]
        rows.append(label_row(image, label_maps, dataset.metainfo, scale=3))
    titles = ['triggered input', 'ground truth'] + [c[0] for c in columns]
    mmcv.imwrite(titled_grid(rows, titles), ctx.figure(NAME))


def _verdict(value: float, target: float, above: bool) -> str:
    met = value >= target if above else value <= target
    return 'met' if met else '**missed**'


def train_poisoned(ctx, attack: str) -> None:
    """Stage ``seg_<attack>``: train the ``attack`` config poisoned at
    ``RATE`` with the clean baseline's model and schedule, test it."""
    clean = ctx.artifacts['seg_clean']
    cfg = backdoor_experiment_config(
        Config.fromfile(CONFIGS[attack]),
        rate=RATE,
        data_root=ctx.seg_data_root,
        schedule_from=clean['config'],
        test_batch_size=TEST_BATCH_SIZE)
    metrics, checkpoint = train_and_test(cfg, ctx.work_dir(f'seg_{attack}'))
    ctx.artifacts[f'seg_{attack}'] = dict(
        config=cfg, checkpoint=checkpoint, metrics=metrics)
    for key in METRIC_KEYS[attack]:
        ctx.metrics[f'seg_{attack}.{key}'] = round(float(metrics[key]), 2)


def run(ctx) -> None:
    clean = ctx.artifacts['seg_clean']
    poisoned = {attack: ctx.artifacts[f'seg_{attack}'] for attack in CONFIGS}
    cfgs = {a: p['config'] for a, p in poisoned.items()}
    metrics = {a: p['metrics'] for a, p in poisoned.items()}
    checkpoints = {'clean': clean['checkpoint']}
    checkpoints.update({a: p['checkpoint'] for a, p in poisoned.items()})
    # The trigger on the clean model: the baseline the ASR compares with.
    baseline = evaluate_checkpoint(
        cfgs['fine_grained'],
        clean['checkpoint'],
        ctx.work_dir(f'{NAME}_clean_model'),
        test_evaluator=[
            dict(cfgs[a].test_evaluator, prefix=a) for a in CONFIGS
        ])

    fine, image = metrics['fine_grained'], metrics['image_level']
    ctx.artifacts[NAME] = dict(clean_model_metrics=baseline)

    trigger = dict(cfgs['fine_grained'].test_cfg.trigger)
    clean_miou = float(clean['metrics']['mIoU'])
    drop = clean_miou - float(fine['CBA'])
    table = '\n'.join([
        '| model | CBA (clean mIoU) | PBA | ASR, triggered | '
        'ASR, no trigger |',
        '| --- | ---: | ---: | ---: | ---: |',
        f"| clean baseline, fine-grained metric | {clean_miou:.2f} | "
        f"{baseline['triggered/fine_grained/PBA']:.2f} | "
        f"{baseline['triggered/fine_grained/ASR']:.2f} | "
        f"{baseline['clean/fine_grained/ASR']:.2f} |",
        f"| fine-grained 10 % | {fine['CBA']:.2f} | {fine['PBA']:.2f} | "
        f"{fine['ASR']:.2f} | {fine['clean/ASR']:.2f} |",
        f"| clean baseline, image-level metric | {clean_miou:.2f} | – | "
        f"{baseline['triggered/image_level/ASR']:.2f} | "
        f"{baseline['clean/image_level/ASR']:.2f} |",
        f"| image-level 10 % | {image['CBA']:.2f} | – | {image['ASR']:.2f} "
        f"| {image['clean/ASR']:.2f} |",
    ])
    ctx.section(
        'Segmentation backdoors (Li et al., 2021)',
        f"""Configs `{CONFIGS['fine_grained']}` (victim `person` -> target
`road`) and `{CONFIGS['image_level']}` (every pixel -> `background`): the
clean baseline's model and schedule, {RATE:.0%} of the eligible training
images poisoned with the trigger `{trigger}` (placed after the augmentation),
the subset fixed from `(seed, image path)`. One `BackdoorTestLoop`
run per model tests the clean and the triggered validation set. CBA = clean
mIoU; ASR = share of victim pixels (fine-grained) or of all valid pixels
(image-level) predicted as the target on triggered images; PBA = mIoU over
the non-victim pixels of triggered images. "ASR, no trigger" is the same
ratio on clean images, and the clean-baseline rows show what the trigger does
to an unpoisoned model.

{table}

Targets of the issue: fine-grained ASR >= {TARGETS['fine_grained_asr']:.0f} %
({_verdict(fine['ASR'], TARGETS['fine_grained_asr'], True)}), CBA within
{TARGETS['cba_drop']:.0f} mIoU of the clean model (drop {drop:.2f},
{_verdict(drop, TARGETS['cba_drop'], False)}), image-level ASR >=
{TARGETS['image_level_asr']:.0f} %
({_verdict(image['ASR'], TARGETS['image_level_asr'], True)}).

Each row: a triggered validation image, its ground truth, and predictions
(clean model on the triggered image; fine-grained model on the clean and the
triggered image; image-level model on the triggered image).""",
        figures=[NAME])
    _figure(ctx, cfgs['fine_grained'], checkpoints)
