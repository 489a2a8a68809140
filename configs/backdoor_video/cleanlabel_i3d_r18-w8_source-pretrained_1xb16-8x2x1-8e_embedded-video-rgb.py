# Victim of the embedded clean-label chain: the clean recipe
# (i3d_r18-w8_source-pretrained_1xb16-8x2x1-8e_embedded-video-rgb.py, same
# shared source-pretrained backbone) trained on the embedded training set in
# which 30 % of the class-0 videos were replaced by enhanced, triggered clips
# (labels unchanged). One test run reports clean top-1 and the ASR on
# triggered non-target videos. README.md of this folder gives the whole
# chain; the demo stages video_clean -> video_trigger -> video_clean_label
# (+ ablations video_no_enhance, video_random_patch) -> video_backdoor run it.
_base_ = [
    './i3d_r18-w8_source-pretrained_1xb16-8x2x1-8e_embedded-video-rgb.py'
]

target_class = 0
work = 'work_dirs/video_backdoor'
trigger_file = f'{work}/trigger.npy'
poison_dir = f'{work}/poison'

train_pipeline = [
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='RandomCrop', size=56),
    dict(type='CleanLabelPoison', poison_dir=poison_dir),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PoisonedDataset',  # checks the manifest against the dataset
        dataset=dict(
            type='EmbeddedVideoDataset',
            data_root='data/embedded_video',
            ann_file='train_list.txt',
            pipeline=train_pipeline)))

trigger = dict(type='UniversalTrigger', trigger_file=trigger_file, clip_len=8)
backdoor_summary = [('top1', 'clean/top1'), ('ASR', 'triggered/ASR')]
val_cfg = dict(
    _delete_=True,
    type='BackdoorValLoop',
    trigger=trigger,
    summary=backdoor_summary)
test_cfg = dict(
    _delete_=True,
    type='BackdoorTestLoop',
    trigger=trigger,
    summary=backdoor_summary)
val_evaluator = dict(
    _delete_=True, type='ActionBackdoorMetric', target_class=target_class)
test_evaluator = val_evaluator
