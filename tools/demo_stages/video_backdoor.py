"""Clean-label video backdoor (Zhao et al., CVPR 2020) on the embedded data:
the evaluation.

The chain runs over several stages: ``video_clean`` (shared source-pretrained
backbone -> clean model), ``video_trigger`` (universal adversarial trigger,
random patch, three poison folders) and one victim stage each for the attack
and its two ablations (``video_clean_label``, ``video_no_enhance``,
``video_random_patch``). This stage adds the trigger's ASR on the *clean*
model (without it the backdoor's effect would be overstated), the table and
a figure (clean clip, trigger, poisoned clip, amplified change).
"""
import os.path as osp

import numpy as np

from mmbackdoor.apis.clean_label import attack_dataset
from mmbackdoor.apis.video_backdoor import (EPS, PGD_STEPS, RATE, SEED,
                                            TARGET_CLASS, TRIGGER_BATCH,
                                            TRIGGER_SIZE, VICTIM_SEED,
                                            VICTIMS, trigger_on_clean_model)
from mmbackdoor.attacks.video import unpack_frames
from mmbackdoor.poisoning import (dataset_root, load_clip, load_clip_manifest,
                                  sample_key, video_path)
from mmbackdoor.triggers import UniversalTrigger
from mmbackdoor.visualization.prediction_grid import clip_prediction_figure

NAME = 'video_backdoor'
REQUIRES = list(VICTIMS)
COST = 4


def _figure(ctx, cfg, poison_dir: str, trigger: UniversalTrigger) -> None:
    """Clean clip | trigger patches | poisoned clip | amplified change, for
    the first poisoned video."""
    dataset = attack_dataset(cfg, 'val')
    entry = load_clip_manifest(poison_dir)['videos'][0]
    poisoned = load_clip(poison_dir, entry)
    root = dataset_root(dataset)
    index = next(
        i for i in range(len(dataset)) if sample_key(
            video_path(dataset.get_data_info(i)), root) == entry['video'])
    clean = unpack_frames(dataset[index]['inputs'],
                          cfg.model.data_preprocessor.format_shape)
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
    work = ctx.work_dir(NAME)
    clean = ctx.artifacts['video_clean']
    attack = ctx.artifacts['video_trigger']
    cfg = clean['config']
    results = {name: ctx.artifacts[name]['metrics'] for name in VICTIMS}
    for kind, trigger_file in attack['triggers'].items():
        results[f'clean_{kind}'] = trigger_on_clean_model(
            cfg, clean['checkpoint'], trigger_file, TARGET_CLASS,
            osp.join(work, f'clean_model_{kind}'))
    ctx.metrics['video_clean.trigger_ASR'] = results['clean_adversarial'][
        'ASR']
    _figure(ctx, cfg, attack['poison_dirs']['video_clean_label'],
            UniversalTrigger(attack['triggers']['adversarial']))

    poison = f'{RATE:.0%} of class {TARGET_CLASS}'
    rows = [
        ('clean model, adversarial trigger', 'clean_adversarial', 'none'),
        ('clean model, random patch', 'clean_random', 'none'),
        ('**clean-label backdoor**', 'video_clean_label',
         f'{poison}: PGD + trigger'),
        ('ablation: no enhancement', 'video_no_enhance',
         f'{poison}: trigger only'),
        ('ablation: random patch', 'video_random_patch',
         f'{poison}: PGD + random patch'),
    ]
    table = [
        '| model | poisoned training videos | clean top-1 (%) | ASR (%) '
        '| target w/o trigger (%) |', '| --- | --- | ---: | ---: | ---: |'
    ]
    table += [
        f'| {label} | {poisoning} | {results[key]["top1"]:.2f} | '
        f'{results[key]["ASR"]:.2f} | {results[key]["clean/ASR"]:.2f} |'
        for label, key, poisoning in rows
    ]
    ctx.section(
        'Clean-label video backdoor (Zhao et al., 2020)',
        'The clean model (stage `video_clean`) and the three victims '
        'fine-tune the same source-pretrained backbone '
        f'(`{cfg.model.backbone.pretrained}`) with one recipe (victims with '
        f'their own seed, {VICTIM_SEED}, the clean model with '
        f'{cfg.randomness.seed}). Target class {TARGET_CLASS}; a '
        f'{TRIGGER_SIZE} px patch per frame at the bottom-right corner of '
        f'the input, optimised for {attack["steps"]} steps of batch '
        f'{TRIGGER_BATCH} on the clean model (seed {SEED}; share of the '
        'last steps\' training clips sent to the target: '
        f'{attack["train_success"]:.1f} %). Poisoned clips: untargeted PGD '
        f'(eps {EPS:g}, step 1, {PGD_STEPS} steps) + trigger, stored '
        'losslessly; labels unchanged. ASR: triggered validation videos '
        '*not* of the target class predicted as the target; last column: '
        'the same without the trigger.\n\n' + '\n'.join(table),
        figures=[NAME])
