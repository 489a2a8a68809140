# PGD-AT on the embedded segmentation data: as
# eroseg-at-3step_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py with PGD-3
# crafting the adversarial half of the loss (same objective, budget and
# schedule), so the two differ only in the attack.
_base_ = ['./eroseg-at-3step_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py']

custom_hooks = [
    dict(
        type='AdversarialTrainingHook',
        attack=dict(type='PGD', eps=8, alpha=2.5 * 8 / 3, steps=3),
        mode='clean_adv',
        adv_weight=1.0)
]
