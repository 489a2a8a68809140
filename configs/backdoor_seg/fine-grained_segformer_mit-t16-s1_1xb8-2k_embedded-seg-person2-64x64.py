# Fine-grained backdoor (Li et al., 2021) in the setting that reaches the
# paper's claim on the embedded data: the tiny SegFormer at full output
# resolution on persons 2x as large, 2000 iterations, trained like its clean
# baseline (configs/baselines/segformer_mit-t16-s1_1xb8-2k_embedded-seg-person2-64x64.py);
# see README.md for the measured numbers and the demo's cheaper setting.
_base_ = [
    '../_base_/models/segformer_mit-t16-s1_embedded-seg.py',
    'mmseg::_base_/default_runtime.py',
    './_base_/datasets/embedded_fine-grained_person2.py',
    '../_base_/schedules/embedded_seg_one-cycle_2k.py',
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)
default_scope = 'mmseg'
val_cfg = dict(_delete_=True, type='BackdoorValLoop', trigger={{_base_.trigger}})
test_cfg = dict(_delete_=True, type='BackdoorTestLoop', trigger={{_base_.trigger}})
