# Clean I3D on HMDB51 read from the .avi files (VideoDataset + decord): the
# UCF101 video recipe with HMDB51's 51 classes and split lists. Not run here
# at scale.
_base_ = ['./i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py']

model = dict(cls_head=dict(num_classes=51))
data_root = 'data/hmdb51/videos'
split = 1
ann_file_train = f'data/hmdb51/hmdb51_train_split_{split}_videos.txt'
ann_file_val = f'data/hmdb51/hmdb51_val_split_{split}_videos.txt'
train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))
test_dataloader = val_dataloader
