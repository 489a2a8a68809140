"""Cost of one attack step relative to one forward+backward of the model.

One step of PGD / SegPGD / CosPGD / EroSeg (``steps`` steps timed, divided
by ``steps``) on a test batch, against two references on the same batch and
model in eval mode:

- ``fwd+bwd (params)``: ``mode='loss'`` forward and a backward filling every
  parameter's gradient (a training-style forward+backward; the goal is a
  ratio of at most 1.05),
- ``fwd+bwd (input)``: the same inference path as the attack with a
  gradient w.r.t. the input only, i.e. the unavoidable part of an attack
  step; the ratio to it is the attack's own overhead (weighting, projection,
  statistics, copies).

All are timed in one process on identical inputs, alternating, medians over
``--repeats`` after a warm-up round. Weights are random (timing does not
depend on them).

Example:
    python benchmarks/attack_step_time.py --repeats 5
"""
import argparse

import torch

from mmbackdoor.registry import ATTACKS
from seg_bench_utils import MODELS_TO_TIME, build_segmentor, random_batch
from timing import interleaved_medians, machine

ATTACK_TYPES = ('PGD', 'SegPGD', 'CosPGD', 'EroSeg')


def measure(config: str, size: int, batch_size: int, steps: int,
            repeats: int) -> dict:
    model = build_segmentor(config, size)
    num_classes = model.decode_head.num_classes
    batch = random_batch(batch_size, size, num_classes)

    def params_fwd_bwd():
        model.zero_grad(set_to_none=True)
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    def input_fwd_bwd():
        inputs = [x.float().requires_grad_() for x in batch['inputs']]
        data = model.data_preprocessor(dict(batch, inputs=inputs), False)
        outs = model(**data, mode='predict')
        logits = torch.stack([o.seg_logits.data for o in outs])
        labels = torch.stack([o.gt_sem_seg.data[0] for o in outs])
        loss = torch.nn.functional.cross_entropy(
            logits, labels, ignore_index=255)
        torch.autograd.grad(loss, inputs)

    attacks = [
        ATTACKS.build(dict(type=name, eps=8, alpha=2, steps=steps))
        for name in ATTACK_TYPES
    ]
    fns = [params_fwd_bwd, input_fwd_bwd] + [
        (lambda a=a: a(model, batch)) for a in attacks
    ]
    times = interleaved_medians(fns, repeats)
    model.zero_grad(set_to_none=True)
    params_ref, input_ref = times[:2]
    steps_time = {
        name: t / steps
        for name, t in zip(ATTACK_TYPES, times[2:])
    }
    return params_ref, input_ref, steps_time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--models',
        nargs='+',
        choices=sorted(MODELS_TO_TIME),
        default=list(MODELS_TO_TIME),
        metavar='MODEL')
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f'Machine: {machine()}; {args.steps} steps per attack run, '
          f'medians of {args.repeats} repeats\n')
    print('| model | attack | s / step | ÷ fwd+bwd (params) | '
          '÷ fwd+bwd (input) |')
    print('| --- | --- | ---: | ---: | ---: |')
    for name in args.models:
        config, size, batch_size = MODELS_TO_TIME[name]
        params_ref, input_ref, steps_time = measure(
            config, size, batch_size, args.steps, args.repeats)
        label = f'{name}, batch {batch_size}'
        print(f'| {label} | fwd+bwd (params) | {params_ref:.4f} | 1 | |')
        print(f'| {label} | fwd+bwd (input) | {input_ref:.4f} | '
              f'{input_ref / params_ref:.3f} | 1 |')
        for attack, step in steps_time.items():
            print(f'| {label} | {attack} | {step:.4f} | '
                  f'{step / params_ref:.3f} | {step / input_ref:.3f} |')


if __name__ == '__main__':
    main()
