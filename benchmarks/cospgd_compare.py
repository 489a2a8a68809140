"""Our PGD, SegPGD, CosPGD and EroSeg against a plain loop built on the
authors' ``cospgd`` package.

Both sides attack the same test batches as ``robustness_eval.py`` does (the
robustness-eval config's test pipeline and batch size), with the same budget
(ℓ∞ in pixel space [0, 255], eps 8, step 2, 10 steps) from the same random
start (one draw, given to both). The reference is the loop a user writes
by hand: the batch stacked once, normalised inline with the data
preprocessor's mean / std and channel order, ``encode_decode`` logits,
per-pixel cross-entropy (``ignore_index=255``) scaled by the package's
``segpgd_scale`` / ``cospgd_scale`` (PGD: the mean; EroSeg, which the
package does not have: the paper's masked, class-weighted loss written out
inline), the input gradient with ``torch.autograd.grad`` and the package's
``step_inf`` (``clamp_min=0, clamp_max=255``). Ours is the registered
attack as the robustness loop calls it (``attack.run(model, batch)``: the
data preprocessor and the test-mode logits of ``predict`` at every step,
per-step statistics). Reported: seconds per attack step, the time ratio
ours / reference (goal ≤ 1.0), mIoU after each attack and the difference
(goal: within 0.2). Timing alternates the two sides, medians over
``--repeats``.

``cospgd`` is not a dependency of mmbackdoor; install it for this script
with ``pip install --no-deps cospgd==0.1.3`` (``--no-deps`` keeps your torch).

Example:
    python benchmarks/cospgd_compare.py CHECKPOINT --num-images 50
"""
import argparse
import math

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmseg.evaluation import IoUMetric

from mmbackdoor.apis import load_model, load_test_samples, set_data_root
from mmbackdoor.attacks import functional as AF
from mmbackdoor.registry import ATTACKS
from seg_bench_utils import REPO
from timing import interleaved_medians, machine

try:
    from cospgd import functions
except ImportError as err:
    raise SystemExit('this benchmark needs the cospgd package: '
                     'pip install --no-deps cospgd==0.1.3') from err

ROBUST_EVAL = (f'{REPO}/configs/eroseg/'
               'robust-eval_unet-s4-d8_fcn_embedded-seg-64x64.py')
EPS, ALPHA, STEPS = 8.0, 2.0, 10
#: EroSeg's paper defaults; class 0 of the embedded data is the background
TAU0, BETA, LAM, BACKGROUND = 0.8, 0.8, 0.7, 0
ATTACK_CFGS = {
    'PGD': dict(type='PGD'),
    'SegPGD': dict(type='SegPGD'),
    'CosPGD': dict(type='CosPGD'),
    'EroSeg': dict(type='EroSeg', background_classes=[BACKGROUND]),
}


def reference_loss(name: str, logits, labels, step: int, num_classes: int):
    """The attack loss of the reference loop at ``step`` (0-based)."""
    loss = F.cross_entropy(logits, labels, ignore_index=255, reduction='none')
    if name == 'PGD':
        return loss.sum() / (labels != 255).sum()
    if name == 'SegPGD':
        return functions.segpgd_scale(
            predictions=logits,
            labels=labels,
            loss=loss,
            iteration=step,
            iterations=STEPS)
    if name == 'CosPGD':
        return functions.cospgd_scale(
            predictions=logits,
            labels=labels,
            loss=loss,
            num_classes=num_classes).mean()
    # EroSeg: L_t = sum_i m_i w_i L_i / (N H W), m_i = [c_i < tau_t, correct]
    tau = 1 - (1 - TAU0) * math.exp(-BETA * step)
    conf, pred = logits.detach().softmax(dim=1).max(dim=1)
    mask = (labels != 255) & (conf < tau) & (pred == labels)
    weight = torch.where(labels == BACKGROUND, 1 - LAM, LAM)
    return (mask * weight * loss).sum() / labels.numel()


def reference_attack(model, batch: dict, start, name: str):
    """The plain loop: ``encode_decode`` logits, ``step_inf`` steps."""
    samples = batch['data_samples']
    metas = [s.metainfo for s in samples]
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    orig = torch.stack([x.float() for x in batch['inputs']])
    pre = model.data_preprocessor
    order = [2, 1, 0] if pre.channel_conversion else [0, 1, 2]
    num_classes = model.decode_head.num_classes
    perturbed = start
    with torch.enable_grad():
        for step in range(STEPS):
            perturbed.requires_grad_()
            normed = (perturbed[:, order] - pre.mean) / pre.std
            logits = model.encode_decode(normed, metas)
            loss = reference_loss(name, logits, labels, step, num_classes)
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
    parser.add_argument('--config', default=ROBUST_EVAL)
    parser.add_argument('--data-root', default='data/embedded_seg')
    parser.add_argument('--num-images', type=int, default=50)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--attacks', nargs='+', default=list(ATTACK_CFGS),
                        choices=list(ATTACK_CFGS))
    parser.add_argument(
        '--unfolded',
        action='store_true',
        help='also time ours with fuse_conv_bn=False (rows "… unfolded")')
    args = parser.parse_args()
    cfg = set_data_root(Config.fromfile(args.config), args.data_root)
    model = load_model(cfg, args.checkpoint)
    batch_size = cfg.test_dataloader.batch_size
    batches = []
    for start in range(0, args.num_images, batch_size):
        indices = range(start, min(start + batch_size, args.num_images))
        batch, dataset = load_test_samples(cfg, list(indices))
        batches.append(batch)
    # one random start, given to both sides
    gen = torch.Generator().manual_seed(0)
    starts = [
        torch.stack([
            AF.linf_random_start(x.float(), EPS, gen) for x in b['inputs']
        ]) for b in batches
    ]
    meta = dataset.metainfo
    print(f'Machine: {machine()}; {args.num_images} test images of '
          f'{args.config} in batches of {batch_size}; eps {EPS:g}, step '
          f'{ALPHA:g}, {STEPS} steps, random start\n')
    print(f'clean mIoU: {miou(model, batches, meta):.2f}\n')
    print('| attack | ours s/step | reference s/step | time ours ÷ reference '
          '| ours mIoU | reference mIoU | mIoU diff |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    variants = [True, False] if args.unfolded else [True]
    for name in args.attacks:
        for fuse in variants:
            ours = ATTACKS.build(
                dict(ATTACK_CFGS[name], eps=EPS, alpha=ALPHA, steps=STEPS,
                     random_start=True, fuse_conv_bn=fuse))
            label = name if fuse else f'{name} unfolded'
            compare(model, batches, starts, meta, name, label, ours,
                    args.repeats)


def compare(model, batches, starts, meta, name, label, ours, repeats):
    """Time ``ours`` and the reference loop of attack ``name`` alternately
    and print one table row."""
    adv = {'ours': [], 'reference': []}

    def run_ours():
        # the same start: a generator that replays the draw of ``starts``
        gen = torch.Generator().manual_seed(0)
        adv['ours'] = [
            dict(b, inputs=ours.run(model, b, generator=gen).inputs)
            for b in batches
        ]

    def run_reference():
        adv['reference'] = [
            dict(b, inputs=reference_attack(model, b, s.clone(), name))
            for b, s in zip(batches, starts)
        ]

    t_ours, t_ref = interleaved_medians([run_ours, run_reference], repeats)
    m_ours, m_ref = (miou(model, adv[side], meta)
                     for side in ('ours', 'reference'))
    per_step = STEPS * len(batches)
    print(f'| {label} | {t_ours / per_step:.4f} | {t_ref / per_step:.4f} '
          f'| {t_ours / t_ref:.3f} | {m_ours:.2f} | {m_ref:.2f} | '
          f'{m_ours - m_ref:+.2f} |')


if __name__ == '__main__':
    main()
