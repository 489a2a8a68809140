"""Craft the poisoned target-class clips of the clean-label video backdoor.

Zhao et al. (2020): selects ``--rate`` of the target-class training videos
(seeded, exact count), perturbs each one's clip with untargeted PGD on the
clean model (``--eps`` 8, step 1, ``--steps`` 10 by default; ``--steps 0``
skips this "enhancement"), pastes the trigger and stores every clip
losslessly under ``OUT/clips/`` with ``OUT/manifest.json``. Labels are not
touched. ``OUT`` must be new (or empty; ``--overwrite`` replaces a non-empty
one) and outside the dataset. Crash-safe: writes a temporary folder and
renames it, so a killed run leaves no ``OUT``. Train the victim with
``CleanLabelPoison(poison_dir=OUT)`` in its pipeline.

Example:
    python tools/video/craft_poison.py \\
        configs/backdoor_video/CONFIG.py work_dirs/clean/epoch_10.pth \\
        --trigger work_dirs/trigger/trigger.npy --target-class 0 \\
        --rate 0.3 --eps 8 --steps 10 --out work_dirs/poison
"""
import argparse
import sys

from mmaction.apis import init_recognizer
from mmengine.config import Config, DictAction

import mmbackdoor  # noqa: F401
from mmbackdoor.apis.clean_label import (PIPELINES, attack_dataset,
                                         check_target_class, craft_poison)
from mmbackdoor.triggers.universal_trigger import UniversalTrigger


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config of the clean recognizer')
    parser.add_argument('checkpoint', help='clean recognizer checkpoint')
    parser.add_argument(
        '--trigger', required=True, help='trigger .npy (generate_trigger.py)')
    parser.add_argument('--target-class', type=int, required=True)
    parser.add_argument(
        '--rate',
        type=float,
        default=0.3,
        help='fraction of the target-class training videos')
    parser.add_argument(
        '--eps', type=float, default=8.0, help='intensity levels')
    parser.add_argument(
        '--step-size', type=float, default=1.0, help='intensity levels')
    parser.add_argument(
        '--steps', type=int, default=10, help='PGD steps (0: none)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--pipeline',
        choices=PIPELINES,
        default='val',
        help='whose (deterministic) pipeline yields the stored clip')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', required=True, help='new poison folder')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace OUT if it exists and is not empty (its contents are '
        'removed)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = init_recognizer(cfg, args.checkpoint, args.device)
    check_target_class(model, args.target_class)
    trigger = UniversalTrigger(args.trigger)
    manifest = craft_poison(
        model,
        attack_dataset(cfg, args.pipeline),
        args.target_class,
        args.out,
        trigger=trigger,
        rate=args.rate,
        eps=args.eps,
        step_size=args.step_size,
        steps=args.steps,
        seed=args.seed,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        overwrite=args.overwrite,
        extra=dict(
            config=args.config,
            checkpoint=args.checkpoint,
            pipeline=args.pipeline))
    print(f'{len(manifest["videos"])} of {manifest["num_target_videos"]} '
          f'target-class videos poisoned -> {args.out}')


if __name__ == '__main__':
    sys.exit(main())
