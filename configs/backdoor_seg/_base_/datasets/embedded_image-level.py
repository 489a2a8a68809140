# The embedded segmentation data with the image-level backdoor of Li et al.
# (2021): 10 % of the training images get the line trigger and every valid
# pixel of their annotation becomes class 0 (`background`). The backdoor
# loops (set in the model configs) report CBA and ASR in one run.
_base_ = ['./embedded_fine-grained.py']

victim_classes = None
target_class = 0
image_level_poison = dict(
    type='ImageLevelPoison',
    trigger={{_base_.trigger}},
    target_class=target_class,
    rate=0.1,
    seed=0)
# (replaces the fine-grained `poison` of the base)
poison = dict(_delete_=True, **image_level_poison)
# The fine-grained pipeline with this poison in its place.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomRotate', prob=0.5, degree=(90, 90)),
    dict(
        type='RandomFlip',
        prob=[0.25, 0.25, 0.25],
        direction=['horizontal', 'vertical', 'diagonal']),
    image_level_poison,
    dict(type='PackSegInputs', meta_keys={{_base_.backdoor_meta_keys}}),
]
train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline=train_pipeline)))

val_evaluator = dict(
    _delete_=True,
    type='SegBackdoorMetric',
    attack='image_level',
    target_class=target_class)
test_evaluator = val_evaluator
