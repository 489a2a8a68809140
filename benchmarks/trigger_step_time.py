"""Cost of one universal-trigger step relative to one forward+backward.

A step of :func:`mmbackdoor.attacks.video.optimize_universal_trigger`
pastes the patches into a batch of raw clips, runs the data preprocessor and
the recognizer, takes the gradient with respect to the patches and updates
them. Two references on the same batch and model, in the same eval mode:

- ``fwd+bwd (params)``: ``mode='loss'``, gradients of all parameters (a
  training-style forward+backward; the goal is a ratio of at most 1.05);
- ``fwd+bwd (input)``: the same loss with a gradient w.r.t. the raw input
  clips only, the unavoidable part of a trigger step: it must run the
  backward of the first layer down to full resolution, which a parameter
  backward skips and which dominates a narrow network; the ratio to it is
  the step's own overhead (pasting, update, bookkeeping).

All are timed in one process on identical inputs, alternating, medians over
``--repeats`` after a warm-up round.

Models: the embedded I3D-style ResNet3d-18 (``configs/baselines``) and,
at reduced clip size so that a CPU run stays short, mmaction's I3D-R50,
TSN-R50 and C3D (random weights; timing does not depend on them).

Example:
    python benchmarks/trigger_step_time.py --repeats 5
"""
import argparse
import copy
import os.path as osp
from itertools import repeat

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

import mmbackdoor  # noqa: F401
from mmbackdoor.attacks.video import optimize_universal_trigger
from timing import interleaved_medians, machine

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMACTION = 'mmaction::recognition/'
#: name -> (config, input shape per sample (V, C, T, H, W) or (M, C, H, W),
#: patch side)
MODELS_TO_TIME = {
    'I3D-R18-w8 8x56 (embedded)': (osp.join(
        REPO, 'configs/baselines/'
        'i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-rgb.py'),
                                   (1, 3, 8, 56, 56), 12),
    'I3D-R50 16x112': (MMACTION + 'i3d/i3d_imagenet-pretrained-r50_'
                       '8xb8-32x2x1-100e_kinetics400-rgb.py',
                       (1, 3, 16, 112, 112), 10),
    'TSN-R50 8x112': (MMACTION + 'tsn/tsn_imagenet-pretrained-r50_'
                      '8xb32-1x1x8-100e_kinetics400-rgb.py', (8, 3, 112, 112),
                      10),
    'C3D 16x112': (MMACTION + 'c3d/c3d_sports1m-pretrained_8xb30-16x1x1-'
                   '45e_ucf101-rgb.py', (1, 3, 16, 112, 112), 10),
}


def build(config: str):
    cfg = get_config(config) if '::' in config else Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pretrained = None  # no download, random weights
    model = MODELS.build(model_cfg)
    return model.eval()


def measure(config: str, shape: tuple, size: int, batch_size: int,
            repeats: int) -> tuple:
    model = build(config)
    num_classes = model.cls_head.num_classes
    gen = torch.Generator().manual_seed(0)
    inputs = [
        torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8)
        for _ in range(batch_size)
    ]
    samples = [
        ActionDataSample().set_gt_label(i % num_classes)
        for i in range(batch_size)
    ]
    batch = dict(inputs=inputs, data_samples=samples)

    def forward_backward():
        model.zero_grad(set_to_none=True)
        data = model.data_preprocessor(batch, False)
        loss = model(**data, mode='loss')['loss_cls']
        loss.backward()

    def input_fwd_bwd():
        inputs = [x.float().requires_grad_() for x in batch['inputs']]
        data = model.data_preprocessor(dict(batch, inputs=inputs), False)
        loss = model(**data, mode='loss')['loss_cls']
        torch.autograd.grad(loss, inputs)

    def trigger_step():
        model.zero_grad(set_to_none=True)
        optimize_universal_trigger(
            model, repeat(batch), 0, size, steps=1, progress=False)

    return interleaved_medians(
        [trigger_step, forward_backward, input_fwd_bwd], repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--models',
        nargs='+',
        choices=sorted(MODELS_TO_TIME),
        default=list(MODELS_TO_TIME),
        metavar='MODEL')
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f'# {machine()}, batch {args.batch_size}, median of '
          f'{args.repeats}')
    print('| model | trigger step (s) | fwd+bwd params (s) | ratio | '
          'fwd+bwd input (s) | ratio |')
    print('| --- | ---: | ---: | ---: | ---: | ---: |')
    for name in args.models:
        config, shape, size = MODELS_TO_TIME[name]
        step, params_ref, input_ref = measure(config, shape, size,
                                              args.batch_size, args.repeats)
        print(f'| {name} | {step:.3f} | {params_ref:.3f} | '
              f'{step / params_ref:.3f} | {input_ref:.3f} | '
              f'{step / input_ref:.3f} |', flush=True)


if __name__ == '__main__':
    main()
