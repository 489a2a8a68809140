"""Evaluate a segmentation checkpoint under adversarial attacks.

Runs the config's test set through ``RobustnessTestLoop``: clean mIoU, mIoU
under each attack (ℓ∞, pixel space, same budget for all), the per-image
worst case across the attacks, and each attack's cost. Prints a table and
saves it as JSON. Works with any mmseg config and checkpoint, e.g. a model
zoo one, and with ``--launcher pytorch`` for several GPUs.

``--compare A:B`` adds the difference of two passes' mIoU on the same images
with its paired 95 % bootstrap interval (the loop's ``per_image_file``, kept
in the run's log folder).

Example:
    python tools/analysis_tools/robustness_eval.py \\
        configs/baselines/unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py \\
        work_dirs/clean/iter_1000.pth \\
        --attacks PGD SegPGD CosPGD EroSeg --eps 8 --alpha 2 --steps 10 \\
        --compare EroSeg:SegPGD
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

import mmbackdoor  # noqa: F401
from mmbackdoor.apis.cli import (add_runner_args, check_data, config_from_args,
                                 dump_json, runner_from_cfg)
from mmbackdoor.apis.robustness import robustness_attacks
from mmbackdoor.evaluation import paired_miou_interval, pass_areas

#: Columns of the table: metric key suffix -> header.
COLUMNS = (('mIoU', 'mIoU'), ('mAcc', 'mAcc'), ('aAcc', 'aAcc'),
           ('steps', 'steps'), ('seconds_per_image', 's/img'))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='mIoU of a segmentation checkpoint under PGD-family '
        'attacks (pixel space [0, 255], before the data preprocessor)')
    parser.add_argument('config', help='mmseg config of the model and data')
    parser.add_argument('checkpoint', help='checkpoint to evaluate')
    parser.add_argument(
        '--attacks',
        nargs='+',
        default=['PGD', 'SegPGD', 'CosPGD', 'EroSeg'],
        help='registered attack types (default: all four)')
    parser.add_argument(
        '--eps', type=float, default=8, help='l-inf radius in 0-255 levels')
    parser.add_argument(
        '--alpha', type=float, default=2, help='step size in 0-255 levels')
    parser.add_argument('--steps', type=int, default=10, help='attack steps')
    parser.add_argument(
        '--random-start',
        action='store_true',
        help='start from a random point of the eps-ball')
    parser.add_argument(
        '--background-classes',
        type=int,
        nargs='*',
        help='EroSeg background class indices (default: the class named '
        '"background" in the dataset, if any)')
    parser.add_argument(
        '--max-images', type=int, help='evaluate only the first N test images')
    parser.add_argument(
        '--batch-size',
        type=int,
        help='test batch size (attacks are batched; larger is faster)')
    parser.add_argument(
        '--compare',
        nargs='+',
        default=[],
        metavar='A:B',
        help='mIoU of pass A minus pass B (attack names, clean, worst) on '
        'the same images, with a paired 95 %% bootstrap interval')
    parser.add_argument(
        '--out',
        help='JSON file for the table (default: '
        'WORK_DIR/robustness_eval.json)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def _cell(key: str, value) -> str:
    if value is None:
        return ''
    if key == 'steps':
        return str(int(value))
    if key == 'seconds_per_image':
        return f'{value:.3g}'
    return f'{value:.2f}'


def format_table(metrics: dict, passes: List[str]) -> str:
    """A Markdown table: one row per pass, the columns of ``COLUMNS``."""
    lines = [
        '| pass | ' + ' | '.join(h for _, h in COLUMNS) + ' |',
        '| --- |' + ' ---: |' * len(COLUMNS)
    ]
    for name in passes:
        cells = [
            _cell(key, metrics.get(f'{name}/{key}')) for key, _ in COLUMNS
        ]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = config_from_args(args)
    cfg.load_from = args.checkpoint
    if args.max_images is not None:
        cfg.test_dataloader.dataset.indices = args.max_images
    if args.batch_size is not None:
        cfg.test_dataloader.batch_size = args.batch_size
    try:
        attacks = robustness_attacks(
            cfg, args.attacks,
            dict(
                eps=args.eps,
                alpha=args.alpha,
                steps=args.steps,
                random_start=args.random_start), args.background_classes)
    except ValueError as err:
        raise SystemExit(f'robustness_eval.py: {err}') from err
    passes = ['clean', *attacks, 'worst']
    pairs = [pair.split(':') for pair in args.compare]
    for pair, names in zip(args.compare, pairs):
        if len(names) != 2 or not set(names) <= set(passes):
            raise SystemExit(f'robustness_eval.py: --compare {pair}: give '
                             f'two passes as A:B, passes: {passes}')
    cfg.test_cfg = dict(type='RobustnessTestLoop', attacks=attacks)
    if pairs:
        cfg.test_cfg['per_image_file'] = 'per_image.json'
    check_data(cfg, 'test')
    runner = runner_from_cfg(cfg)
    metrics = {k: float(v) for k, v in runner.test().items()}
    if runner.rank != 0:
        return metrics
    table = format_table(metrics, passes)
    print(f'\nRobustness of {args.checkpoint} (eps={args.eps}, '
          f'alpha={args.alpha}, steps={args.steps}, random_start='
          f'{args.random_start}; pixel space 0-255)\n{table}')
    comparisons = {}
    per_image = osp.join(runner.log_dir, 'per_image.json')
    areas = {name: pass_areas(per_image, name) for name in {*sum(pairs, [])}}
    for a, b in pairs:
        diff, low, high = paired_miou_interval(areas[a], areas[b])
        comparisons[f'{a}-{b}'] = dict(mIoU=diff, low=low, high=high)
        print(f'{a} - {b}: {diff:+.2f} mIoU (paired 95 % bootstrap interval '
              f'over the images: {low:+.2f} to {high:+.2f})')
    out = args.out or osp.join(cfg.work_dir, 'robustness_eval.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    dump_json(
        dict(
            config=args.config,
            checkpoint=args.checkpoint,
            attacks=attacks,
            metrics=metrics,
            table={
                name: {
                    key: metrics.get(f'{name}/{key}')
                    for key, _ in COLUMNS if f'{name}/{key}' in metrics
                }
                for name in passes
            },
            comparisons=comparisons), out)
    print(f'saved to {out}')
    return metrics


if __name__ == '__main__':
    main()
