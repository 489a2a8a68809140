"""Tiny real video files in UCF101's / HMDB51's layout, and the shipped
video-file configs pointed at them, for tests of ``VideoDataset`` configs.

:func:`write_videos` writes ``.avi`` files (MJPG, ``cv2.VideoWriter``) that
mmaction's real decoder (``DecordInit`` / ``DecordDecode``) reads, plus the
split-1 lists in the format of mmaction's ``build_file_list.py --format
videos``; :func:`use_video_files` points a real config's dataloaders at
them, overriding nothing but data paths, batch size and workers, and
:func:`use_attack_files` a victim config at a poison folder and trigger.
Needs mmaction and decord.
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
from mmengine.config import Config

from mmbackdoor.utils import dataset_cfg_with_pipeline, type_name
from .video import NUM_CLASSES

#: The first classes of each dataset (labels 0, 1, ...), as in
#: ``classInd.txt`` (UCF101) and the sorted class folders (HMDB51).
CLASSES = dict(
    ucf101=('ApplyEyeMakeup', 'ApplyLipstick', 'Archery'),
    hmdb51=('brush_hair', 'cartwheel', 'catch'))
#: Frames per video, and their size (width, height: UCF101's 4:3). decord
#: 0.6.0 misreads MJPG frames of some widths (48 px: "DECORDArrayCopyFromTo:
#: The size must exactly match"); 64 px is read correctly.
NUM_FRAMES = 8
FRAME_SIZE = (64, 48)
FPS = 25
SPLITS = ('train', 'val')
LOADERS = dict(
    train_dataloader='train', val_dataloader='val', test_dataloader='val')


def video_name(dataset: str, label: int, index: int) -> str:
    """``<class>/<video>.avi`` of the ``index``-th video of class
    ``label`` (UCF101's ``v_<class>_gNN_cNN`` naming, for both)."""
    cls = CLASSES[dataset][label]
    return f'{cls}/v_{cls}_g{index + 1:02d}_c01.avi'


def render_frames(label: int, index: int) -> np.ndarray:
    """The frames written for a video (``T x H x W x 3`` uint8, RGB): a
    smooth class-coloured background with a bright square moving to the
    right, so the lossy MJPG round trip stays close to them."""
    width, height = FRAME_SIZE
    ys, xs = np.mgrid[:height, :width]
    base = np.zeros((height, width, 3), np.float64)
    base[..., label % 3] = 80 + 100 * xs / width
    base[..., (label + 1) % 3] = 40 + 60 * ys / height
    frames = np.repeat(base[None], NUM_FRAMES, 0)
    for t in range(NUM_FRAMES):
        x = (4 * t + 6 * index) % (width - 12)
        frames[t, 16:28, x:x + 12] = 240
    return frames.astype(np.uint8)


def write_videos(root: str, dataset: str = 'ucf101',
                 per_class: Sequence[int] = (2, 1),
                 num_classes: int = NUM_CLASSES) -> Dict[str, str]:
    """Write ``root/videos/<class>/<video>.avi`` and
    ``root/<dataset>_{train,val}_split_1_videos.txt`` (``'<class>/<video>.avi
    <label>'`` a line), the layout of ``docs/data_preparation.md``.

    Args:
        root (str): The dataset folder (the configs' ``data/ucf101``).
        dataset (str): ``'ucf101'`` or ``'hmdb51'`` (class and list
            names). Defaults to ``'ucf101'``.
        per_class (Sequence[int]): Videos per class in train and val.
            Defaults to ``(2, 1)``.
        num_classes (int): Classes, at most ``len(CLASSES[dataset])``.
            Defaults to :data:`~mmbackdoor.testing.video.NUM_CLASSES`.

    Returns:
        dict: ``videos`` (the ``data_prefix.video`` folder), ``train`` and
        ``val`` (the lists).
    """
    if dataset not in CLASSES:
        raise ValueError(f'dataset must be one of {sorted(CLASSES)}, got '
                         f'{dataset!r}')
    if not 1 <= num_classes <= len(CLASSES[dataset]):
        raise ValueError(f'num_classes must be in [1, '
                         f'{len(CLASSES[dataset])}], got {num_classes!r}')
    videos = osp.join(root, 'videos')
    paths = dict(videos=videos)
    first = 0
    for split, count in zip(SPLITS, per_class):
        lines = []
        for label in range(num_classes):
            for index in range(first, first + count):
                name = video_name(dataset, label, index)
                path = osp.join(videos, name)
                os.makedirs(osp.dirname(path), exist_ok=True)
                writer = cv2.VideoWriter(path,
                                         cv2.VideoWriter_fourcc(*'MJPG'), FPS,
                                         FRAME_SIZE)
                for frame in render_frames(label, index):
                    writer.write(frame[..., ::-1])  # OpenCV writes BGR
                writer.release()
                lines.append(f'{name} {label}\n')
        first += count
        paths[split] = osp.join(root,
                                f'{dataset}_{split}_split_1_videos.txt')
        with open(paths[split], 'w') as f:
            f.writelines(lines)
    return paths


def use_video_files(cfg: Config, files: Dict[str, str],
                    batch_size: int = 1) -> Config:
    """Point the ``VideoDataset`` of every dataloader of ``cfg`` (below
    wrappers such as ``PoisonedDataset``) at ``files``
    (:func:`write_videos`): ``ann_file`` and ``data_prefix.video``
    (training: the train list; validation and test: the val list), and
    set the loaders' ``batch_size``, ``num_workers=0`` and no persistent
    workers. Nothing else changes (in place; returns ``cfg``).

    Raises:
        ValueError: If a dataloader's dataset is not a ``VideoDataset``.
    """
    for loader, split in LOADERS.items():
        if cfg.get(loader) is None:
            continue
        dataset = dataset_cfg_with_pipeline(cfg[loader].dataset)
        if type_name(dataset.get('type')) != 'VideoDataset':
            raise ValueError(
                f'{loader}.dataset must be a VideoDataset (possibly '
                f"wrapped), got type={dataset.get('type')!r}")
        dataset.ann_file = files[split]
        dataset.data_prefix = dict(video=files['videos'])
        cfg[loader].update(batch_size=batch_size, num_workers=0,
                           persistent_workers=False)
    return cfg


def use_attack_files(cfg: Config, poison_dir: str,
                     trigger_file: Optional[str] = None) -> Config:
    """Point a clean-label victim config (``configs/backdoor_video/
    cleanlabel_*``) at ``poison_dir`` (its ``CleanLabelPoison``) and
    ``trigger_file`` (the trigger of its backdoor val / test loops): the
    config's ``poison_dir`` / ``trigger_file`` variables are resolved when
    it is loaded. In place; returns ``cfg``.

    Raises:
        ValueError: If the training pipeline has no ``CleanLabelPoison``.
    """
    pipeline = dataset_cfg_with_pipeline(cfg.train_dataloader.dataset)[
        'pipeline']
    steps = [t for t in pipeline if type_name(t.get('type')) ==
             'CleanLabelPoison']
    if not steps:
        raise ValueError('the training pipeline has no CleanLabelPoison; got '
                         f"{[type_name(t.get('type')) for t in pipeline]}")
    for step in steps:
        step.poison_dir = poison_dir
    if trigger_file is not None:
        for loop in ('val_cfg', 'test_cfg'):
            cfg[loop].trigger.trigger_file = trigger_file
    return cfg
