"""Run the mmbackdoor story end to end on the embedded data.

Each stage lives in ``tools/demo_stages/<name>.py`` (``NAME``, ``REQUIRES``,
``run(ctx)``). The demo writes ``report.md`` (tables and figures),
``metrics.json`` (flat keys such as ``seg_clean.mIoU``) and PNG figures
(``demo_report.py``: the claims table first, the metric dump last).

Stages run in ``--jobs`` worker processes (default 2; ``demo_scheduler.py``),
each stage as soon as the stages it requires are done; a worker sees the
artifacts of finished stages and logs into ``<out>/logs/<stage>.log``. Tiny
models use cores better as separate single-threaded processes than as threads
of one. While stages run, the console shows every ``--progress`` seconds what
each does (its latest iteration / epoch / trigger step) and the estimated
time left.

Example:
    python tools/demo.py --out work_dirs/demo
    python tools/demo.py --out work_dirs/demo --only seg_clean --overwrite
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

import torch
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from demo_report import Report  # noqa: E402
from demo_scheduler import (log, resolve, run_in_process,  # noqa: E402
                            run_in_workers)
from mmbackdoor.apis import (set_data_root, set_dataset_options,  # noqa: E402
                             shrink_schedule)
from mmbackdoor.datasets.embedded_seg import (  # noqa: E402
    MAX_PERSON_SCALE, scaled_data_root)

#: Every stage, in the order of the report.
STAGE_ORDER = [
    'seg_clean', 'seg_fine_grained', 'seg_image_level', 'seg_control_clean',
    'seg_control_fine_grained', 'seg_backdoor', 'robust', 'video_clean',
    'video_trigger', 'video_clean_label', 'video_no_enhance',
    'video_random_patch', 'video_backdoor'
]


class DemoContext:
    """What a stage reads and writes.

    A stage finds the ``artifacts`` of the stages it requires (keyed by
    stage name) and stores its own under its ``NAME``; they must pickle
    (configs, paths, numbers), as stages may run in other processes.
    ``metrics`` and ``sections`` collect what the stage adds to the report.

    Args:
        out_dir (str): Folder of the report, metrics and figures.
        seg_data_root (str): Root of the embedded segmentation data.
        video_data_root (str): Root of the embedded video data.
        smoke (bool): Cut every training to a few iterations (checks the
            wiring, not the numbers). Defaults to False.
        seg_person_scale (float): ``person_scale`` of the embedded
            segmentation data (the persons' size factor). Defaults to 1.
    """

    def __init__(self,
                 out_dir: str,
                 seg_data_root: str,
                 video_data_root: str,
                 smoke: bool = False,
                 seg_person_scale: float = 1.) -> None:
        self.out_dir = out_dir
        self.smoke = smoke
        self.seg_data_root = seg_data_root
        self.seg_person_scale = seg_person_scale
        self.video_data_root = video_data_root
        self.metrics: Dict[str, float] = {}
        self.artifacts: Dict[str, dict] = {}
        self.sections: List[str] = []

    def seg_data(self, cfg: Config) -> Config:
        """Point every dataset of the segmentation config ``cfg`` at the
        demo's segmentation data (root and ``person_scale``), in place."""
        set_data_root(cfg, self.seg_data_root)
        return set_dataset_options(cfg, person_scale=self.seg_person_scale)

    def prepare(self, cfg: Config, data_root: Optional[str] = None) -> Config:
        """Point ``cfg`` at ``data_root`` (None: the segmentation data, see
        :meth:`seg_data`); in smoke mode also cut its schedule. Every stage
        passes each config it trains through here."""
        if data_root is None:
            self.seg_data(cfg)
        else:
            set_data_root(cfg, data_root)
        if self.smoke:
            shrink_schedule(cfg)
        return cfg

    def work_dir(self, name: str) -> str:
        """A scratch folder for stage ``name`` (logs, checkpoints), as an
        absolute path: runners resolve their own folders to absolute ones."""
        path = osp.abspath(osp.join(self.out_dir, 'work_dirs', name))
        os.makedirs(path, exist_ok=True)
        return path

    def figure(self, name: str) -> str:
        """The path a stage saves figure ``name`` (PNG) to."""
        os.makedirs(osp.join(self.out_dir, 'figures'), exist_ok=True)
        return osp.join(self.out_dir, 'figures', f'{name}.png')

    def section(self, title: str, markdown: str, figures=()) -> None:
        """Add a report section; ``figures`` are names given to
        :meth:`figure` and are embedded below the text."""
        parts = [f'## {title}', '', markdown.strip(), '']
        parts += [f'![{name}](figures/{name}.png)\n' for name in figures]
        self.sections.append('\n'.join(parts))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--out', default='work_dirs/demo', help='report folder')
    parser.add_argument(
        '--only',
        nargs='+',
        default=STAGE_ORDER,
        metavar='STAGE',
        help=f'stages to run (with what they require): {STAGE_ORDER}')
    parser.add_argument(
        '--jobs',
        type=int,
        default=2,
        help='stages run at once, each in its own process with '
        'cpu_count // jobs threads; 1 runs them in this process')
    parser.add_argument(
        '--seg-person-scale',
        type=float,
        default=2.,
        help='size factor of the persons in the embedded segmentation data '
        '(1: the configs\' default data; 2: the persons of '
        'configs/_base_/datasets/embedded_seg_person2.py)')
    parser.add_argument(
        '--seg-data-root',
        help='embedded segmentation data (generated if missing; default: '
        'data/embedded_seg, with persons scaled data/embedded_seg_person'
        '<scale>)')
    parser.add_argument(
        '--video-data-root',
        default='data/embedded_video',
        help='embedded video data (generated if missing)')
    parser.add_argument(
        '--smoke',
        action='store_true',
        help='cut every training to a few iterations (wiring check)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='allow writing into an existing report folder')
    parser.add_argument(
        '--progress',
        type=float,
        default=30,
        help='seconds between two progress lines (0: none)')
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    if args.progress < 0:
        parser.error(f'--progress must be >= 0, got {args.progress}')
    if not 0 < args.seg_person_scale <= MAX_PERSON_SCALE:  # also nan
        parser.error(f'--seg-person-scale must be in (0, {MAX_PERSON_SCALE:g}]'
                     f', got {args.seg_person_scale}')
    if args.seg_data_root is None:
        args.seg_data_root = scaled_data_root('data/embedded_seg',
                                              args.seg_person_scale)
    return args


def main():
    args = parse_args()
    if osp.exists(osp.join(args.out, 'metrics.json')) and not args.overwrite:
        raise SystemExit(f'{args.out} already holds a report; pass '
                         '--overwrite or choose another --out')
    os.makedirs(args.out, exist_ok=True)
    stages = resolve(args.only, STAGE_ORDER)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    if args.jobs == 1:
        workers = f'{torch.get_num_threads()} threads in one process'
    else:
        workers = f'{args.jobs} worker processes of {threads} thread(s)'
    report = Report(args.out, args.smoke, workers, STAGE_ORDER)
    start = time.perf_counter()

    def make_context(artifacts: dict) -> DemoContext:
        ctx = DemoContext(args.out, args.seg_data_root, args.video_data_root,
                          args.smoke, args.seg_person_scale)
        ctx.artifacts.update(artifacts)
        return ctx

    if args.jobs == 1:
        run_in_process(make_context, stages, report)
    else:
        run_in_workers(make_context, stages, report, args.jobs, threads,
                       osp.join(args.out, 'logs'), args.progress)
    report.wall = time.perf_counter() - start
    report.write(final=True)
    log(f'{len(stages)} stages in {report.wall:.0f}s; report: '
        f'{osp.join(args.out, "report.md")}; metrics: ' +
        json.dumps(report.metrics))


if __name__ == '__main__':
    main()
