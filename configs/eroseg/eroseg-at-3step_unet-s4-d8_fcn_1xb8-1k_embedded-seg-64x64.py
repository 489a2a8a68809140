# EroSeg-AT on the embedded segmentation data: the clean baseline's model and
# schedule, trained on CE(clean) + CE(EroSeg-3 adversarial) (the paper's
# objective, weight 1), eps 8, step 2.5 * eps / T (Madry et al.'s rule; it
# gives the eval step 2 at T = 10). Tested with the robustness loop of
# robust-eval_*.py (PGD / SegPGD / CosPGD / EroSeg, 10 steps).
_base_ = ['./robust-eval_unet-s4-d8_fcn_embedded-seg-64x64.py']

custom_hooks = [
    dict(
        type='AdversarialTrainingHook',
        attack=dict(
            type='EroSeg',
            eps=8,
            alpha=2.5 * 8 / 3,
            steps=3,
            background_classes=[0]),
        mode='clean_adv',
        adv_weight=1.0)
]
