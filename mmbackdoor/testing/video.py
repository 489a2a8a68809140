"""Tiny real rawframe datasets and recognizers for video-backdoor tests.

Everything runs through mmaction's own ``RawframeDataset``, pipelines,
``Recognizer2D`` / ``Recognizer3D`` and ``ActionDataPreprocessor``; only the
sizes are small. Needs mmaction.
"""
import os
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.config import Config

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.transforms  # noqa: F401
import mmbackdoor.evaluation  # noqa: F401
import mmbackdoor.poisoning  # noqa: F401
import mmbackdoor.triggers  # noqa: F401
from mmbackdoor.apis.clean_label import (attack_dataset, class_indices,
                                         endless_batches)

NUM_CLASSES = 3
NUM_FRAMES = 10
FRAME_SIZE = 24
CROP = 20
CLIP_LEN = 4
MEAN = [100.0, 110.0, 120.0]
STD = [50.0, 55.0, 60.0]


def write_rawframes(root: str, split: str, per_class: int,
                    seed: int = 0) -> str:
    """Random-noise videos (PNG frame folders) + a RawframeDataset list:
    ``root/frames/<split>_c<label>_<i>/img_00001.png`` ...; returns the list
    file's path."""
    rng = np.random.default_rng(seed)
    lines = []
    for label in range(NUM_CLASSES):
        for i in range(per_class):
            name = f'{split}_c{label}_{i}'
            folder = osp.join(root, 'frames', name)
            os.makedirs(folder)
            for t in range(NUM_FRAMES):
                frame = rng.integers(0, 256, (FRAME_SIZE, FRAME_SIZE, 3),
                                     dtype=np.uint8)
                cv2.imwrite(osp.join(folder, f'img_{t + 1:05d}.png'), frame)
            lines.append(f'{name} {NUM_FRAMES} {label}\n')
    ann = osp.join(root, f'{split}_list.txt')
    with open(ann, 'w') as f:
        f.writelines(lines)
    return ann


def pipelines(fmt: str, test_extra=()):
    """(train, val) pipelines; ``fmt`` is ``'NCTHW'`` or ``'NCHW'``."""
    if fmt == 'NCTHW':
        sample = dict(clip_len=CLIP_LEN, frame_interval=1, num_clips=1)
    else:  # TSN-style: 3 segments of one frame
        sample = dict(clip_len=1, frame_interval=1, num_clips=3)
    train = [
        dict(type='SampleFrames', **sample),
        dict(type='RawFrameDecode'),
        dict(type='RandomCrop', size=CROP),
        dict(type='FormatShape', input_format=fmt),
        dict(type='PackActionInputs')
    ]
    val = [
        dict(type='SampleFrames', test_mode=True, **sample),
        dict(type='RawFrameDecode'),
        dict(type='CenterCrop', crop_size=CROP), *test_extra,
        dict(type='FormatShape', input_format=fmt),
        dict(type='PackActionInputs')
    ]
    return train, val


def model_cfg(fmt: str) -> dict:
    """A tiny ``Recognizer3D`` (I3D-style) or ``Recognizer2D`` (TSN)."""
    preprocessor = dict(
        type='ActionDataPreprocessor', mean=MEAN, std=STD, format_shape=fmt)
    if fmt == 'NCTHW':
        return dict(
            type='Recognizer3D',
            backbone=dict(
                type='ResNet3d', depth=18, base_channels=4, num_stages=2,
                out_indices=(1, ), pretrained2d=False, conv1_kernel=(3, 3, 3),
                spatial_strides=(1, 2), temporal_strides=(1, 1),
                dilations=(1, 1), inflate=(1, 1)),
            cls_head=dict(type='I3DHead', num_classes=NUM_CLASSES,
                          in_channels=8, dropout_ratio=0.0,
                          average_clips='prob'),
            data_preprocessor=preprocessor)
    return dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', depth=18, num_stages=1, out_indices=(0, ),
                      strides=(1, ), dilations=(1, ), pretrained=None),
        cls_head=dict(type='TSNHead', num_classes=NUM_CLASSES, in_channels=64,
                      dropout_ratio=0.0, average_clips='prob'),
        data_preprocessor=preprocessor)


def make_cfg(root: str, fmt: str = 'NCTHW', per_class: int = 3) -> Config:
    """A complete mmaction config (train/val/test) over a tiny dataset
    written into ``root``."""
    train_ann = write_rawframes(root, 'train', per_class, seed=1)
    val_ann = write_rawframes(root, 'val', 2, seed=2)
    train, val = pipelines(fmt)

    def dataset(ann, pipeline, test_mode):
        return dict(type='RawframeDataset', ann_file=ann,
                    data_prefix=dict(img=osp.join(root, 'frames')),
                    filename_tmpl='img_{:05d}.png', pipeline=pipeline,
                    test_mode=test_mode)

    def loader(ann, pipeline, test_mode):
        return dict(batch_size=2, num_workers=0,
                    sampler=dict(type='DefaultSampler',
                                 shuffle=not test_mode),
                    dataset=dataset(ann, pipeline, test_mode))

    return Config(dict(
        default_scope='mmaction',
        model=model_cfg(fmt),
        train_dataloader=loader(train_ann, train, False),
        val_dataloader=loader(val_ann, val, True),
        test_dataloader=loader(val_ann, val, True),
        val_evaluator=dict(type='ActionBackdoorMetric', target_class=0),
        test_evaluator=dict(type='ActionBackdoorMetric', target_class=0),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=1,
                       val_interval=10),
        val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1)),
        env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo')),
        log_level='WARNING'))


def build_model(cfg: Config, seed: int = 0):
    """The config's recognizer with seeded random weights, in eval mode."""
    from mmaction.apis import init_recognizer
    torch.manual_seed(seed)
    return init_recognizer(cfg, None, 'cpu')


def save_checkpoint(model, path: str) -> str:
    """A checkpoint that mmengine (safe loading) reads."""
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def save_trigger_file(path: str, patches: np.ndarray) -> str:
    """A trigger ``.npy`` as ``generate_trigger.py`` writes it."""
    np.save(path, patches)
    return path


def attack_setup(root: str, fmt: str = 'NCTHW'):
    """A tiny config (:func:`make_cfg`) of layout ``fmt`` in ``root``, its
    seeded recognizer (:func:`build_model`) and its clean training set read
    as the attacker does (``attack_dataset(cfg, 'val')``)."""
    cfg = make_cfg(root, fmt)
    return cfg, build_model(cfg), attack_dataset(cfg, 'val')


def nontarget_batches(dataset, seed: int = 0, batch_size: int = 2,
                      target_class: int = 0):
    """Endless seeded batches of the videos of ``dataset`` not of
    ``target_class``, as the trigger optimisation draws them."""
    others = class_indices(dataset, target_class, same=False)
    return endless_batches(dataset, others, batch_size, seed)
