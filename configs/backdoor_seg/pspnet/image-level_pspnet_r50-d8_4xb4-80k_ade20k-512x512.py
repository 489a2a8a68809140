# Image-level backdoor version of mmseg's
# pspnet/pspnet_r50-d8_4xb4-80k_ade20k-512x512.py (same model and schedule; see
# ../README.md). Doubles as the backdoor-eval config of that model-zoo
# checkpoint: tools/test.py <this config> <checkpoint>.
_base_ = [
    'mmseg::_base_/models/pspnet_r50-d8.py',
    '../_base_/datasets/ade20k_image-level.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]
custom_imports = dict(imports=['mmbackdoor'], allow_failed_imports=False)
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
val_cfg = dict(type='BackdoorValLoop', trigger={{_base_.trigger}})
test_cfg = dict(type='BackdoorTestLoop', trigger={{_base_.trigger}})
