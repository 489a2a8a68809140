# The embedded segmentation schedule (embedded_seg_one-cycle_1k.py) over 2000
# iterations of batch 8: the same peak learning rate and warm-up share.
_base_ = ['./embedded_seg_one-cycle_1k.py']

max_iters = 2000
param_scheduler = [
    dict(
        type='OneCycleLR',
        eta_max=5e-3,
        total_steps=max_iters,
        pct_start=0.2,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
