# Clean baseline on the embedded segmentation dataset: a tiny UNet (4 stages,
# base 16 channels, output stride 1, downsampling x8) + FCN head, trained
# from scratch on CPU. See README.md in this folder for the measured numbers.
_base_ = [
    '../_base_/models/unet-s4-d8_fcn_embedded-seg.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/datasets/embedded_seg.py',
    '../_base_/schedules/embedded_seg_one-cycle_1k.py',
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)
default_scope = 'mmseg'
