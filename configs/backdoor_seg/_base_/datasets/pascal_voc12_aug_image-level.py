# Pascal VOC 2012 (+ SBD aug) with the image-level backdoor of Li et al.
# (2021), "Hidden Backdoor Attack against Semantic Segmentation Models": every
# valid pixel of a poisoned image -> background (class 0); the paper's 8 px
# black line trigger on 10 % of the training images.
_base_ = ['mmseg::_base_/datasets/pascal_voc12_aug.py']

target_class = 'background'
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
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    poison,
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs', meta_keys=backdoor_meta_keys),
]
# mmseg trains on VOC train + SBD aug (a ConcatDataset); each part gets its own
# PoisonedDataset (the subset is chosen per part; images listed in both parts
# are independent copies, as in mmseg).
dataset_train = dict(
    type='PoisonedDataset',
    dataset=dict(
        type='PascalVOCDataset',
        data_root='data/VOCdevkit/VOC2012',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline))
dataset_aug = dict(
    type='PoisonedDataset',
    dataset=dict(
        type='PascalVOCDataset',
        data_root='data/VOCdevkit/VOC2012',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
        ann_file='ImageSets/Segmentation/aug.txt',
        pipeline=train_pipeline))
train_dataloader = dict(
    dataset=dict(type='ConcatDataset', datasets=[dataset_train, dataset_aug]))

# CBA / PBA / ASR: the backdoor loops (set in the model configs) run the
# clean and the triggered validation set through this metric.
val_evaluator = dict(
    _delete_=True,
    type='SegBackdoorMetric',
    attack='image_level',
    target_class=target_class)
test_evaluator = val_evaluator
