# The embedded segmentation data with persons twice as tall and wide
# (`person_scale=2`: the same scenes and random numbers, persons 45-70 px tall
# with 4-8 px limbs instead of 22-35 px with 2-4 px), generated into its own
# folder on first use.
_base_ = ['./embedded_seg.py']

data_root = 'data/embedded_seg_person2'
person_scale = 2
train_dataloader = dict(
    dataset=dict(data_root=data_root, person_scale=person_scale))
val_dataloader = dict(
    dataset=dict(data_root=data_root, person_scale=person_scale))
test_dataloader = val_dataloader
