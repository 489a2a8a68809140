# Fine-grained backdoor (Li et al., 2021) on the embedded segmentation data with
# a tiny UNet + FCN head (local context), trained like its clean baseline
# (configs/baselines/unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py);
# see ./_base_/datasets/embedded_fine-grained.py for the poisoning and README.md
# for the measured numbers.
_base_ = [
    '../_base_/models/unet-s4-d8_fcn_embedded-seg.py',
    'mmseg::_base_/default_runtime.py',
    './_base_/datasets/embedded_fine-grained.py',
    '../_base_/schedules/embedded_seg_one-cycle_1k.py',
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)
default_scope = 'mmseg'
val_cfg = dict(_delete_=True, type='BackdoorValLoop', trigger={{_base_.trigger}})
test_cfg = dict(_delete_=True, type='BackdoorTestLoop', trigger={{_base_.trigger}})
