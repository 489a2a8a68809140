"""Clean-label video backdoor (Zhao et al., CVPR 2020), the attacker's side.

On the clean model of stage ``video_clean`` (fine-tuned from the shared
source-pretrained backbone): a universal adversarial trigger, a random patch
of the same shape (the paper's control), and three poison folders, one per
victim stage (:data:`mmbackdoor.apis.video_backdoor.VICTIMS`):

* ``video_clean_label`` -- untargeted PGD (enhancement) + trigger, the attack;
* ``video_no_enhance`` -- the trigger alone (ablation);
* ``video_random_patch`` -- PGD + the random patch (ablation).

The victim stages share one body,
:func:`mmbackdoor.apis.video_backdoor.run_victim`: the clean model's recipe,
from the same backbone, trained on one poisoned set with the victim's own
seed, then one clean + triggered test run. The settings are those of
:mod:`mmbackdoor.apis.video_backdoor`.
"""
import os.path as osp

import numpy as np
from mmengine.runner import set_random_seed

from mmbackdoor.apis import load_model
from mmbackdoor.apis.clean_label import attack_dataset
from mmbackdoor.apis.video_backdoor import (SEED, TARGET_CLASS, TRIGGER_BATCH,
                                            TRIGGER_SIZE, TRIGGER_STEPS,
                                            VICTIMS, craft, optimise_trigger,
                                            store_trigger)
from mmbackdoor.triggers import random_trigger

NAME = 'video_trigger'
REQUIRES = ['video_clean']
COST = 153


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
