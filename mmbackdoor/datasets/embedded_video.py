"""Embedded synthetic video dataset: textured objects whose class is their
motion. This module holds its generation (:func:`generate_embedded_video`)
and the registered :class:`EmbeddedVideoDataset`; the clips are rendered by
:mod:`mmbackdoor.datasets.rendering.motion_clips`.

Every clip shows a background cut from a real photograph or texture of
scikit-image (``skimage.data``, shipped with the wheel, no download), one or
two static textured distractor objects and, in front of them, one textured
*actor* that moves. The class of a clip is the actor's motion (``move_left``,
``rotate_cw``, ``grow`` ...). Shapes, textures, colours, sizes, start pose,
motion magnitudes, distractors and sensor noise are random, and they are drawn
*before* the class is applied, with the same random draws whatever the class:
the first frame of a clip carries no information about its class
(:func:`render_clip` of the same parameters gives a byte-identical first frame
for every motion), only motion across frames does. The background is
defocused and of reduced contrast, so that a small 3D CNN trained from
scratch learns the motions within a few CPU minutes.

Clips are written as lossless PNG frame folders in MMAction2's rawframe layout,
read by the stock :class:`~mmaction.datasets.RawframeDataset` and
``RawFrameDecode``::

    data_root/
      rawframes/train_move_left_0000/img_00001.png ... img_00016.png
      train_list.txt   # "<clip_dir> <total_frames> <label>" per line
      val_list.txt
      meta.json        # generator arguments, written last

Two disjoint class sets come with the catalogue :data:`MOTIONS` (all three
defined with the clip rendering and re-exported here):
:data:`TARGET_CLASSES` (the default dataset) and :data:`SOURCE_CLASSES`
(other motions, to pretrain a network that attacker and victim of the
clean-label video backdoor then share, as with Kinetics-pretrained I3D in
Zhao et al., CVPR 2020).
"""
import os
import os.path as osp
import zlib
from typing import Callable, List, Optional, Sequence, Union

import cv2
import numpy as np
from mmaction.datasets import RawframeDataset
from mmaction.registry import DATASETS
from mmengine.utils import ProgressBar

from .generation import META_FILE, generate_atomically, read_meta
# SOURCE_CLASSES is re-exported for users of the dataset.
from .rendering.motion_clips import SOURCE_CLASSES  # noqa: F401
from .rendering.motion_clips import (MOTIONS, TARGET_CLASSES, render_clip,
                                     sample_clip_params)

#: Format version of the files written by :func:`generate_embedded_video`.
FORMAT_VERSION = 2
DEFAULT_NUM_TRAIN_PER_CLASS = 100
DEFAULT_NUM_VAL_PER_CLASS = 20
DEFAULT_NUM_FRAMES = 16
DEFAULT_IMG_SIZE = 64
FILENAME_TMPL = 'img_{:05}.png'
FRAMES_DIR = 'rawframes'
SPLITS = ('train', 'val')


def _check_config(seed: int, classes: Sequence[str], num_train_per_class: int,
                  num_val_per_class: int, num_frames: int,
                  img_size: int) -> dict:
    """Validate the generator arguments; return them as a JSON-able dict."""
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise TypeError('classes must be a sequence of motion names, got '
                        f'{classes!r}')
    unknown = [c for c in classes if c not in MOTIONS]
    if unknown:
        raise ValueError(f'classes has unknown motions {unknown}; allowed: '
                         f'{sorted(MOTIONS)}')
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError('classes must name at least two distinct motions, '
                         f'got {list(classes)}')
    bounds = dict(
        seed=(seed, 0),
        num_train_per_class=(num_train_per_class, 1),
        num_val_per_class=(num_val_per_class, 1),
        num_frames=(num_frames, 4),
        img_size=(img_size, 16))
    for key, (value, low) in bounds.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f'{key} must be an int, got {value!r}')
        if value < low:
            raise ValueError(f'{key} must be >= {low}, got {value}')
    return dict(
        format_version=FORMAT_VERSION,
        seed=int(seed),
        classes=list(classes),
        num_train_per_class=int(num_train_per_class),
        num_val_per_class=int(num_val_per_class),
        num_frames=int(num_frames),
        img_size=int(img_size))


def _write_dataset(root: str, config: dict) -> None:
    """Render every clip of ``config`` into the (new, empty) folder
    ``root``."""
    classes = config['classes']
    counts = dict(
        train=config['num_train_per_class'], val=config['num_val_per_class'])
    # The class set enters the seed so that source and target datasets with
    # the same seed do not share backgrounds and objects clip by clip.
    class_key = zlib.crc32(','.join(classes).encode())
    progress = ProgressBar(sum(counts.values()) * len(classes))
    for split_id, split in enumerate(SPLITS):
        lines = []
        for index in range(counts[split] * len(classes)):
            label = index % len(classes)
            clip = f'{split}_{classes[label]}_{index // len(classes):04d}'
            rng = np.random.default_rng(
                [config['seed'], class_key, split_id, index])
            frames = render_clip(
                sample_clip_params(rng, config['num_frames'],
                                   config['img_size']), classes[label])
            clip_dir = osp.join(root, FRAMES_DIR, clip)
            os.makedirs(clip_dir)
            for t, frame in enumerate(frames):
                path = osp.join(clip_dir, FILENAME_TMPL.format(t + 1))
                if not cv2.imwrite(path, frame[..., ::-1]):
                    raise OSError(f'could not write {path}')
            lines.append(f'{clip} {len(frames)} {label}\n')
            progress.update()
        with open(osp.join(root, f'{split}_list.txt'), 'w') as f:
            f.writelines(lines)


def generate_embedded_video(
        data_root: str,
        seed: int = 0,
        classes: Sequence[str] = TARGET_CLASSES,
        num_train_per_class: int = DEFAULT_NUM_TRAIN_PER_CLASS,
        num_val_per_class: int = DEFAULT_NUM_VAL_PER_CLASS,
        num_frames: int = DEFAULT_NUM_FRAMES,
        img_size: int = DEFAULT_IMG_SIZE,
        overwrite: bool = False) -> str:
    """Generate the embedded motion-recognition dataset into ``data_root``.

    Clip ``i`` of a split has class ``classes[i % len(classes)]`` and is a
    pure function of ``(seed, classes, split, i)``: the output is
    byte-identical for the same arguments (on one platform; numpy's
    vectorised transcendental functions may differ in the last bit between
    CPUs), and a dataset with more clips per class extends a smaller one.
    The data are rendered into a temporary sibling folder that is renamed
    into place, so concurrent callers (e.g. DDP ranks) and interrupted runs
    never leave a partial ``data_root``.

    Args:
        data_root (str): Folder to create.
        seed (int): Seed of every random draw. Defaults to 0.
        classes (Sequence[str]): Motion classes (keys of :data:`MOTIONS`),
            in label order. Defaults to :data:`TARGET_CLASSES`.
        num_train_per_class (int): Training clips per class. Defaults to
            ``DEFAULT_NUM_TRAIN_PER_CLASS``.
        num_val_per_class (int): Validation clips per class. Defaults to
            ``DEFAULT_NUM_VAL_PER_CLASS``.
        num_frames (int): Frames per clip (>= 4). Defaults to 16.
        img_size (int): Side of the square frames (>= 16). Defaults to 64.
        overwrite (bool): Replace an existing ``data_root``. Without it a
            complete dataset generated with the same arguments is kept as
            is (nothing is written), an empty folder is filled and any other
            content raises.
            Defaults to False.

    Returns:
        str: ``data_root``.
    """
    config = _check_config(seed, classes, num_train_per_class,
                           num_val_per_class, num_frames, img_size)
    return generate_atomically(data_root, config, _write_dataset,
                               'embedded video dataset', overwrite)


@DATASETS.register_module()
class EmbeddedVideoDataset(RawframeDataset):
    """The embedded synthetic motion-recognition dataset, generated on first
    use.

    A :class:`~mmaction.datasets.RawframeDataset` over the files written by
    :func:`generate_embedded_video`, with the motion names as
    ``metainfo['classes']``. With ``generate=True`` the data are generated
    when ``data_root`` does not exist yet; existing data must have been
    generated with the same arguments. With ``generate=False`` whatever
    ``data_root`` holds is read.

    Examples:
        >>> dataset = dict(
        ...     type='EmbeddedVideoDataset',
        ...     data_root='data/embedded_video',
        ...     ann_file='train_list.txt',
        ...     pipeline=train_pipeline)

    Args:
        ann_file (str): Annotation list, relative to ``data_root``
            (``'train_list.txt'`` or ``'val_list.txt'``).
        pipeline (list): Data transforms.
        data_root (str): Dataset folder.
        data_prefix (dict): Frame folder, relative to ``data_root``.
            Defaults to ``dict(img='rawframes')``.
        filename_tmpl (str): Frame file name template. Defaults to
            ``'img_{:05}.png'``.
        generate (bool): Generate missing data. Defaults to True.
        seed (int): Generator seed. Defaults to 0.
        classes (Sequence[str], optional): Motion classes. Defaults to
            :data:`TARGET_CLASSES` when generating, else the stored ones.
        num_train_per_class (int): See :func:`generate_embedded_video`.
        num_val_per_class (int): See :func:`generate_embedded_video`.
        num_frames (int): See :func:`generate_embedded_video`.
        img_size (int): See :func:`generate_embedded_video`.
        **kwargs: Other arguments of
            :class:`~mmaction.datasets.RawframeDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 data_root: str,
                 data_prefix: dict = dict(img=FRAMES_DIR),
                 filename_tmpl: str = FILENAME_TMPL,
                 generate: bool = True,
                 seed: int = 0,
                 classes: Optional[Sequence[str]] = None,
                 num_train_per_class: int = DEFAULT_NUM_TRAIN_PER_CLASS,
                 num_val_per_class: int = DEFAULT_NUM_VAL_PER_CLASS,
                 num_frames: int = DEFAULT_NUM_FRAMES,
                 img_size: int = DEFAULT_IMG_SIZE,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if not data_root:
            raise ValueError('data_root must name the dataset folder, e.g. '
                             "'data/embedded_video'")
        if generate:
            classes = TARGET_CLASSES if classes is None else classes
            # Fail at build time on bad arguments, even with lazy_init.
            classes = tuple(
                _check_config(seed, classes, num_train_per_class,
                              num_val_per_class, num_frames,
                              img_size)['classes'])
        else:
            meta = read_meta(data_root)
            if meta is None:
                raise FileNotFoundError(
                    f'data_root {data_root!r} holds no embedded video dataset'
                    f' (no {META_FILE}); set generate=True or run '
                    'tools/data/generate_embedded.py')
            stored = tuple(meta['classes'])
            if classes is not None and tuple(classes) != stored:
                raise ValueError(f'classes {tuple(classes)} differ from the '
                                 f'stored classes {stored} in {data_root!r}')
            classes = stored
        metainfo = dict(metainfo or {})
        if tuple(metainfo.get('classes', classes)) != classes:
            raise ValueError(f"metainfo['classes'] {metainfo['classes']} "
                             f'differ from the dataset classes {classes}')
        metainfo['classes'] = classes
        self.generate = generate
        self.generator_kwargs = dict(
            seed=seed,
            classes=classes,
            num_train_per_class=num_train_per_class,
            num_val_per_class=num_val_per_class,
            num_frames=num_frames,
            img_size=img_size)
        super().__init__(
            ann_file,
            pipeline=pipeline,
            data_root=data_root,
            data_prefix=data_prefix,
            filename_tmpl=filename_tmpl,
            metainfo=metainfo,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Generate the data if needed, then read the annotation list like
        :class:`~mmaction.datasets.RawframeDataset`."""
        if self.generate:
            generate_embedded_video(self.data_root, **self.generator_kwargs)
        return super().load_data_list()
