# Shared pretraining of the embedded clean-label video backdoor chain.
#
# Zhao et al. (CVPR 2020) attack a Kinetics-pretrained I3D that the victim
# fine-tunes on UCF101; the attacker's clean model starts from the same
# network. The embedded analogue trains the clean baseline's network
# (configs/baselines/i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-rgb.py) on
# the SOURCE motion classes of the embedded generator, disjoint from the
# target task's classes; the clean model and the victim then fine-tune its
# backbone (tools/video/export_backbone.py, README.md of this folder).
_base_ = ['../baselines/i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-rgb.py']

# mmbackdoor.datasets.SOURCE_CLASSES
source_classes = ('move_up_left', 'move_up_right', 'move_down_left',
                  'move_down_right', 'orbit_cw', 'orbit_ccw',
                  'oscillate_horizontal', 'oscillate_vertical')
source_root = 'data/embedded_video_source'
train_dataloader = dict(
    dataset=dict(data_root=source_root, classes=source_classes))
val_dataloader = dict(
    dataset=dict(data_root=source_root, classes=source_classes))
test_dataloader = val_dataloader
