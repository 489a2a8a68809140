"""Helpers shared by the benchmark scripts: interleaved timing, the machine
line, a study's Markdown table and results files."""
import json
import os.path as osp
import platform
import time
from typing import Callable, List, Sequence

import numpy as np
import torch


def interleaved_medians(fns: Sequence[Callable], repeats: int) -> List[float]:
    """Median run time of each function; the functions alternate within
    every repeat so that load changes on the machine hit them alike. The
    first round is a warm-up."""
    times = [[] for _ in fns]
    for i in range(repeats + 1):
        for fn, record in zip(fns, times):
            start = time.perf_counter()
            fn()
            if i:
                record.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def machine() -> str:
    return (f'{platform.processor() or platform.machine()}, '
            f'{torch.get_num_threads()} torch threads, torch '
            f'{torch.__version__}')


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   left: int = 1) -> str:
    """A Markdown table of ``header`` and ``rows`` (cells as text); the first
    ``left`` columns are left-aligned, the others right-aligned."""
    align = ['---'] * left + ['---:'] * (len(header) - left)
    return '\n'.join('| ' + ' | '.join(cells) + ' |'
                     for cells in [header, align, *rows])


def write_results(work_dir: str, rows: list, table: str) -> None:
    """Print the machine line and ``table``; store ``rows`` as
    ``results.json`` and ``table`` as ``results.md`` in ``work_dir``."""
    print(f'Machine: {machine()}\n')
    print(table)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(table + '\n')
