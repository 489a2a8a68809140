"""Poison-rate sweep of the segmentation backdoors on the embedded data.

Trains the embedded backdoor configs (``configs/backdoor_seg``) of each
architecture (``--archs``: the SegFormer with global self-attention, the
conv UNet control) at each poison rate, and tests every model
with ``BackdoorTestLoop`` (clean + triggered validation set). Rate 0 is the
clean model: the same pipeline with nothing poisoned (the poisoning
transform draws no random numbers, so its augmentation stream is the clean
baseline's), and its triggered ASR is the trigger on the clean model.
Prints a table (CBA, PBA, ASR, the ASR without trigger, ``ASR_recognised``
and the clean model's victim recall), writes it as JSON and Markdown, and
plots ASR / CBA against the rate. Results of finished runs are kept in
``--work-dir`` and reused (use another ``--work-dir`` for another
``--trigger``, ``--dataset-options`` or ``--max-iters``).

Example:
    OMP_NUM_THREADS=1 python benchmarks/poison_rate_sweep.py \\
        --rates 0 0.01 0.05 0.1 0.2 --archs segformer unet
"""
import argparse
import json
import os
import os.path as osp
import time

from mmengine.config import Config

import mmbackdoor  # noqa: F401
from mmbackdoor.apis import (backdoor_experiment_config,
                             poison_transforms_cfg, set_dataset_options,
                             train_and_test)
from mmbackdoor.visualization.curves import poison_rate_figure
from timing import markdown_table, write_results

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Embedded backdoor configs per architecture and attack.
ARCHS = {
    'segformer': 'segformer_mit-t16_1xb8-1k_embedded-seg-64x64.py',
    'unet': 'unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py',
}
ATTACKS = ('fine_grained', 'image_level')
COLUMNS = ('CBA', 'PBA', 'ASR', 'clean/ASR', 'ASR_recognised',
           'victim_recall')


def config_of(arch: str, attack: str) -> str:
    """The embedded ``attack`` config of architecture ``arch``."""
    return (f'configs/backdoor_seg/{attack.replace("_", "-")}_'
            f'{ARCHS[arch]}')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--rates',
        type=float,
        nargs='+',
        default=[0.0, 0.01, 0.05, 0.1, 0.2],
        help='poison rates (fractions; 0 = clean model)')
    parser.add_argument(
        '--attacks',
        nargs='+',
        choices=ATTACKS,
        default=list(ATTACKS),
        help='which backdoors')
    parser.add_argument(
        '--archs',
        nargs='+',
        choices=sorted(ARCHS),
        default=sorted(ARCHS),
        help='segmentors (global self-attention SegFormer; conv UNet)')
    parser.add_argument(
        '--data-root',
        default='data/embedded_seg',
        help='embedded segmentation data (generated if missing)')
    parser.add_argument(
        '--dataset-options',
        type=json.loads,
        default=None,
        help='options as JSON set on every dataset (with a new --data-root '
        'for other generation arguments), e.g. \'{"person_scale": 2}\'')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/poison_rate_sweep',
        help='runs, results and the plot')
    parser.add_argument(
        '--max-iters',
        type=int,
        default=None,
        help='another schedule length (the one-cycle LR schedule follows)')
    parser.add_argument(
        '--trigger',
        type=json.loads,
        default=None,
        help='trigger config as JSON replacing the configs\' (training and '
        'test), e.g. \'{"type": "BlendTrigger", "alpha": 0.3}\'')
    return parser.parse_args()


def run_one(name: str, arch: str, attack: str, rate: float, args) -> dict:
    """Train and test one model, or read its stored result.

    The model is tested with the metrics of every attack of the sweep (keys
    ``clean/<attack>/...`` and ``triggered/<attack>/...``), so the clean
    model (rate 0) is trained once for all attacks.
    """
    work_dir = osp.join(args.work_dir, arch, name)
    result_file = osp.join(work_dir, 'result.json')
    if osp.isfile(result_file):
        with open(result_file) as f:
            return json.load(f)
    cfg = backdoor_experiment_config(
        Config.fromfile(osp.join(REPO, config_of(arch, attack))),
        rate=rate,
        data_root=args.data_root)
    cfg.test_evaluator = [
        dict(
            Config.fromfile(osp.join(REPO, config_of(arch,
                                                     a))).test_evaluator,
            prefix=a) for a in args.attacks
    ]
    if args.dataset_options:
        set_dataset_options(cfg, **args.dataset_options)
    if args.trigger:
        for poison in poison_transforms_cfg(cfg):
            poison.trigger = args.trigger
        cfg.test_cfg.trigger = args.trigger
    if args.max_iters:
        cfg.train_cfg.max_iters = args.max_iters
        cfg.param_scheduler[0].total_steps = args.max_iters
        cfg.default_hooks.checkpoint.interval = args.max_iters
    start = time.perf_counter()
    metrics, _ = train_and_test(cfg, work_dir)
    result = dict(
        seconds=round(time.perf_counter() - start, 1),
        max_iters=cfg.train_cfg.max_iters,
        **{
            k: float(v)
            for k, v in metrics.items()
        })
    with open(result_file, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def row(arch: str, attack: str, rate: float, result: dict) -> dict:
    """The table row of ``arch`` / ``attack`` at ``rate`` from a model's
    result (at rate 0: the trigger on the clean model)."""
    out = dict(arch=arch, attack=attack, rate=rate,
               seconds=result['seconds'])
    keys = dict(
        CBA=f'clean/{attack}/mIoU',
        PBA=f'triggered/{attack}/PBA',
        ASR=f'triggered/{attack}/ASR',
        ASR_recognised=f'triggered/{attack}/ASR_recognised',
        victim_recall=f'clean/{attack}/victim_recall')
    keys['clean/ASR'] = f'clean/{attack}/ASR'
    out.update({
        col: result[key]
        for col, key in keys.items() if key in result
    })
    return out


def results_table(results) -> str:
    return markdown_table(
        ['model', 'attack', 'rate %', *COLUMNS, 'train+test s'],
        [[r['arch'], r['attack'], f"{100 * r['rate']:g}",
          *(f'{r[c]:.2f}' if c in r else '–' for c in COLUMNS),
          f"{r['seconds']:.0f}"] for r in results],
        left=2)


def main():
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    results = []
    for arch in args.archs:
        for attack in args.attacks:
            for rate in args.rates:
                if rate == 0:
                    # One clean model for every attack.
                    result = run_one('clean', arch, args.attacks[0], 0.0,
                                     args)
                else:
                    result = run_one(f'{attack}_rate{rate:g}', arch, attack,
                                     rate, args)
                results.append(row(arch, attack, rate, result))
    write_results(args.work_dir, results, results_table(results))
    poison_rate_figure(results,
                       osp.join(args.work_dir, 'poison_rate_sweep.png'))


if __name__ == '__main__':
    main()
