"""Clean-label video backdoor (Zhao et al., CVPR 2020) on the embedded data.

Clean model (stage ``video_clean``) -> universal adversarial trigger ->
enhanced, triggered target-class clips -> poisoned training of a victim with
the clean model's recipe -> one clean + triggered test run. Two ablations the
paper argues from: the same poisoning without enhancement, and a random
(non-adversarial) patch. The trigger's ASR on the *clean* model is reported
too: without it the backdoor's effect would be overstated.
"""
import os.path as osp

import numpy as np
from mmengine.runner import set_random_seed

from mmbackdoor.apis import evaluate_checkpoint, load_model, train_model
from mmbackdoor.poisoning import sample_key
from mmbackdoor.poisoning.clean_label import (
    attack_dataset, backdoor_test_config, class_indices, clean_label_config,
    craft_poison, dataset_root, endless_batches, load_clip, load_manifest,
    optimize_universal_trigger, random_trigger, save_trigger, unpack_frames,
    video_path)
from mmbackdoor.triggers import UniversalTrigger
from mmbackdoor.visualization.prediction_grid import clip_prediction_figure

NAME = 'video_backdoor'
REQUIRES = ['video_clean']

#: The paper's settings: target class 0, 30 % of its training videos, a
#: bottom-right patch per frame, PGD eps 8 / step 1 / 10 steps.
TARGET_CLASS = 0
RATE = 0.3
EPS, PGD_STEPS = 8.0, 10
#: Patch side relative to the frame: 20 px at 224 px in the paper.
TRIGGER_FRACTION = 20 / 224
TRIGGER_STEPS, TRIGGER_BATCH = 150, 16
SEED = 0


def _victim(ctx, cfg, poison_dir, trigger_file, name):
    """Train a victim on ``poison_dir`` and test it with ``trigger_file``."""
    vcfg = clean_label_config(cfg, poison_dir, trigger_file, TARGET_CLASS)
    work_dir = osp.join(ctx.work_dir(NAME), name)
    checkpoint = train_model(vcfg, work_dir)
    return evaluate_checkpoint(vcfg, checkpoint, work_dir)


def _figure(ctx, dataset, poison_dir, trigger, format_shape):
    """Clean clip | trigger patches | poisoned clip | amplified change, for
    the first poisoned video."""
    entry = load_manifest(poison_dir)['videos'][0]
    poisoned = load_clip(poison_dir, entry)
    root = dataset_root(dataset)
    index = next(
        i for i in range(len(dataset)) if sample_key(
            video_path(dataset.get_data_info(i)), root) == entry['video'])
    clean = unpack_frames(dataset[index]['inputs'], format_shape)
    change = np.abs(poisoned.astype(int) - clean).clip(0, 31) * 8
    rows = [clean, trigger.patches, poisoned, change.astype(np.uint8)]
    titles = [
        f'clean target-class clip {entry["video"]}',
        f'universal trigger ({trigger.size} px per frame)',
        f'poisoned: PGD eps={EPS:g} + trigger (label unchanged)',
        '|poisoned - clean| x8'
    ]
    clip_prediction_figure([r[..., ::-1] for r in rows], titles,
                           ctx.figure(NAME))


def run(ctx) -> None:
    clean = ctx.artifacts['video_clean']
    cfg, clean_ckpt = clean['config'], clean['checkpoint']
    work = ctx.work_dir(NAME)
    set_random_seed(SEED)
    model = load_model(cfg, clean_ckpt)
    dataset = attack_dataset(cfg, 'val')
    crop = dataset[0]['inputs'].shape[-1]
    size = max(1, round(TRIGGER_FRACTION * crop))

    batches = endless_batches(
        dataset, class_indices(dataset, TARGET_CLASS, same=False),
        TRIGGER_BATCH, SEED)
    patches, history = optimize_universal_trigger(
        model, batches, TARGET_CLASS, size, TRIGGER_STEPS, progress=False)
    meta = dict(corner='br', target_class=TARGET_CLASS, size=size)
    triggers = dict(
        adversarial=osp.join(work, 'trigger.npy'),
        random=osp.join(work, 'random_trigger.npy'))
    save_trigger(triggers['adversarial'], patches, meta)
    save_trigger(triggers['random'],
                 random_trigger(len(patches), size, SEED), meta)

    runs = dict(
        video_clean_label=('adversarial', PGD_STEPS),
        video_no_enhance=('adversarial', 0),
        video_random_patch=('random', PGD_STEPS))
    results = {}
    for name, (kind, steps) in runs.items():
        poison_dir = osp.join(work, f'poison_{name}')
        craft_poison(model, dataset, TARGET_CLASS, poison_dir,
                     UniversalTrigger(triggers[kind]), rate=RATE, eps=EPS,
                     steps=steps, seed=SEED, progress=False)
        results[name] = _victim(ctx, cfg, poison_dir, triggers[kind], name)
    results['video_clean'] = evaluate_checkpoint(
        backdoor_test_config(cfg, triggers['adversarial'], TARGET_CLASS),
        clean_ckpt, osp.join(work, 'clean_model'))

    ctx.metrics['video_clean_label.top1'] = results['video_clean_label'][
        'top1']
    for name in runs:
        ctx.metrics[f'{name}.ASR'] = results[name]['ASR']
    ctx.metrics['video_clean.trigger_ASR'] = results['video_clean']['ASR']
    _figure(ctx, dataset, osp.join(work, 'poison_video_clean_label'),
            UniversalTrigger(triggers['adversarial']),
            model.data_preprocessor.format_shape)

    pretrained = cfg.model.backbone.get('pretrained')
    rows = [
        ('clean model (trigger only)', 'video_clean', 'none'),
        ('clean-label backdoor', 'video_clean_label',
         f'{RATE:.0%} of class {TARGET_CLASS}, PGD + trigger'),
        ('ablation: no enhancement', 'video_no_enhance',
         f'{RATE:.0%} of class {TARGET_CLASS}, trigger only'),
        ('ablation: random patch', 'video_random_patch',
         f'{RATE:.0%} of class {TARGET_CLASS}, PGD + random patch'),
    ]
    table = ['| model | poisoning | clean top-1 (%) | ASR (%) | '
             'target w/o trigger (%) |', '| --- | --- | ---: | ---: | ---: |']
    table += [
        f'| {label} | {poison} | {results[key]["top1"]:.2f} | '
        f'{results[key]["ASR"]:.2f} | {results[key]["clean/ASR"]:.2f} |'
        for label, key, poison in rows
    ]
    ctx.section(
        'Clean-label video backdoor (Zhao et al., 2020)',
        f'Target class {TARGET_CLASS}; {size} px per-frame trigger at the '
        f'bottom-right corner of the {crop} px input, optimised for '
        f'{TRIGGER_STEPS} steps (batch {TRIGGER_BATCH}) on the clean model '
        f'(fooling rate in the last steps: '
        f'{100 * np.mean(history[-15:]):.1f} %); every victim is trained '
        f'with the clean model\'s config'
        + (f' from the shared pretrained backbone `{pretrained}`'
           if pretrained else ' (no shared pretrained backbone: see the '
           'README of configs/backdoor_video)') + '. ASR counts triggered '
        'validation videos *not* of the target class predicted as the '
        'target; the last column is the same rate without the trigger.\n\n'
        + '\n'.join(table),
        figures=[NAME])
