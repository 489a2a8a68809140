# Clean baseline on the embedded segmentation dataset: a tiny SegFormer
# (global self-attention at every stage, 0.78 M parameters) trained from
# scratch on CPU with the UNet baseline's schedule. The model of the demo's
# segmentation-backdoor stages; see README.md in this folder.
_base_ = [
    '../_base_/models/segformer_mit-t16_embedded-seg.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/datasets/embedded_seg.py',
    '../_base_/schedules/embedded_seg_one-cycle_1k.py',
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)
default_scope = 'mmseg'
