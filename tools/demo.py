"""Run the mmbackdoor story end to end on the embedded data.

Each stage lives in ``tools/demo_stages/<name>.py`` (``NAME``, ``REQUIRES``,
``run(ctx)``). The demo writes ``report.md`` (tables and figures),
``metrics.json`` (flat keys such as ``seg_clean.mIoU``) and PNG figures.

Example:
    python tools/demo.py --out work_dirs/demo
    python tools/demo.py --out work_dirs/demo --only seg_clean --overwrite
"""
import argparse
import importlib
import json
import os
import os.path as osp
import platform
import sys
import time
from datetime import datetime
from typing import Dict, List

import torch
from mmengine.config import Config
from mmengine.logging import print_log

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import mmbackdoor  # noqa: E402
from mmbackdoor.apis import set_data_root, shrink_schedule  # noqa: E402

#: Stages in the order they run.
STAGE_ORDER = ['seg_clean', 'video_clean']


class DemoContext:
    """What a stage reads and writes.

    Args:
        out_dir (str): Folder of the report, metrics and figures.
        seg_data_root (str): Root of the embedded segmentation data.
        video_data_root (str): Root of the embedded video data.
        smoke (bool): Cut every training to a few iterations (checks the
            wiring, not the numbers). Defaults to False.
    """

    def __init__(self,
                 out_dir: str,
                 seg_data_root: str,
                 video_data_root: str,
                 smoke: bool = False) -> None:
        self.out_dir = out_dir
        self.smoke = smoke
        self.seg_data_root = seg_data_root
        self.video_data_root = video_data_root
        self.metrics: Dict[str, float] = {}
        self.artifacts: Dict[str, dict] = {}
        self.sections: List[str] = []

    def prepare(self, cfg: Config, data_root: str) -> Config:
        """Point ``cfg`` at ``data_root``; in smoke mode also cut its
        schedule. Every stage passes each config it trains through here."""
        set_data_root(cfg, data_root)
        if self.smoke:
            shrink_schedule(cfg)
        return cfg

    def work_dir(self, name: str) -> str:
        """A scratch folder for stage ``name`` (logs, checkpoints)."""
        path = osp.join(self.out_dir, 'work_dirs', name)
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


def load_stage(name: str):
    return importlib.import_module(f'demo_stages.{name}')


def resolve(only: List[str]) -> List[str]:
    """Stages to run: those asked for plus what they require, in order."""
    unknown = sorted(set(only) - set(STAGE_ORDER))
    if unknown:
        raise SystemExit(f'--only: unknown stage(s) {unknown}; '
                         f'allowed: {STAGE_ORDER}')
    wanted = set()

    def add(name):
        if name not in wanted:
            wanted.add(name)
            for dep in load_stage(name).REQUIRES:
                add(dep)

    for name in only:
        add(name)
    return [name for name in STAGE_ORDER if name in wanted]


def write_report(ctx: DemoContext, timings: Dict[str, float]) -> None:
    with open(osp.join(ctx.out_dir, 'metrics.json'), 'w') as f:
        json.dump(dict(sorted(ctx.metrics.items())), f, indent=2)
    lines = [
        '# mmbackdoor demo report', '',
        f'Generated {datetime.now():%Y-%m-%d %H:%M} with mmbackdoor '
        f'{mmbackdoor.__version__}, torch {torch.__version__}, on '
        f'{platform.processor() or platform.machine()} with '
        f'{torch.get_num_threads()} threads'
        + (' (SMOKE RUN: schedules cut, numbers meaningless)'
           if ctx.smoke else '') + '.', '',
        '| stage | seconds |', '| --- | ---: |'
    ]
    lines += [f'| {name} | {sec:.1f} |' for name, sec in timings.items()]
    lines += [f'| **total** | {sum(timings.values()):.1f} |', '']
    lines += ['| metric | value |', '| --- | ---: |']
    lines += [f'| `{k}` | {v} |' for k, v in sorted(ctx.metrics.items())]
    lines.append('')
    with open(osp.join(ctx.out_dir, 'report.md'), 'w') as f:
        f.write('\n'.join(lines + ctx.sections))


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
        '--seg-data-root',
        default='data/embedded_seg',
        help='embedded segmentation data (generated if missing)')
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
    return parser.parse_args()


def main():
    args = parse_args()
    if osp.exists(osp.join(args.out, 'metrics.json')) and not args.overwrite:
        raise SystemExit(f'{args.out} already holds a report; pass '
                         '--overwrite or choose another --out')
    os.makedirs(args.out, exist_ok=True)
    ctx = DemoContext(args.out, args.seg_data_root, args.video_data_root,
                      args.smoke)
    stages = resolve(args.only)
    timings = {}
    for i, name in enumerate(stages, 1):
        print_log(f'[demo {i}/{len(stages)}] stage {name}', logger='current')
        start = time.perf_counter()
        load_stage(name).run(ctx)
        timings[name] = time.perf_counter() - start
        write_report(ctx, timings)
        print_log(
            f'[demo {i}/{len(stages)}] {name} done in '
            f'{timings[name]:.0f}s', logger='current')
    print_log(
        f'report: {osp.join(args.out, "report.md")}; metrics: '
        + json.dumps(ctx.metrics), logger='current')


if __name__ == '__main__':
    main()
