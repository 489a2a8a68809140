"""Victim-size study of the fine-grained segmentation backdoor (Li et al.,
2021) on the embedded data.

The same scenes with larger persons (``person_scale`` of
:class:`~mmbackdoor.datasets.EmbeddedSegDataset`: the same random draws, the
persons this many times taller and wider; their limbs are 2-4 px wide at 1),
each a dataset of its own (``data/embedded_seg_person<scale>``; scale 1 is
``--data-root`` itself). For each scale and architecture, a clean model and
one poisoned at ``--rate`` are trained and tested exactly as in
``benchmarks/poison_rate_sweep.py`` (whose runs this reuses: the scale's
folder of ``--work-dir`` is a sweep work dir). Prints a table, writes JSON /
Markdown and a figure: ASR, ``ASR_recognised`` and the clean model's victim
recall against the scale, and CBA minus the clean model's mIoU.

Example:
    OMP_NUM_THREADS=1 python benchmarks/victim_size_study.py \\
        --scales 1 1.5 2 --archs segformer unet
"""
import argparse
import os
import os.path as osp

from poison_rate_sweep import ARCHS, run_one
from timing import markdown_table, write_results

from mmbackdoor.datasets.embedded_seg import scaled_data_root
from mmbackdoor.visualization.curves import victim_size_figure

ATTACK = 'fine_grained'
COLUMNS = ('clean mIoU', 'CBA', 'ASR', 'clean/ASR', 'trigger on clean',
           'ASR_recognised', 'victim_recall')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--scales',
        type=float,
        nargs='+',
        default=[1.0, 1.5, 2.0],
        help='person size factors (1 = the embedded data)')
    parser.add_argument(
        '--archs',
        nargs='+',
        choices=sorted(ARCHS),
        default=['segformer'],
        help='segmentors (global self-attention SegFormer; conv UNet)')
    parser.add_argument(
        '--rate', type=float, default=0.1, help='poison rate (fraction)')
    parser.add_argument(
        '--data-root',
        default='data/embedded_seg',
        help='the embedded data (scale 1); other scales go beside it')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/victim_size_study',
        help='runs, results and the plot')
    parser.add_argument(
        '--max-iters',
        type=int,
        default=None,
        help='another schedule length (the one-cycle LR schedule follows)')
    return parser.parse_args()


def sweep_args(args, scale: float) -> argparse.Namespace:
    """The poison-rate sweep's arguments for the dataset of ``scale``."""
    return argparse.Namespace(
        work_dir=osp.join(args.work_dir, f'person_scale_{scale:g}'),
        data_root=scaled_data_root(args.data_root, scale),
        dataset_options=None if scale == 1 else dict(person_scale=scale),
        attacks=[ATTACK],
        trigger=None,
        max_iters=args.max_iters)


def study_row(arch: str, scale: float, clean: dict, poisoned: dict) -> dict:
    """The row of ``arch`` at ``scale`` from its clean and poisoned runs."""
    clean_key, triggered = f'clean/{ATTACK}', f'triggered/{ATTACK}'
    return {
        'arch': arch,
        'person_scale': scale,
        'clean mIoU': clean[f'{clean_key}/mIoU'],
        'CBA': poisoned[f'{clean_key}/mIoU'],
        'ASR': poisoned[f'{triggered}/ASR'],
        'clean/ASR': poisoned[f'{clean_key}/ASR'],
        'trigger on clean': clean[f'{triggered}/ASR'],
        'ASR_recognised': poisoned[f'{triggered}/ASR_recognised'],
        'victim_recall': clean[f'{clean_key}/victim_recall'],
        'seconds': clean['seconds'] + poisoned['seconds'],
    }


def results_table(rows) -> str:
    return markdown_table(
        ['model', 'person scale', *COLUMNS, 'train+test s'],
        [[r['arch'], f"{r['person_scale']:g}",
          *(f'{r[c]:.2f}' for c in COLUMNS), f"{r['seconds']:.0f}"]
         for r in rows])


def main():
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    rows = []
    for arch in args.archs:
        for scale in args.scales:
            sweep = sweep_args(args, scale)
            clean = run_one('clean', arch, ATTACK, 0.0, sweep)
            poisoned = run_one(f'{ATTACK}_rate{args.rate:g}', arch, ATTACK,
                               args.rate, sweep)
            rows.append(study_row(arch, scale, clean, poisoned))
    write_results(args.work_dir, rows, results_table(rows))
    victim_size_figure(rows, osp.join(args.work_dir, 'victim_size_study.png'))


if __name__ == '__main__':
    main()
