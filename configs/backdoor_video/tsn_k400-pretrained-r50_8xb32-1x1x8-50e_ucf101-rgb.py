# Clean TSN-R50 (8 segments) on UCF101, fine-tuned from mmaction's
# Kinetics-400 TSN: the 2D (NCHW) counterpart of the I3D setting. A 2D
# recognizer sees single frames, so its clean-label trigger is static (one
# patch for all frames: generate_trigger.py --static). Not run here.
_base_ = [
    'mmaction::recognition/tsn/'
    'tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py'
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)

model = dict(
    backbone=dict(pretrained=None), cls_head=dict(num_classes=101))
load_from = ('https://download.openmmlab.com/mmaction/v1.0/recognition/tsn/'
             'tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb/'
             'tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb_'
             '20220906-2692d16c.pth')

data_root = 'data/ucf101/videos'
split = 1
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'
train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))
test_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))

train_cfg = dict(max_epochs=50, val_interval=5)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=50, by_epoch=True,
         milestones=[20, 40], gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.005))
