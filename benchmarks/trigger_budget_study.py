"""Trigger-budget study of the clean-label video backdoor (Zhao et al., 2020).

For each target class, one run of the universal trigger optimisation
(seeded batches of non-target training clips) keeps snapshots at every
budget of ``--steps`` (a snapshot after k steps is the trigger of a k-step
run). For each budget: the trigger's ASR on the clean model, the clean-label
victim (enhancement + trigger) and the no-enhancement ablation; per class
once: the random-patch ablation (its patch has no budget). Everything uses
the demo's recipe (:mod:`mmbackdoor.apis.video_backdoor`: 30 % of the
target class, PGD eps 8 / 10 steps, 12 px patch, victim seed 1). Prints a
table, writes JSON / Markdown and a figure (ASR vs steps). Results of
finished runs are kept in ``--work-dir`` and reused.

The clean model is the demo's (``python tools/demo.py --only video_clean``);
the config is its *training* config with the shared backbone, so that the
victims start from that backbone like the clean model did:

Example:
    W=work_dirs/demo/work_dirs/video_clean
    OMP_NUM_THREADS=1 python benchmarks/trigger_budget_study.py \\
        configs/backdoor_video/\\
i3d_r18-w8_source-pretrained_1xb16-8x2x1-8e_embedded-video-rgb.py \\
        $W/clean/epoch_8.pth \\
        --cfg-options model.backbone.pretrained=$W/source_backbone.pth \\
        --classes 0 3 5 --steps 300 750 1500 3000
"""
import argparse
import json
import os
import os.path as osp
import time

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.runner import set_random_seed

import mmbackdoor  # noqa: F401
from mmbackdoor.apis import load_model
from mmbackdoor.apis.clean_label import attack_dataset
from mmbackdoor.apis.video_backdoor import (PGD_STEPS, SEED, TRIGGER_BATCH,
                                            TRIGGER_SIZE, craft,
                                            optimise_trigger, store_trigger,
                                            train_victim,
                                            trigger_on_clean_model)
from mmbackdoor.triggers import random_trigger
from mmbackdoor.visualization.curves import trigger_budget_figure
from timing import write_results

#: Victims per budget: name -> PGD steps of the enhancement.
VICTIMS = dict(clean_label=PGD_STEPS, no_enhance=0)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config of the clean recognizer')
    parser.add_argument('checkpoint', help='clean recognizer checkpoint')
    parser.add_argument('--classes', type=int, nargs='+', default=[0, 3, 5])
    parser.add_argument(
        '--steps', type=int, nargs='+', default=[300, 750, 1500, 3000])
    parser.add_argument('--batch-size', type=int, default=TRIGGER_BATCH)
    parser.add_argument(
        '--work-dir', default='work_dirs/trigger_budget_study')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs (e.g. '
        'model.backbone.pretrained=BACKBONE)')
    args = parser.parse_args()
    if min(args.steps) < 1 or args.batch_size < 1:
        parser.error('--steps and --batch-size must be >= 1')
    return args


def cached(path: str, compute) -> dict:
    """The JSON in ``path``, or ``compute()`` stored there."""
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    result = compute()
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def study_class(cfg, args, target: int) -> list:
    """Rows (one per budget) of target class ``target``."""
    work = osp.join(args.work_dir, f'class{target}')
    budgets = sorted(args.steps)
    files = {k: osp.join(work, f'trigger_{k}.npy') for k in budgets}
    state = {}

    def model_and_data():
        if not state:
            set_random_seed(SEED)
            state['model'] = load_model(cfg, args.checkpoint)
            state['dataset'] = attack_dataset(cfg, 'val')
        return state['model'], state['dataset']

    def optimise():
        model, dataset = model_and_data()
        start = time.perf_counter()
        _, history = optimise_trigger(
            model, dataset, target, budgets[-1], args.batch_size,
            snapshot_steps=budgets)
        seconds = time.perf_counter() - start
        for k in budgets:
            store_trigger(files[k], history['snapshots'][k], target, k,
                          args.batch_size, history)
        return dict(seconds=seconds, success=history['success'],
                    loss=history['loss'])

    progress = cached(osp.join(work, 'trigger.json'), optimise)

    def victim(name: str, trigger_file: str, pgd_steps: int, tag: str):
        def run():
            model, dataset = model_and_data()
            poison = craft(model, dataset, target,
                           osp.join(work, f'poison_{name}_{tag}'),
                           trigger_file, pgd_steps)
            metrics, _ = train_victim(cfg, poison, trigger_file, target,
                                      osp.join(work, f'{name}_{tag}'),
                                      attacker_checkpoint=args.checkpoint)
            return {k: float(v) for k, v in metrics.items()}
        return cached(osp.join(work, f'{name}_{tag}.json'), run)

    random_file = osp.join(work, 'random_trigger.npy')
    if not osp.exists(random_file):
        store_trigger(random_file,
                      random_trigger(len(np.load(files[budgets[0]])),
                                     TRIGGER_SIZE, SEED), target, 0)
    random_patch = victim('random_patch', random_file, PGD_STEPS, 'random')
    rows = []
    for k in budgets:
        clean_model = cached(
            osp.join(work, f'clean_model_{k}.json'),
            lambda: {
                key: float(v)
                for key, v in trigger_on_clean_model(
                    cfg, args.checkpoint, files[k], target,
                    osp.join(work, f'clean_model_{k}')).items()
            })
        victims = {
            name: victim(name, files[k], pgd, str(k))
            for name, pgd in VICTIMS.items()
        }
        window = progress['success'][max(0, k - 100):k]
        rows.append(
            dict(
                target=target,
                steps=k,
                batch_size=args.batch_size,
                trigger_seconds=progress['seconds'] * k / budgets[-1],
                train_success=100 * float(np.mean(window)),
                clean_top1=clean_model['top1'],
                trigger_ASR_clean_model=clean_model['ASR'],
                top1=victims['clean_label']['top1'],
                ASR=victims['clean_label']['ASR'],
                ASR_no_enhance=victims['no_enhance']['ASR'],
                ASR_random_patch=random_patch['ASR']))
    return rows


COLUMNS = (('target', 'target class', '{}'), ('steps', 'steps', '{}'),
           ('train_success', 'trigger success on its last 100 batches %',
            '{:.1f}'),
           ('trigger_ASR_clean_model', 'trigger on the clean model ASR %',
            '{:.2f}'), ('clean_top1', 'clean model top-1', '{:.2f}'),
           ('ASR', '**victim ASR %**', '{:.2f}'),
           ('top1', 'victim top-1', '{:.2f}'),
           ('ASR_no_enhance', 'no enhancement ASR %', '{:.2f}'),
           ('ASR_random_patch', 'random patch ASR %', '{:.2f}'),
           ('trigger_seconds', 'trigger s', '{:.0f}'))


def markdown_table(rows) -> str:
    lines = ['| ' + ' | '.join(c[1] for c in COLUMNS) + ' |',
             '|' + ' ---: |' * len(COLUMNS)]
    lines += [
        '| ' + ' | '.join(fmt.format(r[key]) for key, _, fmt in COLUMNS) +
        ' |' for r in rows
    ]
    return '\n'.join(lines)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    rows = [row for target in args.classes
            for row in study_class(cfg, args, target)]
    write_results(args.work_dir, rows, markdown_table(rows))
    trigger_budget_figure(rows,
                          osp.join(args.work_dir, 'trigger_budget_study.png'))


if __name__ == '__main__':
    main()
