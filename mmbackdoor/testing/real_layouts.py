"""Minimal copies of the real datasets, in the exact folder layouts and file
names mmseg and mmaction document (``docs/data_preparation.md``), for tests
that run the model-zoo configs on disk data as a user would.

Each writer fills ``root`` (the folder a config's path names, e.g.
``data/cityscapes``) with a few small images or frame folders; the label
maps hold the classes the shipped backdoor configs attack (their
``victim_classes`` and ``target_class``) next to others, so fine-grained
poisoning finds eligible images. Written under ``<folder>/data/`` at the
paths the configs name, they are read by the tools run with ``<folder>`` as
the working directory, with no path overridden.

=========== =============================== =================================
dataset     layout                           classes in the labels
=========== =============================== =================================
Cityscapes  ``leftImg8bit/{train,val}/<city>/ road, car, person, ignore (255)
            *_leftImg8bit.png`` + ``gtFine/
            ..._gtFine_labelTrainIds.png``
ADE20K      ``ADEChallengeData2016/images/    other (0), wall, person, palm
            {training,validation}/*.jpg`` +   (raw values, before
            ``annotations/.../*.png``         ``reduce_zero_label``)
VOC 2012    ``JPEGImages``,                   background, person, boundary
+ SBD aug   ``SegmentationClass`` (palette    (255, VOC's labels only)
            PNG), ``SegmentationClassAug``,
            ``ImageSets/Segmentation/{train,
            val,trainval,aug,trainaug}.txt``
UCF101,     ``rawframes/<class>/<video>/      classes 0 and 1 of the dataset
HMDB51      img_00001.jpg``, ``<ds>_{train,   (``classInd.txt`` order)
            val}_split_1_rawframes.txt``
=========== =============================== =================================

Only numpy, OpenCV (``mmcv.imwrite``) and Pillow (VOC's palette labels) are
needed; no codebase is imported.
"""
import os
import os.path as osp
from typing import Dict, List, Sequence

import mmcv
import numpy as np
from PIL import Image

# ---- Cityscapes -----------------------------------------------------------

#: A training city and frame name in Cityscapes' naming scheme
#: ``<city>_<seq>_<frame>``.
CITY = 'aachen'
FRAME = 'aachen_000000_000019'
#: ``labelTrainIds`` of the classes the writers draw.
CITYSCAPES_IDS = dict(road=0, person=11, car=13)
#: ``(city, first frame)`` of each split (Cityscapes' own val cities).
CITYSCAPES_CITIES = dict(train=CITY, val='frankfurt')

# ---- ADE20K ---------------------------------------------------------------

#: Raw annotation values (class index + 1; 0 is "other", ignored after
#: ``reduce_zero_label``) of the classes drawn, in mmseg's class order.
ADE20K_RAW = dict(wall=1, person=13, palm=73)

# ---- Pascal VOC 2012 + SBD aug ----------------------------------------------

VOC_IDS = dict(background=0, person=15)


def voc_palette() -> List[int]:
    """The 256-entry colour map of VOC's ``SegmentationClass`` PNGs (the
    devkit's ``VOClabelcolormap``: 0 black, 15 person (192, 128, 128),
    255 boundary (224, 224, 192)), flat ``[r, g, b, ...]``."""
    palette = []
    for index in range(256):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette += [r, g, b]
    return palette


# ---- UCF101 / HMDB51 --------------------------------------------------------

#: A UCF101 video (class 0, ``ApplyEyeMakeup``) as its lists name it.
VIDEO = 'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01'
#: Classes 0 and 1 of each dataset (UCF101's ``classInd.txt``; HMDB51's
#: sorted class folders) and a video name pattern of each.
VIDEO_CLASSES = dict(
    ucf101=(('ApplyEyeMakeup', 'v_ApplyEyeMakeup_g{group:02d}_c{clip:02d}'),
            ('ApplyLipstick', 'v_ApplyLipstick_g{group:02d}_c{clip:02d}')),
    hmdb51=(('brush_hair',
             'April_09_brush_hair_u_nm_np1_ba_goo_{clip}'),
            ('cartwheel', '(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_'
             '{clip}')))


def _label_map(shape, rng, classes: Sequence[int], background: int,
               ignore_border: bool) -> np.ndarray:
    """``background`` everywhere, one random rectangle of each of
    ``classes``, and (``ignore_border``) a 1 px 255 frame around the
    first."""
    h, w = shape
    label = np.full((h, w), background, np.uint8)
    for value in classes:
        y0 = int(rng.integers(0, h // 2))
        x0 = int(rng.integers(0, w // 2))
        y1 = y0 + int(rng.integers(h // 4, h // 2)) + 1
        x1 = x0 + int(rng.integers(w // 4, w // 2)) + 1
        if ignore_border and value == classes[0]:
            label[max(y0 - 1, 0):y1 + 1, max(x0 - 1, 0):x1 + 1] = 255
        label[y0:y1, x0:x1] = value
    return label


def _image(shape, rng) -> np.ndarray:
    return rng.integers(0, 256, (*shape, 3), dtype=np.uint8)


def write_cityscapes(root: str,
                     label_suffix: str = '_gtFine_labelTrainIds.png',
                     num_train: int = 1,
                     num_val: int = 1,
                     shape=(16, 32),
                     seed: int = 0) -> Dict[str, List[str]]:
    """Cityscapes as mmseg reads it after its converter:
    ``leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png`` and
    ``gtFine/<split>/<city>/<name><label_suffix>``, road / car / person
    pixels with ignored (255) rows on top (the ego car and the border in
    real frames). The first training frame is :data:`FRAME`.

    Args:
        root (str): The new ``data/cityscapes`` folder.
        label_suffix (str): Pass ``'_gtFine_labelIds.png'`` for a copy the
            converter has not been run on.
        num_train (int): Training frames. Defaults to 1.
        num_val (int): Validation frames. Defaults to 1.
        shape (tuple): ``(h, w)`` of every frame (the real ones are
            1024 x 2048). Defaults to (16, 32).
        seed (int): Seed of the pixels. Defaults to 0.

    Returns:
        dict: The frame names (``<city>_<seq>_<frame>``) of each split.
    """
    rng = np.random.default_rng(seed)
    names = {}
    ids = CITYSCAPES_IDS
    for split, num in (('train', num_train), ('val', num_val)):
        city = CITYSCAPES_CITIES[split]
        img_dir = osp.join(root, 'leftImg8bit', split, city)
        seg_dir = osp.join(root, 'gtFine', split, city)
        os.makedirs(img_dir)
        os.makedirs(seg_dir)
        names[split] = []
        for i in range(num):
            name = f'{city}_{i:06d}_000019'
            mmcv.imwrite(
                _image(shape, rng),
                osp.join(img_dir, f'{name}_leftImg8bit.png'))
            label = _label_map(shape, rng, [ids['car'], ids['person']],
                               ids['road'], ignore_border=False)
            label[:max(shape[0] // 8, 1)] = 255
            mmcv.imwrite(label, osp.join(seg_dir, name + label_suffix))
            names[split].append(name)
    return names


def write_ade20k(root: str,
                 num_train: int = 1,
                 num_val: int = 1,
                 shape=(24, 32),
                 seed: int = 0) -> Dict[str, List[str]]:
    """ADE20K (SceneParsing, ``ADEChallengeData2016.zip`` unpacked):
    ``images/{training,validation}/ADE_{train,val}_<8 digits>.jpg`` and
    ``annotations/.../<same name>.png`` with raw values (0 = other; wall,
    person, palm: :data:`ADE20K_RAW`).

    Args:
        root (str): The new ``data/ade/ADEChallengeData2016`` folder.
        num_train (int): Training images. Defaults to 1.
        num_val (int): Validation images. Defaults to 1.
        shape (tuple): ``(h, w)`` of every image. Defaults to (24, 32).
        seed (int): Seed of the pixels. Defaults to 0.

    Returns:
        dict: The image names (no suffix) of each split.
    """
    rng = np.random.default_rng(seed)
    names = {}
    for split, prefix, num in (('training', 'train', num_train),
                               ('validation', 'val', num_val)):
        img_dir = osp.join(root, 'images', split)
        seg_dir = osp.join(root, 'annotations', split)
        os.makedirs(img_dir)
        os.makedirs(seg_dir)
        names[split] = []
        for i in range(1, num + 1):
            name = f'ADE_{prefix}_{i:08d}'
            mmcv.imwrite(_image(shape, rng), osp.join(img_dir, name + '.jpg'))
            label = _label_map(shape, rng,
                               [ADE20K_RAW['person'], ADE20K_RAW['palm']],
                               ADE20K_RAW['wall'], ignore_border=False)
            label[-2:] = 0  # "other"
            mmcv.imwrite(label, osp.join(seg_dir, name + '.png'))
            names[split].append(name)
    return names


def write_voc12aug(root: str,
                   num_train: int = 1,
                   num_val: int = 1,
                   num_aug: int = 1,
                   shape=(24, 32),
                   seed: int = 0) -> Dict[str, List[str]]:
    """Pascal VOC 2012 after mmseg's ``voc_aug.py``: ``JPEGImages/<id>.jpg``,
    VOC's palette-PNG labels ``SegmentationClass/<id>.png`` (train + val,
    with 255 object boundaries), SBD's grey labels
    ``SegmentationClassAug/<id>.png`` (every id), and
    ``ImageSets/Segmentation/{train,val,trainval,aug,trainaug}.txt``.
    ``aug.txt`` holds SBD ids in neither VOC train nor val; every image has
    background and person pixels.

    Args:
        root (str): The new ``data/VOCdevkit/VOC2012`` folder.
        num_train (int): Ids of ``train.txt``. Defaults to 1.
        num_val (int): Ids of ``val.txt``. Defaults to 1.
        num_aug (int): Ids of ``aug.txt``. Defaults to 1.
        shape (tuple): ``(h, w)`` of every image (the real ones are about
            375 x 500). Defaults to (24, 32).
        seed (int): Seed of the pixels. Defaults to 0.

    Returns:
        dict: The ids of each split file.
    """
    rng = np.random.default_rng(seed)
    ids = dict(
        train=[f'2007_{i:06d}' for i in range(32, 32 + num_train)],
        val=[f'2007_{i:06d}' for i in range(1000, 1000 + num_val)],
        aug=[f'2008_{i:06d}' for i in range(2, 2 + num_aug)])
    folders = {
        name: osp.join(root, name)
        for name in ('JPEGImages', 'SegmentationClass',
                     'SegmentationClassAug', 'ImageSets/Segmentation')
    }
    for folder in folders.values():
        os.makedirs(folder)
    for split in ('train', 'val', 'aug'):
        for name in ids[split]:
            mmcv.imwrite(
                _image(shape, rng),
                osp.join(folders['JPEGImages'], name + '.jpg'))
            label = _label_map(shape, rng, [VOC_IDS['person']],
                               VOC_IDS['background'], ignore_border=True)
            if split != 'aug':
                voc = Image.fromarray(label, 'L')
                voc.putpalette(voc_palette())  # -> mode 'P', as VOC's files
                voc.save(osp.join(folders['SegmentationClass'], name + '.png'))
            sbd = np.where(label == 255, VOC_IDS['person'], label)
            Image.fromarray(sbd.astype(np.uint8)).save(
                osp.join(folders['SegmentationClassAug'], name + '.png'))
    split_files = dict(ids)
    split_files['trainval'] = ids['train'] + ids['val']
    split_files['trainaug'] = ids['train'] + ids['aug']
    for split, names in split_files.items():
        with open(osp.join(folders['ImageSets/Segmentation'],
                           f'{split}.txt'), 'w') as f:
            f.write(''.join(f'{name}\n' for name in names))
    return ids


def write_rawframes(root: str,
                    dataset: str = 'ucf101',
                    videos: Dict[str, Sequence[int]] = None,
                    num_frames: int = 3,
                    shape=(16, 16),
                    seed: int = 0) -> Dict[str, List[str]]:
    """UCF101 or HMDB51 frames as mmaction's ``build_rawframes.py`` and
    ``build_file_list.py`` write them: ``rawframes/<class>/<video>/
    img_00001.jpg`` ... and ``<dataset>_{train,val}_split_1_rawframes.txt``
    (``<class>/<video> <num_frames> <label>`` a line, 0-based labels).

    Args:
        root (str): The new ``data/ucf101`` or ``data/hmdb51`` folder.
        dataset (str): ``'ucf101'`` or ``'hmdb51'``.
        videos (dict): Labels (0 or 1) of the videos of each split, e.g.
            ``dict(train=[0, 0, 1], val=[0, 1])``. Defaults to one video of
            class 0 in each split.
        num_frames (int): Frames per video. Defaults to 3.
        shape (tuple): ``(h, w)`` of the frames (the real ones are
            240 x 320). Defaults to (16, 16).
        seed (int): Seed of the pixels. Defaults to 0.

    Returns:
        dict: The ``<class>/<video>`` names of each split.
    """
    if dataset not in VIDEO_CLASSES:
        raise ValueError(f'dataset must be one of {sorted(VIDEO_CLASSES)}, '
                         f'got {dataset!r}')
    videos = videos or dict(train=[0], val=[0])
    rng = np.random.default_rng(seed)
    names = {}
    count = 0
    for split in ('train', 'val'):
        names[split] = []
        lines = []
        for label in videos[split]:
            count += 1
            cls, pattern = VIDEO_CLASSES[dataset][label]
            video = f'{cls}/' + pattern.format(
                group=count, clip=count if dataset == 'hmdb51' else 1)
            frame_dir = osp.join(root, 'rawframes', video)
            os.makedirs(frame_dir)
            for i in range(1, num_frames + 1):
                mmcv.imwrite(
                    _image(shape, rng),
                    osp.join(frame_dir, f'img_{i:05d}.jpg'))
            lines.append(f'{video} {num_frames} {label}\n')
            names[split].append(video)
        with open(osp.join(root, f'{dataset}_{split}_split_1_rawframes.txt'),
                  'w') as f:
            f.write(''.join(lines))
    return names


def write_ucf101(root: str, num_frames: int = 3) -> Dict[str, List[str]]:
    """A minimal UCF101 rawframes copy: one video of class 0, :data:`VIDEO`,
    of ``num_frames`` 16x16 JPEG frames in the training list, another in the
    validation list (:func:`write_rawframes`)."""
    return write_rawframes(root, 'ucf101', dict(train=[0], val=[0]),
                           num_frames)
