# The fine-grained backdoor of ./embedded_fine-grained.py on the embedded data
# with persons twice as large (../../../_base_/datasets/embedded_seg_person2.py):
# the same trigger, victim, target, rate and poisoned images' selection.
_base_ = ['./embedded_fine-grained.py']

data_root = 'data/embedded_seg_person2'
person_scale = 2
train_dataloader = dict(
    dataset=dict(
        dataset=dict(data_root=data_root, person_scale=person_scale)))
val_dataloader = dict(
    dataset=dict(data_root=data_root, person_scale=person_scale))
test_dataloader = val_dataloader
