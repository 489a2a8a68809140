"""Segmentation robustness (Song et al., 2026) on the embedded data.

The clean UNet baseline (stage ``seg_control_clean``) is attacked by PGD,
SegPGD, CosPGD and EroSeg at one budget. Two adversarially trained models
fine-tune the clean checkpoint with the same short schedule, differing only in
the attack that crafts the adversarial half of their loss: PGD-AT and EroSeg-AT
(the shipped ``configs/eroseg/*-at-3step_*embedded*`` configs, shortened). All
three are evaluated by ``RobustnessTestLoop`` on the first validation images.
"""
import os.path as osp

import matplotlib
from mmengine.config import Config

import mmbackdoor.engine.hooks  # noqa: F401  (AdversarialTrainingHook)
import mmbackdoor.engine.runner  # noqa: F401  (RobustnessTestLoop)
from mmbackdoor.apis import (evaluate_checkpoint, load_model,
                             load_test_samples, predict, train_model)
from mmbackdoor.apis.robustness import background_classes
from mmbackdoor.attacks import EroSeg
from mmbackdoor.evaluation import paired_miou_interval, pass_areas
from mmbackdoor.visualization.seg_labels import colour_label

NAME = 'robust'
REQUIRES = ['seg_control_clean']
COST = 76

EVAL_CONFIG = 'configs/eroseg/robust-eval_unet-s4-d8_fcn_embedded-seg-64x64.py'
AT_CONFIGS = dict(
    pgd_at='configs/eroseg/'
    'pgd-at-3step_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py',
    eroseg_at='configs/eroseg/'
    'eroseg-at-3step_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
MODEL_NAMES = dict(clean='clean', pgd_at='PGD-AT', eroseg_at='EroSeg-AT')
ATTACKS = ('PGD', 'SegPGD', 'CosPGD', 'EroSeg')
#: Fine-tuning of the AT models (from the clean checkpoint) and evaluation
#: size: about 100 CPU-seconds in all at one thread (fine-tuning ~40,
#: evaluation ~20 per model). On disjoint 20-image subsets absolute mIoU
#: varies with a standard deviation of about 1.5, paired differences (two
#: attacks on one model, or the two AT models under one attack) of 0.4-1.
AT_ITERS, AT_LR = 30, 2e-3
EVAL_IMAGES = 30
FIGURE_IMAGES = 3
FIGURE_STEPS = (0, 2, 4, 6, 9)
#: The claims' comparisons on the same images, ``key: (label, (model,
#: pass), (model, pass))``: the metrics ``robust.<key>.{mIoU,low,high}`` are
#: the first mIoU minus the second and its paired 95 % bootstrap interval.
COMPARISONS = {
    'clean.EroSeg_minus_SegPGD': ('EroSeg - SegPGD on the clean model',
                                  ('clean', 'EroSeg'), ('clean', 'SegPGD')),
    'eroseg_at_minus_pgd_at.PGD': ('EroSeg-AT - PGD-AT under PGD',
                                   ('eroseg_at', 'PGD'), ('pgd_at', 'PGD')),
}


def _fine_tune(ctx, name: str, checkpoint: str) -> str:
    """Fine-tune ``checkpoint`` with AT config ``name`` for ``AT_ITERS``
    iterations (fewer in a smoke run), without validation."""
    cfg = ctx.prepare(Config.fromfile(AT_CONFIGS[name]))
    iters = min(AT_ITERS, cfg.train_cfg.max_iters)
    return train_model(
        cfg,
        ctx.work_dir(f'{NAME}_{name}'),
        load_from=checkpoint,
        train_cfg=dict(max_iters=iters, val_interval=iters),
        # mmengine validates after the last iteration whatever the interval
        val_dataloader=None,
        val_cfg=None,
        val_evaluator=None,
        param_scheduler=[
            dict(
                type='OneCycleLR',
                eta_max=AT_LR,
                total_steps=iters,
                pct_start=0.2,
                by_epoch=False)
        ],
        default_hooks=dict(checkpoint=dict(interval=iters)))


def _figure(ctx, cfg: Config, checkpoint: str, budget: dict) -> list:
    """Clean vs EroSeg prediction of the clean model, and EroSeg's attacked
    set (mask) at several steps; returns the mask share of every step."""
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    model = load_model(cfg, checkpoint)
    batch, dataset = load_test_samples(cfg, list(range(FIGURE_IMAGES)))
    attack = EroSeg(background_classes=background_classes(cfg), **budget)
    result = attack.run(model, batch, record=True)
    clean_preds = predict(model, batch)
    adv_preds = predict(model, dict(batch, inputs=result.inputs))
    meta = dataset.metainfo
    columns = ['image', 'ground truth', 'prediction', 'EroSeg image',
               'prediction'] + [f'mask t={t + 1}' for t in FIGURE_STEPS]
    fig, axes = plt.subplots(
        FIGURE_IMAGES, len(columns),
        figsize=(1.3 * len(columns), 1.45 * FIGURE_IMAGES), squeeze=False)
    for i in range(FIGURE_IMAGES):
        image = batch['inputs'][i].permute(1, 2, 0).numpy()[..., ::-1]
        adv = result.inputs[i].round().byte().permute(1, 2, 0).cpu().numpy()
        panels = [
            image,
            colour_label(clean_preds[i].gt_sem_seg.data[0].numpy(), meta),
            colour_label(clean_preds[i].pred_sem_seg.data[0].numpy(), meta),
            adv[..., ::-1],
            colour_label(adv_preds[i].pred_sem_seg.data[0].numpy(), meta),
        ] + [(result.weights[t][i] > 0).float().numpy() for t in FIGURE_STEPS]
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            ax.imshow(panel, cmap='gray' if panel.ndim == 2 else None,
                      vmin=0, vmax=1, interpolation='nearest')
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(columns[j], fontsize=7)
    fig.tight_layout()
    fig.savefig(ctx.figure(NAME), dpi=110)
    plt.close(fig)
    return result.attacked_fraction


def run(ctx) -> None:
    clean = ctx.artifacts['seg_control_clean']
    checkpoints = dict(clean=clean['checkpoint'])
    for name in AT_CONFIGS:
        checkpoints[name] = _fine_tune(ctx, name, clean['checkpoint'])

    cfg = ctx.seg_data(Config.fromfile(EVAL_CONFIG))
    num_images = FIGURE_IMAGES if ctx.smoke else EVAL_IMAGES
    cfg.test_dataloader.dataset.indices = num_images
    cfg.test_dataloader.batch_size = num_images
    budget = {
        k: cfg.test_cfg.attacks[0][k]
        for k in ('eps', 'alpha', 'steps')
    }
    results, per_image = {}, {}
    for name, ckpt in checkpoints.items():
        work_dir = ctx.work_dir(f'{NAME}_{name}')
        per_image[name] = cfg.test_cfg.per_image_file = osp.join(
            work_dir, 'per_image.json')
        results[name] = evaluate_checkpoint(cfg, ckpt, work_dir)
    passes = ['clean', *ATTACKS, 'worst']
    for model, metrics in results.items():
        for name in passes:
            ctx.metrics[f'{NAME}.{model}.{name}.mIoU'] = round(
                float(metrics[f'{name}/mIoU']), 2)
    for key, (_, a, b) in COMPARISONS.items():
        values = paired_miou_interval(
            pass_areas(per_image[a[0]], a[1]),
            pass_areas(per_image[b[0]], b[1]))
        for stat, value in zip(('mIoU', 'low', 'high'), values):
            ctx.metrics[f'{NAME}.{key}.{stat}'] = round(value, 2)
    mask_fractions = _figure(ctx, cfg, clean['checkpoint'], budget)

    header = ['model', 'clean', *ATTACKS, 'worst case']
    lines = ['| ' + ' | '.join(header) + ' |',
             '| --- |' + ' ---: |' * (len(header) - 1)]
    for model, metrics in results.items():
        cells = [f'{float(metrics[f"{p}/mIoU"]):.2f}' for p in passes]
        lines.append(f'| {MODEL_NAMES[model]} | ' + ' | '.join(cells) + ' |')
    cost = ', '.join(
        f'{a} {float(results["clean"][f"{a}/seconds_per_image"]):.3f}'
        for a in ATTACKS)
    masks = ', '.join(f'{100 * f:.0f}' for f in mask_fractions)
    ctx.section(
        'Adversarial robustness: PGD, SegPGD, CosPGD, EroSeg; EroSeg-AT',
        f'mIoU on the first {num_images} validation images, clean and '
        f'under each attack at the same budget (eps {budget["eps"]:g} of '
        f'255, step {budget["alpha"]:g}, {budget["steps"]} steps, no random '
        'start; `' + EVAL_CONFIG + '`), and the per-image worst case across '
        'the four.\n\n' + '\n'.join(lines) + '\n\n'
        f'PGD-AT and EroSeg-AT fine-tune the clean checkpoint for {AT_ITERS} '
        f'iterations (batch 8, one-cycle lr {AT_LR:g}) on '
        'CE(clean) + CE(adversarial), the adversarial images crafted by '
        'PGD-3 or EroSeg-3 (eps 8, step 8/3 x 2.5); the configs '
        '`' + '`, `'.join(AT_CONFIGS.values()) + '` train the full schedule '
        'from scratch. Attack cost on the clean model, seconds per image: '
        f'{cost}. Short fine-tuning on a small evaluation set: across '
        'disjoint 20-image subsets absolute mIoU varies with a standard '
        'deviation of about 1.5, and the difference between two attacks on '
        'one model, or between the two AT models under one attack, of '
        '0.4-1 (`configs/eroseg/README.md` has all 100 validation images, '
        'on the embedded data\'s persons and on the 2x persons, and a '
        'second seed). Paired over the same images (95 % bootstrap interval, '
        '2000 resamples of the images): ' + '; '.join(
            f'{label} {ctx.metrics[f"{NAME}.{key}.mIoU"]:+.2f} '
            f'({ctx.metrics[f"{NAME}.{key}.low"]:+.2f} to '
            f'{ctx.metrics[f"{NAME}.{key}.high"]:+.2f})'
            for key, (label, _, _) in COMPARISONS.items()) + '.\n\n'
        'Figure: the clean model on three validation images (image, ground '
        'truth, prediction), the EroSeg image and its prediction, and '
        "EroSeg's attacked set (white) at several steps: correct pixels "
        'below the rising confidence threshold. Share of valid pixels in '
        f'the mask per step (%): {masks}.',
        figures=[NAME])
