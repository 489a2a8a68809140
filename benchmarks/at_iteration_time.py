"""Cost of one adversarial-training iteration relative to (T+1) clean ones.

Trains the embedded EroSeg-AT config (``configs/eroseg``) with a real Runner
and times whole training iterations — the ``before_train_iter`` hooks
(where :class:`AdversarialTrainingHook` crafts the attack) and
``train_step``, not data loading — for the clean baseline
(no hook) and each AT mode with a ``T``-step attack. An AT iteration needs
``T`` attack steps plus the training step(s), so the reference is
``(T + 1)`` clean iterations (goal: ratio at most 1.05); ``clean_adv`` also
forwards and backwards the adversarial batch in training, so its natural
reference is ``(T + 2)`` clean iterations, shown too. Medians over
``--iters`` iterations after ``--warmup``.

Example:
    python benchmarks/at_iteration_time.py --attack EroSeg --steps 3
"""
import argparse
import copy
import time
import uuid

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmbackdoor.engine.hooks  # noqa: F401
from mmbackdoor.apis import set_data_root
from seg_bench_utils import REPO, machine

CONFIG = (f'{REPO}/configs/eroseg/'
          'eroseg-at-3step_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
MODES = ('clean_adv', 'adversarial', 'half')


class IterTimer(Hook):
    """Wall time of every iteration, from before the ``before_train_iter``
    hooks (it has the highest priority) to the end of ``train_step``."""

    def __init__(self):
        self.times = []
        self._start = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.times.append(time.perf_counter() - self._start)


def iteration_time(cfg: Config, hook: dict, work_dir: str, warmup: int,
                   iters: int) -> float:
    cfg = copy.deepcopy(cfg)
    cfg.custom_hooks = [hook] if hook else []
    cfg.work_dir = work_dir
    cfg.experiment_name = f'at_iteration_time_{uuid.uuid4().hex[:8]}'
    total = warmup + iters
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=total, val_interval=total + 1)
    cfg.param_scheduler[0].total_steps = total + 1
    cfg.default_hooks.checkpoint.interval = total + 1
    cfg.default_hooks.logger.interval = total + 1
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = Runner.from_cfg(cfg)
    timer = IterTimer()
    runner.register_hook(timer, priority='VERY_HIGH')
    runner.train()
    return float(np.median(timer.times[warmup:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--attack', default='EroSeg')
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--data-root', default='data/embedded_seg')
    parser.add_argument('--work-dir', default='work_dirs/at_iteration_time')
    args = parser.parse_args()
    cfg = set_data_root(Config.fromfile(CONFIG), args.data_root)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    attack = dict(type=args.attack, eps=8, alpha=2.5 * 8 / args.steps,
                  steps=args.steps)
    torch.manual_seed(0)
    clean = iteration_time(cfg, None, args.work_dir, args.warmup, args.iters)
    steps = args.steps
    print(f'Machine: {machine()}; embedded UNet-s4 FCN, batch '
          f'{cfg.train_dataloader.batch_size} of 64x64, {args.attack} T='
          f'{steps}; medians of {args.iters} iterations\n')
    print('| variant | s / iter | ÷ (T+1) clean | ÷ (T+2) clean |')
    print('| --- | ---: | ---: | ---: |')
    print(f'| clean | {clean:.4f} | | |')
    for mode in MODES:
        hook = dict(type='AdversarialTrainingHook', attack=attack, mode=mode)
        t = iteration_time(cfg, hook, args.work_dir, args.warmup, args.iters)
        print(f'| AT {mode} | {t:.4f} | {t / ((steps + 1) * clean):.3f} | '
              f'{t / ((steps + 2) * clean):.3f} |')


if __name__ == '__main__':
    main()
