# EroSeg-AT (Song et al., 2026) of DeepLabV3-R50 on Pascal VOC 2012 + SBD
# (aug), mmseg's schedule.
# Loss CE(x) + 1.0 * CE(x + delta) (the EroSeg paper's objective); delta from
# EroSeg with eps = 8 (of 0-255), T = 7 steps of 2.5 * eps / T, no random
# start, crafted on the current model in eval mode.
# EroSeg weights background (class 0) pixels 1 - lambda = 0.3.
# tools/test.py reports clean mIoU and mIoU under PGD-10 / PGD-20.
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-40k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)

custom_hooks = [
    dict(
        type='AdversarialTrainingHook',
        attack=dict(
            type='EroSeg',
            eps=8,
            alpha=2.5 * 8 / 7,
            steps=7,
            background_classes=[0]),
        mode='clean_adv',
        adv_weight=1.0)
]
test_cfg = dict(
    _delete_=True,
    type='RobustnessTestLoop',
    attacks=dict(
        PGD10=dict(type='PGD', eps=8, alpha=2, steps=10),
        PGD20=dict(type='PGD', eps=8, alpha=1, steps=20)))
