"""Our SegPGD and CosPGD against the authors' ``cospgd`` package.

Both run on the same model, the same test images and the same budget (ℓ∞,
pixel space [0, 255], eps 8, step 2, 10 steps, no random start). The
reference loop is the package's recipe: per-pixel cross-entropy
(``ignore_index=255``), ``functions.segpgd_scale`` / ``cospgd_scale`` and
``functions.step_inf`` with ``clamp_min=0, clamp_max=255``. So that only
what the package implements differs, its forward is the same data
preprocessor + ``predict`` path as ours and its input gradient is taken with
``torch.autograd.grad`` as ours is (``loss.backward()``, as in the package's
examples, would also compute every parameter's gradient). Reported: seconds
per attack step, the time ratio ours / package, mIoU after each attack and
the mIoU difference (goal: no slower, within 0.5 mIoU). Timing alternates
the two implementations, medians over ``--repeats``.

``cospgd`` is not a dependency of mmbackdoor; install it for this script
with ``pip install --no-deps cospgd==0.1.3`` (``--no-deps`` keeps your torch).

Example:
    python benchmarks/cospgd_compare.py CHECKPOINT --num-images 50
"""
import argparse

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmseg.evaluation import IoUMetric

from mmbackdoor.apis import load_model, load_test_samples, set_data_root
from mmbackdoor.registry import ATTACKS
from seg_bench_utils import EMBEDDED
from timing import interleaved_medians, machine

try:
    from cospgd import functions
except ImportError as err:
    raise SystemExit('this benchmark needs the cospgd package: '
                     'pip install --no-deps cospgd==0.1.3') from err

EPS, ALPHA, STEPS = 8.0, 2.0, 10


def _logits(model, inputs, samples):
    """Logits on the label grid, as our attacks take them for test data."""
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   False)
    outs = model(**data, mode='predict')
    return torch.stack([o.seg_logits.data for o in outs])


def package_attack(model, batch, name: str):
    """The ``cospgd`` package's ℓ∞ loop (SegPGD or CosPGD scaling)."""
    samples = [s.new() for s in batch['data_samples']]
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    orig = torch.stack([x.float() for x in batch['inputs']])
    num_classes = model.decode_head.num_classes
    perturbed = orig.clone()
    with torch.enable_grad():
        for t in range(STEPS):
            perturbed.requires_grad_()
            logits = _logits(model, list(perturbed), samples)
            loss = F.cross_entropy(
                logits, labels, ignore_index=255, reduction='none')
            if name == 'SegPGD':
                loss = functions.segpgd_scale(
                    predictions=logits,
                    labels=labels,
                    loss=loss,
                    iteration=t,
                    iterations=STEPS)
            else:
                loss = functions.cospgd_scale(
                    predictions=logits,
                    labels=labels,
                    loss=loss,
                    num_classes=num_classes).mean()
            (grad, ) = torch.autograd.grad(loss, perturbed)
            perturbed = functions.step_inf(
                perturbed_image=perturbed,
                epsilon=EPS,
                data_grad=grad,
                orig_image=orig,
                alpha=ALPHA,
                targeted=False,
                clamp_min=0,
                clamp_max=255)
    return list(perturbed)


def miou(model, batches, dataset_meta) -> float:
    # IoUMetric prints its per-class table to the current logger
    MMLogger.get_instance('cospgd_compare', log_level='WARNING')
    evaluator = Evaluator(IoUMetric(iou_metrics=['mIoU']))
    evaluator.dataset_meta = dataset_meta
    with torch.no_grad():
        for batch in batches:
            evaluator.process(model.test_step(batch), batch)
    size = sum(len(batch['inputs']) for batch in batches)
    return float(evaluator.evaluate(size)['mIoU'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='checkpoint of --config')
    parser.add_argument('--config', default=EMBEDDED)
    parser.add_argument('--data-root', default='data/embedded_seg')
    parser.add_argument('--num-images', type=int, default=50)
    parser.add_argument('--batch-size', type=int, default=25)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    cfg = set_data_root(Config.fromfile(args.config), args.data_root)
    model = load_model(cfg, args.checkpoint)
    batches = []
    for start in range(0, args.num_images, args.batch_size):
        indices = range(start, min(start + args.batch_size, args.num_images))
        batch, dataset = load_test_samples(cfg, list(indices))
        batches.append(batch)
    meta = dataset.metainfo
    print(f'Machine: {machine()}; {args.num_images} test images of '
          f'{args.config}; eps {EPS:g}, step {ALPHA:g}, {STEPS} steps\n')
    print(f'clean mIoU: {miou(model, batches, meta):.2f}\n')
    print('| attack | ours s/step | cospgd s/step | time ours ÷ cospgd | '
          'ours mIoU | cospgd mIoU | mIoU diff |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for name in ('SegPGD', 'CosPGD'):
        ours = ATTACKS.build(
            dict(type=name, eps=EPS, alpha=ALPHA, steps=STEPS))
        adv = {'ours': [], 'cospgd': []}

        def run_ours():
            adv['ours'] = [
                dict(b, inputs=ours(model, b)) for b in batches
            ]

        def run_package():
            adv['cospgd'] = [
                dict(b, inputs=package_attack(model, b, name))
                for b in batches
            ]

        t_ours, t_pkg = interleaved_medians([run_ours, run_package],
                                            args.repeats)
        m_ours, m_pkg = miou(model, adv['ours'], meta), miou(
            model, adv['cospgd'], meta)
        per_step = STEPS * len(batches)
        print(f'| {name} | {t_ours / per_step:.4f} | {t_pkg / per_step:.4f} '
              f'| {t_ours / t_pkg:.3f} | {m_ours:.2f} | {m_pkg:.2f} | '
              f'{m_ours - m_pkg:+.2f} |')


if __name__ == '__main__':
    main()
