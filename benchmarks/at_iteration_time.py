"""Cost of one adversarial-training iteration relative to (T+1) clean ones.

Builds the embedded EroSeg-AT config (``configs/eroseg``) with a real Runner
(model, optimizer wrapper, a training batch from its dataloader) and times
training iterations as the train loop runs them, without data loading: a
clean iteration is ``train_step``; an AT iteration is
:class:`AdversarialTrainingHook`'s ``before_train_iter`` (the ``T``-step
attack), ``train_step`` and ``after_train_iter``, for each mode. The variants
alternate within every repeat (medians over ``--repeats`` after a warm-up
round), so load changes on the machine hit them alike.

An AT iteration needs ``T`` attack steps plus the training step, so the
reference is ``(T + 1)`` clean iterations (goal: ratio at most 1.05);
``clean_adv`` also forwards and backwards the adversarial batch in training,
so its natural reference is ``(T + 2)`` clean iterations, shown too.

Example:
    python benchmarks/at_iteration_time.py --attack EroSeg --steps 3
"""
import argparse
import uuid

import torch
from mmengine.config import Config
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from mmbackdoor.apis import set_data_root
from seg_bench_utils import REPO
from timing import interleaved_medians, machine

CONFIG = (f'{REPO}/configs/eroseg/'
          'eroseg-at-3step_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
MODES = ('clean_adv', 'adversarial', 'half')


def fresh(batch: dict) -> dict:
    """A copy the hook and ``train_step`` may modify."""
    return dict(
        inputs=list(batch['inputs']),
        data_samples=[s.clone() for s in batch['data_samples']])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--attack', default='EroSeg')
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--data-root', default='data/embedded_seg')
    parser.add_argument('--work-dir', default='work_dirs/at_iteration_time')
    args = parser.parse_args()
    cfg = set_data_root(Config.fromfile(CONFIG), args.data_root)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.custom_hooks = []
    cfg.work_dir = args.work_dir
    cfg.experiment_name = f'at_iteration_time_{uuid.uuid4().hex[:8]}'
    runner = Runner.from_cfg(cfg)
    model = runner.model.train()
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    batch = next(iter(runner.build_dataloader(cfg.train_dataloader)))
    attack = dict(
        type=args.attack, eps=8, alpha=2.5 * 8 / args.steps,
        steps=args.steps)
    hooks = [
        HOOKS.build(
            dict(type='AdversarialTrainingHook', attack=attack, mode=mode))
        for mode in MODES
    ]

    def clean_iteration():
        model.train_step(fresh(batch), optim_wrapper)

    def at_iteration(hook):
        data = fresh(batch)
        hook.before_train_iter(runner, 0, data)
        model.train_step(data, optim_wrapper)
        hook.after_train_iter(runner, 0, data)

    torch.manual_seed(0)
    clean, *at_times = interleaved_medians(
        [clean_iteration] + [lambda h=h: at_iteration(h) for h in hooks],
        args.repeats)
    steps = args.steps
    print(f'Machine: {machine()}; embedded UNet-s4 FCN, batch '
          f'{len(batch["inputs"])} of 64x64, {args.attack} T={steps}; '
          f'medians of {args.repeats} repeats\n')
    print('| variant | s / iter | ÷ (T+1) clean | ÷ (T+2) clean |')
    print('| --- | ---: | ---: | ---: |')
    print(f'| clean | {clean:.4f} | | |')
    for mode, t in zip(MODES, at_times):
        print(f'| AT {mode} | {t:.4f} | {t / ((steps + 1) * clean):.3f} | '
              f'{t / ((steps + 2) * clean):.3f} |')


if __name__ == '__main__':
    main()
