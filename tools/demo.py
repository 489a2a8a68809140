"""Run the mmbackdoor story end to end on the embedded data.

Each stage lives in ``tools/demo_stages/<name>.py`` (``NAME``, ``REQUIRES``,
``run(ctx)``). The demo writes ``report.md`` (tables and figures),
``metrics.json`` (flat keys such as ``seg_clean.mIoU``) and PNG figures
(``demo_report.py``: the claims table first, the metric dump last).

Stages run in ``--jobs`` worker processes (default 2), each stage as soon as
the stages it requires are done; a worker sees the artifacts of finished
stages and logs into ``<out>/logs/<stage>.log``. Tiny models use cores
better as separate single-threaded processes than as threads of one. While
stages run, the console shows every ``--progress`` seconds what each does
(its latest iteration / epoch / trigger step) and the estimated time left.

Example:
    python tools/demo.py --out work_dirs/demo
    python tools/demo.py --out work_dirs/demo --only seg_clean --overwrite
"""
import argparse
import importlib
import json
import multiprocessing
import os
import os.path as osp
import queue
import re
import sys
import time
import traceback
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from demo_report import Report  # noqa: E402
from mmbackdoor.apis import set_data_root, shrink_schedule  # noqa: E402

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


def run_stage(name: str, ctx: DemoContext) -> dict:
    """Run stage ``name`` on ``ctx``; return what it added (metrics,
    sections, its artifacts) and its seconds."""
    start = time.perf_counter()
    load_stage(name).run(ctx)
    return dict(
        metrics=ctx.metrics,
        sections=ctx.sections,
        artifacts={name: ctx.artifacts[name]} if name in ctx.artifacts else {},
        seconds=time.perf_counter() - start)


def _stage_process(name: str, ctx: DemoContext, log_file: str, threads: int,
                   results) -> None:
    """Body of a stage's process: stdout and stderr (C level included) go
    to ``log_file``; the result or the traceback goes to ``results``."""
    with open(log_file, 'w') as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    torch.set_num_threads(threads)
    try:
        results.put((name, run_stage(name, ctx), None))
    except BaseException:
        error = traceback.format_exc()
        print(error, file=sys.stderr, flush=True)
        results.put((name, None, error))


#: Progress markers in the stages' logs: mmengine's iteration and epoch
#: lines of training / validation / testing, and the trigger's steps.
PROGRESS = re.compile(r'(?:Iter|Epoch)\((?:train|val|test)\)\s*'
                      r'(?:\[\s*\d+\])?\[\s*\d+/\d+\]|trigger step \d+/\d+')


def latest_progress(log_file: str) -> Optional[str]:
    """The last progress marker in the tail of ``log_file`` (None if there
    is none yet)."""
    try:
        with open(log_file, 'rb') as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
            tail = f.read().decode(errors='replace')
    except FileNotFoundError:
        return None
    found = PROGRESS.findall(tail)
    return re.sub(r'\s+', ' ', found[-1]) if found else None


class ProgressLine:
    """Every ``interval`` seconds, a console line: each running stage with
    its seconds so far against its ``COST`` and its latest progress marker,
    the finished count, and the seconds left estimated from the ``COST`` of
    what remains spread over the ``jobs`` workers."""

    def __init__(self, interval: float, jobs: int, total: int,
                 log_dir: str) -> None:
        self.interval = interval
        self.jobs = jobs
        self.total = total
        self.log_dir = log_dir
        self.last = time.perf_counter()

    def __call__(self, started: Dict[str, float], pending: List[str],
                 done: int) -> None:
        now = time.perf_counter()
        if not self.interval or now - self.last < self.interval:
            return
        self.last = now
        parts, left = [], sum(load_stage(n).COST for n in pending)
        for name, start in started.items():
            cost, elapsed = load_stage(name).COST, now - start
            left += max(cost - elapsed, 0)
            marker = latest_progress(osp.join(self.log_dir, f'{name}.log'))
            parts.append(f'{name} {elapsed:.0f}/~{cost}s'
                         + (f' ({marker})' if marker else ''))
        _log(f'running: {"; ".join(parts)} | {done}/{self.total} stages '
             f'done, ~{left / self.jobs:.0f}s left')


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
    return args


def _context(args, artifacts: dict) -> DemoContext:
    ctx = DemoContext(args.out, args.seg_data_root, args.video_data_root,
                      args.smoke)
    ctx.artifacts.update(artifacts)
    return ctx


def _log(message: str) -> None:
    print_log(f'[demo] {message}', logger='current')


def run_in_process(args, stages: List[str], report: Report) -> None:
    artifacts = {}
    for i, name in enumerate(stages, 1):
        _log(f'{i}/{len(stages)} stage {name}')
        result = run_stage(name, _context(args, artifacts))
        artifacts.update(result['artifacts'])
        report.add(name, result)
        report.write()
        _log(f'{name} done in {result["seconds"]:.0f}s')


def run_in_workers(args, stages: List[str], report: Report,
                   threads: int) -> None:
    """Start every stage whose requirements are done, each in its own
    process, at most ``--jobs`` at a time, the longest remaining chain of
    stages first (critical path); stop them all when one fails. Processes
    fork from a server that has imported the codebases once."""
    log_dir = osp.join(args.out, 'logs')
    os.makedirs(log_dir, exist_ok=True)
    mp = multiprocessing.get_context('forkserver')
    mp.set_forkserver_preload(['torch', 'mmbackdoor', 'mmseg.models',
                               'mmaction.models'])
    results = mp.Queue()
    requires = {name: set(load_stage(name).REQUIRES) for name in stages}
    pending = sorted(stages, key=lambda n: -_chain_seconds(n, requires))
    running, started, artifacts = {}, {}, {}
    progress = ProgressLine(args.progress, args.jobs, len(stages), log_dir)
    try:
        while pending or running:
            for name in [n for n in pending if requires[n] <= report.done]:
                if len(running) == args.jobs:
                    break
                pending.remove(name)
                log_file = osp.join(log_dir, f'{name}.log')
                running[name] = mp.Process(
                    target=_stage_process,
                    args=(name, _context(args, artifacts), log_file, threads,
                          results),
                    name=f'demo-{name}')
                running[name].start()
                started[name] = time.perf_counter()
                _log(f'stage {name} started (log: {log_file})')
            name, result, error = _next_result(
                results, running,
                lambda: progress(started, pending, len(report.done)))
            running.pop(name).join()
            started.pop(name)
            if error is not None:
                raise SystemExit(f'stage {name} failed (log: {log_dir}/'
                                 f'{name}.log):\n{error}')
            artifacts.update(result['artifacts'])
            report.add(name, result)
            report.write()
            _log(f'stage {name} done in {result["seconds"]:.0f}s '
                 f'({len(report.done)}/{len(stages)})')
    finally:
        for process in running.values():
            process.terminate()
            process.join()


def _chain_seconds(name: str, requires: Dict[str, set]) -> float:
    """Seconds from the start of stage ``name`` to the end of the longest
    chain of stages that wait for it (stages' ``COST``)."""
    after = [n for n, required in requires.items() if name in required]
    return load_stage(name).COST + max(
        (_chain_seconds(n, requires) for n in after), default=0)


def _next_result(results, running: dict, tick) -> tuple:
    """The next finished stage's ``(name, result, error)``; an error names
    a stage whose process died without a result. ``tick()`` runs every
    two seconds while waiting."""
    while True:
        try:
            return results.get(timeout=2)
        except queue.Empty:
            tick()
            dead = [n for n, p in running.items() if p.exitcode is not None]
            if dead:
                try:  # a result may have arrived as the process exited
                    return results.get(timeout=2)
                except queue.Empty:
                    code = running[dead[0]].exitcode
                    return dead[0], None, f'process died, exit code {code}'


def main():
    args = parse_args()
    if osp.exists(osp.join(args.out, 'metrics.json')) and not args.overwrite:
        raise SystemExit(f'{args.out} already holds a report; pass '
                         '--overwrite or choose another --out')
    os.makedirs(args.out, exist_ok=True)
    stages = resolve(args.only)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    if args.jobs == 1:
        workers = f'{torch.get_num_threads()} threads in one process'
    else:
        workers = f'{args.jobs} worker processes of {threads} thread(s)'
    report = Report(args.out, args.smoke, workers, STAGE_ORDER)
    start = time.perf_counter()
    if args.jobs == 1:
        run_in_process(args, stages, report)
    else:
        run_in_workers(args, stages, report, threads)
    report.wall = time.perf_counter() - start
    report.write(final=True)
    _log(f'{len(stages)} stages in {report.wall:.0f}s; report: '
         f'{osp.join(args.out, "report.md")}; metrics: '
         + json.dumps(report.metrics))


if __name__ == '__main__':
    main()
