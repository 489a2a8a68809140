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
victim's own seed, then one clean + triggered test run. The settings are
those of :mod:`mmbackdoor.poisoning.video_experiment`.
"""
import os.path as osp

import numpy as np
from mmengine.runner import set_random_seed

from mmbackdoor.apis import load_model
from mmbackdoor.poisoning.clean_label import attack_dataset, random_trigger
from mmbackdoor.poisoning.video_experiment import (PGD_STEPS, SEED,
                                                   TRIGGER_BATCH,
                                                   TRIGGER_SIZE,
                                                   TRIGGER_STEPS, craft,
                                                   optimise_trigger,
                                                   store_trigger,
                                                   train_victim)

NAME = 'video_trigger'
REQUIRES = ['video_clean']
#: Seconds it takes on one core (measured); the demo starts the longest
#: remaining chains of stages first.
COST = 197
#: The paper's target class 0.
TARGET_CLASS = 0
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
    patches, history = optimise_trigger(model, dataset, TARGET_CLASS, steps)
    triggers = dict(
        adversarial=store_trigger(
            osp.join(work, 'trigger.npy'), patches, TARGET_CLASS, steps,
            history=history),
        random=store_trigger(
            osp.join(work, 'random_trigger.npy'),
            random_trigger(len(patches), TRIGGER_SIZE, SEED), TARGET_CLASS,
            steps=0))
    poison_dirs = {
        name: craft(model, dataset, TARGET_CLASS,
                    osp.join(work, f'poison_{name}'), triggers[kind],
                    pgd_steps)
        for name, (kind, pgd_steps) in VICTIMS.items()
    }
    ctx.artifacts[NAME] = dict(
        triggers=triggers,
        poison_dirs=poison_dirs,
        steps=steps,
        # share of the last steps' clips the trigger sent to the target
        train_success=100 * float(np.mean(history['success'][-30:])))
    ctx.metrics[f'{NAME}.steps'] = steps
    ctx.metrics[f'{NAME}.batch_size'] = TRIGGER_BATCH


def run_victim(ctx, name: str) -> None:
    """Train and test the victim ``name`` (a key of :data:`VICTIMS`)."""
    kind, _ = VICTIMS[name]
    attack = ctx.artifacts[NAME]
    metrics, checkpoint = train_victim(
        ctx.artifacts['video_clean']['config'], attack['poison_dirs'][name],
        attack['triggers'][kind], TARGET_CLASS, ctx.work_dir(name),
        prepare=lambda cfg: ctx.prepare(cfg, ctx.video_data_root),
        attacker_checkpoint=ctx.artifacts['video_clean']['checkpoint'])
    ctx.artifacts[name] = dict(checkpoint=checkpoint, metrics=metrics)
    if name == 'video_clean_label':
        ctx.metrics[f'{name}.top1'] = metrics['top1']
    ctx.metrics[f'{name}.ASR'] = metrics['ASR']
