# Robustness evaluation on the embedded segmentation data: clean mIoU, mIoU
# under PGD / SegPGD / CosPGD / EroSeg at an equal budget (eps 8, step 2,
# 10 steps, no random start) and the per-image worst case. Use it with any
# checkpoint of the embedded baseline or its AT variants:
#   python tools/test.py \
#       configs/eroseg/robust-eval_unet-s4-d8_fcn_embedded-seg-64x64.py CKPT
_base_ = ['../baselines/unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py']

budget = dict(eps=8, alpha=2, steps=10)
test_cfg = dict(
    _delete_=True,
    type='RobustnessTestLoop',
    attacks=[
        dict(type='PGD', **budget),
        dict(type='SegPGD', **budget),
        dict(type='CosPGD', **budget),
        # class 0 of the embedded data is the background
        dict(type='EroSeg', background_classes=[0], **budget),
    ])
# The attacks are batched: larger test batches are much faster.
test_dataloader = dict(batch_size=25)
