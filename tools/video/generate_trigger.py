"""Optimise the universal adversarial video trigger of Zhao et al. (2020).

One ``s x s`` patch per frame (or one for all frames with ``--static``) at a
fixed corner, optimised against a clean mmaction recognizer on the
non-target training videos so that they are classified as the target class.
Writes ``OUT`` (``.npy``, ``T x s x s x C`` uint8), ``OUT`` with ``.json``
(settings, read by ``UniversalTrigger``, and the optimisation's progress:
share of each window's training clips sent to the target and mean loss,
every ``--log-interval`` steps, also logged while it runs) and ``.png``
(preview strip). Crash-safe: writes temporary files and renames them, the
``.npy`` last, so a killed run leaves no trigger.

The budget matters up to a point: on the embedded data (target class 0) the
victim's ASR was 66 % after 300 steps of batch 16, 78 % after 1500 (the
defaults), 86 % after 3000 and 79 % after 6000
(``configs/backdoor_video/README.md``). The authors ran
10,000 steps of batch 1 at UCF101 scale.

Example:
    python tools/video/generate_trigger.py \\
        configs/backdoor_video/CONFIG.py work_dirs/clean/epoch_10.pth \\
        --target-class 0 --size 20 --corner br --steps 1500 \\
        --out work_dirs/trigger/trigger.npy
"""
import argparse
import sys

from mmaction.apis import init_recognizer
from mmengine.config import Config, DictAction
from mmengine.runner import set_random_seed

import mmbackdoor  # noqa: F401
from mmbackdoor.apis.clean_label import (PIPELINES, attack_dataset,
                                         class_indices, endless_batches)
from mmbackdoor.attacks.video import (TRIGGER_LOSSES, check_target_class,
                                      optimize_universal_trigger,
                                      progress_summary)
from mmbackdoor.triggers.trigger_file import random_trigger, save_trigger
from mmbackdoor.triggers.universal_trigger import CORNERS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config of the clean recognizer')
    parser.add_argument('checkpoint', help='clean recognizer checkpoint')
    parser.add_argument('--target-class', type=int, required=True)
    parser.add_argument(
        '--size', type=int, required=True, help='patch side in pixels')
    parser.add_argument('--corner', choices=CORNERS, default='br')
    parser.add_argument(
        '--steps', type=int, default=1500, help='optimisation steps')
    parser.add_argument(
        '--step-size', type=float, default=1.0, help='intensity levels')
    parser.add_argument(
        '--static',
        action='store_true',
        help='one patch for every frame instead of one per frame')
    parser.add_argument(
        '--loss',
        choices=TRIGGER_LOSSES,
        default='ce',
        help="'ce': targeted CE; 'ce_minus_pred': the authors' variant")
    parser.add_argument(
        '--random',
        action='store_true',
        help='store a random (non-adversarial) patch of the same shape '
        'instead (control); needs no optimisation')
    parser.add_argument(
        '--pipeline',
        choices=PIPELINES,
        default='val',
        help='whose pipeline reads the training videos')
    parser.add_argument(
        '--batch-size', type=int, default=16, help='clips per step')
    parser.add_argument(
        '--log-interval',
        type=int,
        default=100,
        help='log and store the progress every this many steps')
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', required=True, help='trigger .npy file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    args = parser.parse_args(argv)
    for key in ('steps', 'batch_size', 'log_interval'):
        if getattr(args, key) < 1:
            parser.error(f'--{key.replace("_", "-")} must be >= 1, got '
                         f'{getattr(args, key)}')
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    set_random_seed(args.seed)
    model = init_recognizer(cfg, args.checkpoint, args.device)
    check_target_class(model, args.target_class)
    dataset = attack_dataset(cfg, args.pipeline)
    others = class_indices(dataset, args.target_class, same=False)
    batches = endless_batches(dataset, others, args.batch_size, args.seed,
                              args.num_workers)
    if args.random:
        sample = next(batches)['inputs'][0]
        frames = 1 if args.static or sample.ndim == 4 else sample.shape[2]
        patches, history = random_trigger(
            frames, args.size, args.seed, channels=sample.shape[1]), None
    else:
        patches, history = optimize_universal_trigger(
            model,
            batches,
            args.target_class,
            args.size,
            args.steps,
            corner=args.corner,
            static=args.static,
            loss=args.loss,
            step_size=args.step_size,
            log_interval=args.log_interval)
    meta = dict(
        target_class=args.target_class,
        size=args.size,
        corner=args.corner,
        static=args.static or patches.shape[0] == 1,
        random=args.random,
        loss=args.loss,
        steps=0 if args.random else args.steps,
        step_size=args.step_size,
        batch_size=args.batch_size,
        pipeline=args.pipeline,
        seed=args.seed,
        config=args.config,
        checkpoint=args.checkpoint)
    if history is not None:
        meta['progress'] = progress_summary(history, args.log_interval)
    save_trigger(args.out, patches, meta)
    last = (f'; its last {args.log_interval} steps sent '
            f'{meta["progress"]["success"][-1]:.1f} % of their clips to the '
            'target' if history is not None else '')
    print(f'trigger {patches.shape} -> {args.out}{last}')


if __name__ == '__main__':
    sys.exit(main())
