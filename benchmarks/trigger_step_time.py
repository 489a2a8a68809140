"""Cost of one universal-trigger step relative to one forward+backward.

A step of :func:`mmbackdoor.poisoning.clean_label.optimize_universal_trigger`
pastes the patches into a batch of raw clips, runs the data preprocessor and
the recognizer, takes the gradient with respect to the patches and updates
them. The reference is one forward+backward of the same recognizer on the
same batch (``mode='loss'``, gradients of all parameters), in the same eval
mode. Both are timed in one process on identical inputs, alternating, medians
over ``--repeats`` after a warm-up round; the goal is a ratio of at most 1.05.

Models: the embedded I3D-style ResNet3d-18 (``configs/baselines``) and,
at reduced clip size so that a CPU run stays short, mmaction's I3D-R50,
TSN-R50 and C3D (random weights; timing does not depend on them).

Example:
    python benchmarks/trigger_step_time.py --repeats 5
"""
import argparse
import copy
import os.path as osp
import platform
import time
from itertools import repeat

import numpy as np
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

import mmbackdoor  # noqa: F401
from mmbackdoor.poisoning.clean_label import optimize_universal_trigger

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


def interleaved_medians(fns, repeats: int) -> list:
    """Median run time of each function; the functions alternate within
    every repeat so that load changes on the machine hit them alike."""
    times = [[] for _ in fns]
    for i in range(repeats + 1):
        for fn, record in zip(fns, times):
            start = time.perf_counter()
            fn()
            if i:  # the first round is warm-up
                record.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


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

    def trigger_step():
        model.zero_grad(set_to_none=True)
        optimize_universal_trigger(
            model, repeat(batch), 0, size, steps=1, progress=False)

    step, reference = interleaved_medians([trigger_step, forward_backward],
                                          repeats)
    return step, reference


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
    print(f'# {platform.processor() or platform.machine()}, '
          f'{torch.get_num_threads()} threads, torch {torch.__version__}, '
          f'batch {args.batch_size}, median of {args.repeats}')
    print('| model | trigger step (s) | forward+backward (s) | ratio |')
    print('| --- | ---: | ---: | ---: |')
    for name in args.models:
        config, shape, size = MODELS_TO_TIME[name]
        step, reference = measure(config, shape, size, args.batch_size,
                                  args.repeats)
        print(f'| {name} | {step:.3f} | {reference:.3f} | '
              f'{step / reference:.3f} |', flush=True)


if __name__ == '__main__':
    main()
