"""The demo's scheduler: stages resolved from their ``REQUIRES``, run one
after another in this process or in worker processes (in the order that
the stages' ``COST`` estimates say ends soonest, each stage's output in its
own log), with a progress line from the stages' logs. ``tools/demo.py`` is
the command line over it; ``demo_report.py`` writes the report."""
import importlib
import multiprocessing
import os
import os.path as osp
import queue
import re
import sys
import time
import traceback
from typing import Callable, Dict, List, Optional, Sequence, Set

import torch
from mmengine.logging import print_log


def load_stage(name: str):
    return importlib.import_module(f'demo_stages.{name}')


def resolve(only: Sequence[str], order: Sequence[str]) -> List[str]:
    """Stages to run: those asked for plus what they require, in
    ``order``."""
    unknown = sorted(set(only) - set(order))
    if unknown:
        raise SystemExit(f'--only: unknown stage(s) {unknown}; '
                         f'allowed: {list(order)}')
    wanted = set()

    def add(name):
        if name not in wanted:
            wanted.add(name)
            for dep in load_stage(name).REQUIRES:
                add(dep)

    for name in only:
        add(name)
    return [name for name in order if name in wanted]


def run_stage(name: str, ctx) -> dict:
    """Run stage ``name`` on ``ctx``; return what it added (metrics,
    sections, its artifacts) and its seconds."""
    start = time.perf_counter()
    load_stage(name).run(ctx)
    return dict(
        metrics=ctx.metrics,
        sections=ctx.sections,
        artifacts={name: ctx.artifacts[name]} if name in ctx.artifacts else {},
        seconds=time.perf_counter() - start)


def _stage_process(name: str, ctx, log_file: str, threads: int,
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
    the finished count, and the seconds left as planned (:func:`plan`)."""

    def __init__(self, interval: float, jobs: int, requires: Dict[str, set],
                 cost: Dict[str, float], log_dir: str) -> None:
        self.interval = interval
        self.jobs = jobs
        self.requires = requires
        self.cost = cost
        self.log_dir = log_dir
        self.last = time.perf_counter()

    def __call__(self, started: Dict[str, float], pending: List[str],
                 done: Set[str]) -> None:
        now = time.perf_counter()
        if not self.interval or now - self.last < self.interval:
            return
        self.last = now
        parts = []
        for name, start in started.items():
            marker = latest_progress(osp.join(self.log_dir, f'{name}.log'))
            parts.append(f'{name} {now - start:.0f}/~{self.cost[name]}s'
                         + (f' ({marker})' if marker else ''))
        left = max(plan(pending, self.requires, self.cost, done,
                        seconds_left(started, self.cost, now),
                        self.jobs).values(), default=0)
        log(f'running: {"; ".join(parts)} | {len(done)}/{len(self.requires)} '
            f'stages done, ~{left:.0f}s left')


def log(message: str) -> None:
    print_log(f'[demo] {message}', logger='current')


def run_in_process(make_context: Callable[[dict], object],
                   stages: List[str], report) -> None:
    """Run ``stages`` one after another in this process; each gets
    ``make_context(artifacts so far)``; ``report`` is written after each."""
    artifacts = {}
    for i, name in enumerate(stages, 1):
        log(f'{i}/{len(stages)} stage {name}')
        result = run_stage(name, make_context(artifacts))
        artifacts.update(result['artifacts'])
        report.add(name, result)
        report.write()
        log(f'{name} done in {result["seconds"]:.0f}s')


def run_in_workers(make_context: Callable[[dict], object],
                   stages: List[str], report, jobs: int, threads: int,
                   log_dir: str, progress_interval: float) -> None:
    """Start every stage whose requirements are done, each in its own
    process of ``threads`` threads, at most ``jobs`` at a time, in the
    order :func:`next_stage` picks; stop them all when one fails. Processes
    fork from a server that has imported the codebases once; stage ``NAME``
    logs into ``log_dir/NAME.log``."""
    os.makedirs(log_dir, exist_ok=True)
    mp = multiprocessing.get_context('forkserver')
    mp.set_forkserver_preload(['torch', 'mmbackdoor', 'mmseg.models',
                               'mmaction.models'])
    results = mp.Queue()
    requires = {name: set(load_stage(name).REQUIRES) for name in stages}
    cost = {name: load_stage(name).COST for name in stages}
    pending = list(stages)
    running, started, artifacts = {}, {}, {}
    progress = ProgressLine(progress_interval, jobs, requires, cost, log_dir)
    try:
        while pending or running:
            while len(running) < jobs:
                name = next_stage(
                    pending, requires, cost, report.done,
                    seconds_left(started, cost, time.perf_counter()), jobs)
                if name is None:
                    break
                pending.remove(name)
                log_file = osp.join(log_dir, f'{name}.log')
                running[name] = mp.Process(
                    target=_stage_process,
                    args=(name, make_context(artifacts), log_file, threads,
                          results),
                    name=f'demo-{name}')
                running[name].start()
                started[name] = time.perf_counter()
                log(f'stage {name} started (log: {log_file})')
            name, result, error = _next_result(
                results, running,
                lambda: progress(started, pending, report.done))
            running.pop(name).join()
            started.pop(name)
            if error is not None:
                raise SystemExit(f'stage {name} failed (log: {log_dir}/'
                                 f'{name}.log):\n{error}')
            artifacts.update(result['artifacts'])
            report.add(name, result)
            report.write()
            log(f'stage {name} done in {result["seconds"]:.0f}s '
                f'({len(report.done)}/{len(stages)})')
    finally:
        for process in running.values():
            process.terminate()
            process.join()


def seconds_left(started: Dict[str, float], cost: Dict[str, float],
                 now: float) -> Dict[str, float]:
    """Seconds each running stage (started at ``started[name]``) still
    needs by its ``cost``; 0 once it has run longer."""
    return {name: max(cost[name] - (now - start), 0.)
            for name, start in started.items()}


def chain_seconds(name: str, requires: Dict[str, set],
                  cost: Dict[str, float]) -> float:
    """Seconds from the start of stage ``name`` to the end of the longest
    chain of stages that wait for it."""
    after = [n for n, required in requires.items() if name in required]
    return cost[name] + max(
        (chain_seconds(n, requires, cost) for n in after), default=0)


def longest_chain(pending: Sequence[str], requires: Dict[str, set],
                  cost: Dict[str, float], done: Set[str],
                  remaining: Dict[str, float], jobs: int) -> Optional[str]:
    """The ready stage with the longest chain (critical path); None if no
    stage is ready."""
    ready = [n for n in pending if requires[n] <= done]
    return max(ready, key=lambda n: chain_seconds(n, requires, cost),
               default=None)


def simulate(pending: Sequence[str], requires: Dict[str, set],
             cost: Dict[str, float], done: Set[str],
             remaining: Dict[str, float], jobs: int,
             pick: Callable = longest_chain) -> Dict[str, float]:
    """Seconds from now until each pending or running stage ends when
    every stage takes its ``cost``, the running ones need ``remaining``
    more seconds, and ``pick`` chooses the stage a free worker starts."""
    pending, done = list(pending), set(done)
    running, ends, now = dict(remaining), {}, 0.
    while pending or running:
        while len(running) < jobs:
            name = pick(pending, requires, cost, done,
                        {n: end - now for n, end in running.items()}, jobs)
            if name is None:
                break
            pending.remove(name)
            running[name] = now + cost[name]
        if not running:
            raise ValueError(f'stages {pending} wait for stages that are '
                             'neither done nor planned')
        now = min(running.values())
        for name in [n for n, end in running.items() if end == now]:
            ends[name] = running.pop(name)  # all that end now free a worker
            done.add(name)
    return ends


def makespan(pending: Sequence[str], requires: Dict[str, set],
             cost: Dict[str, float], done: Set[str],
             remaining: Dict[str, float], jobs: int) -> float:
    """Seconds until every stage is done, the longest chain first."""
    return max(simulate(pending, requires, cost, done, remaining, jobs
                        ).values(), default=0.)


def next_stage(pending: Sequence[str], requires: Dict[str, set],
               cost: Dict[str, float], done: Set[str],
               remaining: Dict[str, float], jobs: int) -> Optional[str]:
    """The ready stage to start now on a free worker: the one after which
    the rest of the run, planned longest chain first (:func:`makespan`),
    ends soonest; among equals the longest chain. None if no stage is
    ready. Looking one decision ahead packs the short stages at the end
    onto both workers, which the longest-chain rule alone leaves to one."""
    ready = [n for n in pending if requires[n] <= done]
    if not ready:
        return None

    def planned_end(name):
        rest = [n for n in pending if n != name]
        end = makespan(rest, requires, cost, done,
                       dict(remaining, **{name: cost[name]}), jobs)
        # ends a rounding error apart are equal
        return round(end, 6), -chain_seconds(name, requires, cost)

    return min(ready, key=planned_end)


def plan(pending: Sequence[str], requires: Dict[str, set],
         cost: Dict[str, float], done: Set[str],
         remaining: Dict[str, float], jobs: int) -> Dict[str, float]:
    """When each stage ends, in seconds from now, if :func:`next_stage`
    picks the order and every stage takes its ``cost``."""
    return simulate(pending, requires, cost, done, remaining, jobs,
                    next_stage)


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
