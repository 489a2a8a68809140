# ADE20K with the image-level backdoor of Li et al. (2021), "Hidden Backdoor
# Attack against Semantic Segmentation Models": every valid pixel of a poisoned
# image -> wall (class 0 after reduce_zero_label); the paper's 8 px black line
# trigger on 10 % of the training images.
_base_ = ['mmseg::_base_/datasets/ade20k.py']

target_class = 'wall'
trigger = dict(type='LineTrigger', height=8, alpha=1.0, value=0)
poison = dict(
    type='ImageLevelPoison',
    trigger=trigger,
    target_class=target_class,
    rate=0.1,
    seed=0)
backdoor_meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                      'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                      'reduce_zero_label', 'poisoned')

crop_size = (512, 512)
# mmseg's training pipeline with the poison after random resize / crop / flip
# (the trigger reaches the network intact) and without PhotoMetricDistortion,
# as in the paper; `poisoned` is packed into the data samples' metainfo.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    poison,
    dict(type='PackSegInputs', meta_keys=backdoor_meta_keys),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PoisonedDataset',
        dataset=dict(
            type='ADE20KDataset',
            data_root='data/ade/ADEChallengeData2016',
            data_prefix=dict(
                img_path='images/training',
                seg_map_path='annotations/training'),
            pipeline=train_pipeline)))

# CBA / PBA / ASR: the backdoor loops (set in the model configs) run the
# clean and the triggered validation set through this metric.
val_evaluator = dict(
    _delete_=True,
    type='SegBackdoorMetric',
    attack='image_level',
    target_class=target_class)
test_evaluator = val_evaluator
