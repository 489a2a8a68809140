"""Embedded synthetic semantic-segmentation dataset: its generation
(:func:`generate_embedded_seg`) and the registered
:class:`EmbeddedSegDataset`. The scenes are rendered by
:mod:`mmbackdoor.datasets.rendering.seg_scenes`.

A small scene-parsing dataset that is generated on first use, from a seed,
into the folder layout every mmseg dataset reads::

    data_root/
    ├── img_dir/{train,val}/00000.png   RGB images
    ├── ann_dir/{train,val}/00000.png   uint8 label maps (no palette)
    └── meta.json                       generation parameters

Every image shows several objects of five classes (``road``, ``building``,
``vegetation``, ``car``, ``person``) painted over a cluttered background
(class 0). Objects and background are textured with random crops of the real
photographs and textures shipped inside scikit-image (``gravel``, ``brick``,
``grass``, ``astronaut``, ``chelsea``, ``coffee``, ...), jittered in colour,
scale and orientation, and placed at random positions, sizes and angles (as
in an aerial view, objects take any orientation), so a model has to learn
texture, colour and shape together. Shapes are
rasterised with 4x4 supersampling: a pixel is labelled with the class that
covers at least ``min_coverage`` of it; mixed pixels along object borders get
the ignore index 255, like the void borders of Pascal VOC.

``person`` and ``road`` are meant as the victim and target classes of a
fine-grained backdoor (Li et al., 2021): many training images contain both.
Quarter turns and flips are valid augmentations for this data.

Each image is a pure function of ``(seed, split, index)``, so the files are
bit-identical for the same seed (with the same numpy, scikit-image and
Pillow versions). Generation writes into a temporary sibling
folder and renames it into place, so concurrent DDP ranks or processes that
build the dataset at the same time are safe.
"""
import os
import os.path as osp
from typing import List

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from PIL import Image

from .generation import generate_atomically
# IGNORE_INDEX is re-exported for users of the dataset.
from .rendering.seg_scenes import IGNORE_INDEX  # noqa: F401
from .rendering.seg_scenes import CLASSES, render_sample

#: Cityscapes colours for the shared classes.
PALETTE = [[0, 0, 0], [128, 64, 128], [70, 70, 70], [107, 142, 35],
           [0, 0, 142], [220, 20, 60]]
#: Bumped whenever the generated content changes for a given seed.
FORMAT_VERSION = 1
SPLITS = ('train', 'val')
_DEFAULT_MIN_COVERAGE = 0.75
_DEFAULT_PERSON_SCALE = 1.0
#: Largest ``person_scale`` the scenes accept.
MAX_PERSON_SCALE = 3.0


def scaled_data_root(data_root: str, person_scale: float) -> str:
    """The folder for the data of ``data_root`` with persons scaled by
    ``person_scale``: ``data_root`` itself at 1, else
    ``<data_root>_person<scale>`` (``data/embedded_seg_person2``)."""
    if person_scale == _DEFAULT_PERSON_SCALE:
        return data_root
    return f'{osp.normpath(data_root)}_person{person_scale:g}'


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f'{name} must be an int, got {value!r}')
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {value}')


def _check_number(name: str, value, low: float, high: float) -> None:
    """``value`` is a number in ``(low, high]``."""
    if isinstance(value, bool) or not isinstance(
            value, (int, float)) or not low < value <= high:
        raise ValueError(f'{name} must be a number in ({low:g}, {high:g}], '
                         f'got {value!r}')


def _checked_meta(seed: int,
                  num_train: int,
                  num_val: int,
                  img_size: int,
                  min_coverage: float,
                  person_scale: float = _DEFAULT_PERSON_SCALE) -> dict:
    """Validate the generation arguments; return their ``meta.json``
    (``person_scale`` is stored only when it is not the default, so data
    generated before it existed stays valid)."""
    _check_int('seed', seed, 0)
    _check_int('num_train', num_train, 1)
    _check_int('num_val', num_val, 1)
    _check_int('img_size', img_size, 32)
    _check_number('min_coverage', min_coverage, 0.5, 1)
    _check_number('person_scale', person_scale, 0, MAX_PERSON_SCALE)
    meta = dict(
        generator='mmbackdoor.datasets.embedded_seg',
        format_version=FORMAT_VERSION,
        seed=int(seed),
        num_samples=dict(train=int(num_train), val=int(num_val)),
        img_size=int(img_size),
        min_coverage=float(min_coverage),
        classes=list(CLASSES),
        palette=PALETTE)
    if person_scale != _DEFAULT_PERSON_SCALE:
        meta['person_scale'] = float(person_scale)
    return meta


def _write(folder: str, meta: dict) -> None:
    """Write every sample of ``meta`` into the new, empty ``folder``."""
    seed = meta['seed']
    for split_id, split in enumerate(SPLITS):
        img_dir = osp.join(folder, 'img_dir', split)
        ann_dir = osp.join(folder, 'ann_dir', split)
        os.makedirs(img_dir)
        os.makedirs(ann_dir)
        for index in range(meta['num_samples'][split]):
            rng = np.random.default_rng([seed, split_id, index])
            img, label_map = render_sample(
                rng, meta['img_size'], meta['min_coverage'],
                meta.get('person_scale', _DEFAULT_PERSON_SCALE))
            name = f'{index:05d}.png'
            Image.fromarray(img).save(osp.join(img_dir, name))
            Image.fromarray(label_map).save(osp.join(ann_dir, name))


def generate_embedded_seg(data_root: str,
                          seed: int = 0,
                          *,
                          num_train: int = 400,
                          num_val: int = 100,
                          img_size: int = 64,
                          min_coverage: float = _DEFAULT_MIN_COVERAGE,
                          person_scale: float = _DEFAULT_PERSON_SCALE,
                          overwrite: bool = False) -> str:
    """Generate the embedded segmentation dataset into ``data_root``.

    Sample ``index`` of ``split`` is a pure function of
    ``(seed, split, index)`` (so the first samples do not change when
    ``num_train`` grows), and the written files are bit-identical for equal
    arguments. The data is written into a temporary sibling folder that is
    renamed into place, so processes generating the same dataset at the same
    time are safe (see :mod:`mmbackdoor.datasets.generation`). If
    ``data_root`` already holds a dataset made with the same arguments,
    nothing is written; an empty ``data_root`` folder is filled.

    Args:
        data_root (str): Target folder (``img_dir/``, ``ann_dir/``,
            ``meta.json`` are created inside it).
        seed (int): Seed of the whole dataset. Defaults to 0.
        num_train (int): Number of training samples. Defaults to 400.
        num_val (int): Number of validation samples. Defaults to 100.
        img_size (int): Image height and width, at least 32. Defaults to 64.
        min_coverage (float): Share of a pixel, in (0.5, 1], one class must
            cover to label the pixel; mixed border pixels below it are
            labelled 255 (ignore). Defaults to 0.75.
        person_scale (float): Size factor of the persons, in (0, 3]: the
            same scenes with persons this many times taller and wider (their
            limbs are 2-4 px wide at 1 on 64 px images). Defaults to 1.
        overwrite (bool): Replace an existing ``data_root``. Defaults to
            False.

    Returns:
        str: ``data_root``.

    Raises:
        FileExistsError: ``data_root`` is neither empty nor a dataset
            generated with these arguments, and ``overwrite`` is False.
    """
    meta = _checked_meta(seed, num_train, num_val, img_size, min_coverage,
                         person_scale)
    return generate_atomically(data_root, meta, _write,
                               'embedded segmentation dataset', overwrite)


@DATASETS.register_module()
class EmbeddedSegDataset(BaseSegDataset):
    """The embedded synthetic segmentation dataset, generated on first use.

    Reads ``img_dir/<split>`` and ``ann_dir/<split>`` under ``data_root``
    exactly like any mmseg dataset. With ``generate=True``, loading the data
    list first calls :func:`generate_embedded_seg`, which creates the data
    when ``data_root`` is missing and otherwise checks that it was generated
    with the same arguments.

    Examples:
        >>> train_dataloader = dict(dataset=dict(
        ...     type='EmbeddedSegDataset', data_root='data/embedded_seg',
        ...     data_prefix=dict(img_path='img_dir/train',
        ...                      seg_map_path='ann_dir/train'),
        ...     pipeline=[...]))

    Args:
        data_root (str): Dataset folder. Defaults to 'data/embedded_seg'.
        data_prefix (dict): Image and label folders of the split, relative to
            ``data_root``. Defaults to the train split.
        generate (bool): Generate the data if missing (and validate it if
            present). Defaults to True.
        seed (int): Generation seed. Defaults to 0.
        num_train (int): Generated training samples. Defaults to 400.
        num_val (int): Generated validation samples. Defaults to 100.
        img_size (int): Generated image size. Defaults to 64.
        person_scale (float): Size factor of the generated persons (see
            :func:`generate_embedded_seg`). Defaults to 1.
        **kwargs: Other :class:`mmseg.datasets.BaseSegDataset` arguments.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self,
                 data_root: str = 'data/embedded_seg',
                 data_prefix: dict = dict(
                     img_path='img_dir/train', seg_map_path='ann_dir/train'),
                 generate: bool = True,
                 seed: int = 0,
                 num_train: int = 400,
                 num_val: int = 100,
                 img_size: int = 64,
                 person_scale: float = _DEFAULT_PERSON_SCALE,
                 **kwargs) -> None:
        self.generate = generate
        self.generate_kwargs = dict(
            seed=seed,
            num_train=num_train,
            num_val=num_val,
            img_size=img_size,
            person_scale=person_scale)
        if generate:
            if not data_root:
                raise ValueError('EmbeddedSegDataset with generate=True '
                                 f'needs a data_root, got {data_root!r}')
            # Fail at build time, also with ``lazy_init=True``.
            _checked_meta(
                min_coverage=_DEFAULT_MIN_COVERAGE, **self.generate_kwargs)
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix='.png',
            seg_map_suffix='.png',
            reduce_zero_label=False,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Generate the data if needed, then list it like mmseg does."""
        if self.generate:
            generate_embedded_seg(self.data_root, **self.generate_kwargs)
        return super().load_data_list()
