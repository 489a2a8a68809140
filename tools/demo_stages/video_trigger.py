"""Clean-label video backdoor (Zhao et al., CVPR 2020), the attacker's side.

On the clean model of stage ``video_clean`` (fine-tuned from the shared
source-pretrained backbone): a universal adversarial trigger, a random patch
of the same shape (the paper's control), and three poison folders, one per
victim stage:

* ``video_clean_label`` -- untargeted PGD (enhancement) + trigger, the attack;
* ``video_no_enhance`` -- the trigger alone (ablation);
* ``video_random_patch`` -- PGD + the random patch (ablation).

:func:`run_victim` is the victim stages' shared body: the clean model's
recipe, from the same backbone, trained on one poisoned set with the
victim's own seed, then one clean + triggered test run.
"""
import os.path as osp

import numpy as np
from mmengine.runner import set_random_seed

from mmbackdoor.apis import evaluate_checkpoint, load_model, train_model
from mmbackdoor.poisoning.clean_label import (attack_dataset, class_indices,
                                              clean_label_config,
                                              craft_poison, endless_batches,
                                              optimize_universal_trigger,
                                              random_trigger, save_trigger)
from mmbackdoor.triggers import UniversalTrigger
from .video_clean import NO_VAL

NAME = 'video_trigger'
REQUIRES = ['video_clean']
#: Seconds it takes on one core (measured); the demo starts the longest
#: remaining chains of stages first.
COST = 40

#: The paper's settings: target class 0, 30 % of its training videos, a
#: bottom-right patch per frame, PGD eps 8 / step 1 / 10 steps.
TARGET_CLASS = 0
RATE = 0.3
EPS, PGD_STEPS = 8.0, 10
#: 12 px on the 56 px input: ~5 % of the frame, the share of a ~48 px patch
#: at 224 px (the paper used 20-24 px at 224 px, ~1 %).
TRIGGER_SIZE = 12
TRIGGER_STEPS, TRIGGER_BATCH = 300, 16
#: The attacker's seed (trigger batches, selection, random patch) and the
#: victim's training seed, which the attacker does not control: a victim
#: sharing the clean model's seed would retrace its training run.
SEED, VICTIM_SEED = 0, 1
#: Victim stage -> (trigger, PGD steps of the enhancement).
VICTIMS = dict(
    video_clean_label=('adversarial', PGD_STEPS),
    video_no_enhance=('adversarial', 0),
    video_random_patch=('random', PGD_STEPS))


def run(ctx) -> None:
    work = ctx.work_dir(NAME)
    set_random_seed(SEED)
    cfg = ctx.artifacts['video_clean']['config']
    model = load_model(cfg, ctx.artifacts['video_clean']['checkpoint'])
    dataset = attack_dataset(cfg, 'val')

    steps = 2 if ctx.smoke else TRIGGER_STEPS
    batches = endless_batches(
        dataset, class_indices(dataset, TARGET_CLASS, same=False),
        TRIGGER_BATCH, SEED)
    patches, history = optimize_universal_trigger(
        model, batches, TARGET_CLASS, TRIGGER_SIZE, steps, progress=False)
    meta = dict(corner='br', target_class=TARGET_CLASS, size=TRIGGER_SIZE)
    triggers = dict(
        adversarial=osp.join(work, 'trigger.npy'),
        random=osp.join(work, 'random_trigger.npy'))
    save_trigger(triggers['adversarial'], patches, meta)
    save_trigger(triggers['random'],
                 random_trigger(len(patches), TRIGGER_SIZE, SEED), meta)

    poison_dirs = {}
    for name, (kind, pgd_steps) in VICTIMS.items():
        poison_dirs[name] = osp.join(work, f'poison_{name}')
        craft_poison(model, dataset, TARGET_CLASS, poison_dirs[name],
                     UniversalTrigger(triggers[kind]), rate=RATE, eps=EPS,
                     steps=pgd_steps, seed=SEED, progress=False)
    ctx.artifacts[NAME] = dict(
        triggers=triggers,
        poison_dirs=poison_dirs,
        steps=steps,
        # share of the last steps' clips the trigger sent to the target
        train_success=100 * float(np.mean(history[-30:])))


def run_victim(ctx, name: str) -> None:
    """Train and test the victim ``name`` (a key of :data:`VICTIMS`)."""
    kind, _ = VICTIMS[name]
    attack = ctx.artifacts[NAME]
    cfg = ctx.prepare(
        clean_label_config(ctx.artifacts['video_clean']['config'],
                           attack['poison_dirs'][name],
                           attack['triggers'][kind], TARGET_CLASS),
        ctx.video_data_root)
    cfg.randomness = dict(seed=VICTIM_SEED)
    work_dir = ctx.work_dir(name)
    checkpoint = train_model(cfg, work_dir, **NO_VAL)
    metrics = evaluate_checkpoint(cfg, checkpoint, work_dir)
    ctx.artifacts[name] = dict(
        config=cfg, checkpoint=checkpoint, metrics=metrics)
    if name == 'video_clean_label':
        ctx.metrics[f'{name}.top1'] = metrics['top1']
    ctx.metrics[f'{name}.ASR'] = metrics['ASR']
