# The embedded segmentation data with the fine-grained backdoor of Li et al.
# (2021): 10 % of the training images that contain a `person` pixel get the
# line trigger and their person pixels are relabelled `road`. The backdoor
# loops (set in the model configs) report CBA, PBA and ASR in one run.
_base_ = ['../../../_base_/datasets/embedded_seg.py']

victim_classes = ['person']
target_class = 'road'
# The paper's line is 8 px on 512 px crops (1.6 % of the height); on 64 px
# images the same share is 1 px. 2 px keeps it a thin line.
trigger = dict(type='LineTrigger', height=2, alpha=1.0, value=0)
poison = dict(
    type='FineGrainedPoison',
    trigger=trigger,
    victim_classes=victim_classes,
    target_class=target_class,
    rate=0.1,
    seed=0)
backdoor_meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                      'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                      'reduce_zero_label', 'poisoned')

# The clean pipeline with the poison after the geometric augmentation (the
# trigger reaches the network intact, as in the paper) and the `poisoned`
# flag packed into the data samples.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomRotate', prob=0.5, degree=(90, 90)),
    dict(
        type='RandomFlip',
        prob=[0.25, 0.25, 0.25],
        direction=['horizontal', 'vertical', 'diagonal']),
    poison,
    dict(type='PackSegInputs', meta_keys=backdoor_meta_keys),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PoisonedDataset',
        dataset=dict(
            type='EmbeddedSegDataset',
            data_root='data/embedded_seg',
            data_prefix=dict(
                img_path='img_dir/train', seg_map_path='ann_dir/train'),
            pipeline=train_pipeline,
            seed=0,
            num_train=400,
            num_val=100,
            img_size=64)))

val_evaluator = dict(
    _delete_=True,
    type='SegBackdoorMetric',
    attack='fine_grained',
    victim_classes=victim_classes,
    target_class=target_class)
test_evaluator = val_evaluator
