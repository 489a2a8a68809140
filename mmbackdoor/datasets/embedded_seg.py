"""Embedded synthetic semantic-segmentation dataset.

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
import colorsys
import functools
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from PIL import Image, ImageDraw
from skimage import data as skdata
from skimage.transform import rescale

from .generation import generate_atomically

CLASSES = ('background', 'road', 'building', 'vegetation', 'car', 'person')
#: Cityscapes colours for the shared classes.
PALETTE = [[0, 0, 0], [128, 64, 128], [70, 70, 70], [107, 142, 35],
           [0, 0, 142], [220, 20, 60]]
IGNORE_INDEX = 255
#: Bumped whenever the generated content changes for a given seed.
FORMAT_VERSION = 1
SPLITS = ('train', 'val')

_BACKGROUND, _ROAD, _BUILDING, _VEGETATION, _CAR, _PERSON = range(6)
_SUPERSAMPLE = 4
#: Texture magnifications for a 64 px image (a 512 px photo becomes 102-170
#: px); scaled with ``img_size`` so larger images show the same content.
_TEXTURE_SCALES = (0.2, 0.25, 1 / 3)
_REFERENCE_SIZE = 64
#: Objects per image drawn for each class: probabilities of 0, 1, 2, 3.
_COUNT_PROBS = {
    _ROAD: (0.3, 0.55, 0.15, 0.0),
    _BUILDING: (0.35, 0.45, 0.2, 0.0),
    _VEGETATION: (0.3, 0.35, 0.25, 0.1),
    _CAR: (0.3, 0.35, 0.25, 0.1),
    _PERSON: (0.25, 0.3, 0.3, 0.15),
}
#: A class counts as visible when it covers at least this share of pixels.
_MIN_VISIBLE_FRACTION = 1 / 128
_MIN_VISIBLE_CLASSES = 2
_MAX_LAYOUT_ATTEMPTS = 100
_NOISE_STD = 0.015
_DEFAULT_MIN_COVERAGE = 0.75

# Texture sources: skimage.data loader and crop box (top, bottom, left,
# right) as fractions of the photo, restricting e.g. ``astronaut`` to the
# person.
_SOURCES: Dict[str, Tuple[Callable[[], np.ndarray], Tuple[float, ...]]] = {
    'gravel': (skdata.gravel, (0, 1, 0, 1)),
    'brick': (skdata.brick, (0, 1, 0, 1)),
    'grass': (skdata.grass, (0, 1, 0, 1)),
    'astronaut': (skdata.astronaut, (0.05, 1, 0.1, 0.65)),
    'motorcycle':
    (lambda: skdata.stereo_motorcycle()[0], (0.4, 0.95, 0.15, 0.8)),
    'rocket_sky': (skdata.rocket, (0, 0.5, 0.1, 0.35)),
    'chelsea': (skdata.chelsea, (0, 1, 0, 1)),
    'coffee': (skdata.coffee, (0, 1, 0, 1)),
    'rocket': (skdata.rocket, (0, 1, 0, 1)),
    'hubble': (skdata.hubble_deep_field, (0, 1, 0, 1)),
    'ihc': (skdata.immunohistochemistry, (0, 1, 0, 1)),
    'retina': (skdata.retina, (0.15, 0.85, 0.15, 0.85)),
    'moon': (skdata.moon, (0, 1, 0, 1)),
    'coins': (skdata.coins, (0, 1, 0, 1)),
    'clock': (skdata.clock, (0, 1, 0, 1)),
    'page': (skdata.page, (0, 1, 0, 1)),
    'text': (skdata.text, (0, 1, 0, 1)),
    'cell': (skdata.cell, (0, 1, 0, 1)),
}
_BACKGROUND_SOURCES = ('chelsea', 'coffee', 'rocket', 'hubble', 'ihc',
                       'retina', 'moon', 'coins', 'clock', 'page', 'text',
                       'cell')
_BUILDING_TINTS = ((0.78, 0.38, 0.28), (0.85, 0.75, 0.55), (0.68, 0.68, 0.72))
_LANE_COLOURS = ((0.92, 0.92, 0.92), (0.92, 0.8, 0.2))

# A primitive is ('poly', (N, 2) array of x, y) or ('disk', (x, y, r)) in
# image pixel coordinates; a part is a union of primitives with one texture.
Primitive = Tuple[str, np.ndarray]
Part = Tuple[List[Primitive], np.ndarray]


# --------------------------------------------------------------- textures
@functools.lru_cache(maxsize=None)
def _source(name: str) -> np.ndarray:
    """Source ``name`` cropped to its box, as shipped (uint8, grey or RGB)."""
    loader, (top, bottom, left, right) = _SOURCES[name]
    img = loader()
    h, w = img.shape[:2]
    return img[int(top * h):int(bottom * h), int(left * w):int(right * w)]


@functools.lru_cache(maxsize=None)
def _texture(name: str, scale: float) -> np.ndarray:
    """Source ``name`` as float32 RGB in [0, 1], rescaled by ``scale``."""
    img = _source(name).astype(np.float32) / 255
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    img = rescale(
        img[..., :3], scale, channel_axis=-1, anti_aliasing=True, order=1)
    return img.astype(np.float32)


def _crop(rng: np.random.Generator, name: str, size: int) -> np.ndarray:
    """A random ``size`` x ``size`` crop of a source at a random scale and
    quarter-turn / flip, mirrored if the source is smaller."""
    scale = _TEXTURE_SCALES[rng.integers(len(_TEXTURE_SCALES))]
    tex = _texture(name, float(scale * size / _REFERENCE_SIZE))
    if min(tex.shape[:2]) < size:
        pad = [(0, max(0, size - tex.shape[0])),
               (0, max(0, size - tex.shape[1])), (0, 0)]
        tex = np.pad(tex, pad, mode='symmetric')
    top = rng.integers(tex.shape[0] - size + 1)
    left = rng.integers(tex.shape[1] - size + 1)
    tex = np.rot90(tex[top:top + size, left:left + size], rng.integers(4))
    if rng.random() < 0.5:
        tex = tex[:, ::-1]
    return tex


def _jitter(rng: np.random.Generator, tex: np.ndarray) -> np.ndarray:
    """Random brightness, per-channel gain and offset."""
    gain = rng.uniform(0.8, 1.2) * rng.uniform(0.95, 1.05, size=3)
    return np.clip(tex * gain + rng.uniform(-0.05, 0.05), 0, 1)


def _luminance(tex: np.ndarray) -> np.ndarray:
    return tex.mean(axis=-1, keepdims=True)


def _random_hue_colour(rng: np.random.Generator, saturation: Tuple[float,
                                                                   float],
                       value: Tuple[float, float]) -> np.ndarray:
    return np.array(
        colorsys.hsv_to_rgb(rng.random(), rng.uniform(*saturation),
                            rng.uniform(*value)),
        dtype=np.float32)


def _class_texture(rng: np.random.Generator, label: int,
                   size: int) -> np.ndarray:
    """The main texture of an object of class ``label``."""
    if label == _ROAD:
        level = rng.uniform(0.45, 0.7)
        tint = np.array([level, level, level * rng.uniform(1.0, 1.08)])
        tex = _luminance(_crop(rng, 'gravel', size)) * tint
    elif label == _BUILDING:
        tint = np.array(_BUILDING_TINTS[rng.integers(len(_BUILDING_TINTS))])
        tex = _luminance(_crop(rng, 'brick', size)) * tint * 1.3
    elif label == _VEGETATION:
        tint = np.array([
            rng.uniform(0.25, 0.45),
            rng.uniform(0.55, 0.8),
            rng.uniform(0.1, 0.3)
        ])
        tex = _luminance(_crop(rng, 'grass', size)) * tint * 1.4
    elif label == _CAR:
        paint = _random_hue_colour(rng, (0.5, 1.0), (0.5, 1.0))
        tex = paint * (0.55 +
                       0.45 * _luminance(_crop(rng, 'motorcycle', size)))
    else:
        tex = _crop(rng, 'astronaut', size)
    return _jitter(rng, tex)


def _background_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A crop of a random clutter source; grey sources get a random tint."""
    name = _BACKGROUND_SOURCES[rng.integers(len(_BACKGROUND_SOURCES))]
    tex = _crop(rng, name, size)
    if _source(name).ndim == 2:
        tex = tex * _random_hue_colour(rng, (0.0, 0.6), (0.8, 1.0))
    return _jitter(rng, tex)


# ------------------------------------------------------------------ shapes
def _place(points: np.ndarray, centre: np.ndarray, angle: float) -> np.ndarray:
    """Rotate local ``(x, y)`` points by ``angle`` and move them to
    ``centre``."""
    c, s = np.cos(angle), np.sin(angle)
    return points @ np.array([[c, s], [-s, c]]) + centre


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _star_polygon(rng: np.random.Generator, radius: float) -> np.ndarray:
    """A random star-shaped polygon around the origin."""
    n = rng.integers(3, 8)
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = radius * rng.uniform(0.4, 1.0, n)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], -1)


def _coverage(prims: Sequence[Primitive],
              size: int) -> Optional[Tuple[np.ndarray, Tuple[slice, slice]]]:
    """Fraction of each pixel covered by the union of ``prims``
    (``_SUPERSAMPLE`` x ``_SUPERSAMPLE`` samples per pixel), computed inside
    the primitives' bounding box.

    Returns:
        tuple | None: The coverage of the box (h, w) and the box as
        ``(rows, cols)`` slices of the image, or None if the primitives lie
        outside the image.
    """
    lo, hi = np.full(2, np.inf), np.full(2, -np.inf)
    for kind, geom in prims:
        if kind == 'poly':
            lo, hi = np.minimum(lo, geom.min(0)), np.maximum(hi, geom.max(0))
        else:
            lo = np.minimum(lo, geom[:2] - geom[2])
            hi = np.maximum(hi, geom[:2] + geom[2])
    (x0, y0), (x1, y1) = np.clip(np.floor(lo), 0, size).astype(int), \
        np.clip(np.ceil(hi), 0, size).astype(int)
    if x0 >= x1 or y0 >= y1:
        return None
    ss = _SUPERSAMPLE
    mask = Image.new('L', ((x1 - x0) * ss, (y1 - y0) * ss))
    canvas = ImageDraw.Draw(mask)
    origin = np.array([x0, y0])
    for kind, geom in prims:
        # Supersampled pixel k spans [k, k + 1); PIL addresses its centre
        # as k.
        if kind == 'poly':
            pts = (geom - origin) * ss - 0.5
            canvas.polygon([tuple(p) for p in pts.tolist()], fill=1)
        else:
            x, y = (geom[:2] - origin) * ss - 0.5
            r = geom[2] * ss
            canvas.ellipse([x - r, y - r, x + r, y + r], fill=1)
    alpha = np.asarray(mask).reshape(y1 - y0, ss, x1 - x0, ss).sum(
        axis=(1, 3), dtype=np.uint8) / np.float32(ss * ss)
    return alpha, (slice(y0, y1), slice(x0, x1))


def _road(rng: np.random.Generator, size: int) -> List[Part]:
    """A strip across the image, wider at one end, with lane dashes."""
    centre = rng.uniform(0.2, 0.8, 2) * size
    angle = rng.uniform(0, np.pi)
    half = size * 1.5
    w0, w1 = rng.uniform(0.07, 0.16, 2) * size
    strip = np.array([[-half, -w0], [half, -w1], [half, w1], [-half, w0]])
    parts = [([('poly', _place(strip, centre,
                               angle))], _class_texture(rng, _ROAD, size))]
    if rng.random() < 0.6:
        dash, gap = rng.uniform(0.06, 0.1, 2) * size
        width = 0.012 * size
        starts = np.arange(-half, half, dash + gap) + rng.uniform(0, gap)
        dashes = [('poly',
                   _place(_rect(x, -width, x + dash, width), centre, angle))
                  for x in starts]
        colour = np.array(_LANE_COLOURS[rng.integers(len(_LANE_COLOURS))])
        parts.append(
            (dashes, _jitter(rng, np.broadcast_to(colour, (size, size, 3)))))
    return parts


def _building(rng: np.random.Generator, size: int) -> List[Part]:
    """A rectangle or an L-shaped block."""
    w, h = rng.uniform(0.12, 0.25, 2) * size
    prims = [_rect(-w, -h, w, h)]
    if rng.random() < 0.4:
        w2, h2 = rng.uniform(0.08, 0.15, 2) * size
        prims.append(_rect(w - w2, h - 2 * h2, w + w2, h + h2 * 0.5))
    centre, angle = rng.uniform(0, size, 2), rng.uniform(0, 2 * np.pi)
    return [([('poly', _place(p, centre, angle))
              for p in prims], _class_texture(rng, _BUILDING, size))]


def _vegetation(rng: np.random.Generator, size: int) -> List[Part]:
    """A canopy: union of a few overlapping disks."""
    centre = rng.uniform(0, size, 2)
    n = rng.integers(2, 6)
    offsets = rng.normal(0, 0.08 * size, (n, 2))
    radii = rng.uniform(0.06, 0.13, n) * size
    disks = [('disk', np.array([*(centre + o), r]))
             for o, r in zip(offsets, radii)]
    return [(disks, _class_texture(rng, _VEGETATION, size))]


def _car(rng: np.random.Generator, size: int) -> List[Part]:
    """Side view of a car: painted body and cabin, windows, wheels."""
    length = rng.uniform(0.3, 0.45) * size
    centre, angle = rng.uniform(0, size, 2), rng.uniform(0, 2 * np.pi)
    body = [
        _rect(-0.5, -0.05, 0.5, 0.2),
        np.array([[-0.3, -0.05], [0.25, -0.05], [0.15, -0.25], [-0.2, -0.25]])
    ]
    window = np.array([[-0.25, -0.08], [0.2, -0.08], [0.12, -0.21],
                       [-0.16, -0.21]])
    wheels = [np.array([x, 0.2, 0.1]) * length for x in (-0.3, 0.3)]

    def poly(p):
        return 'poly', _place(p * length, centre, angle)

    glass = _jitter(rng, _crop(rng, 'rocket_sky', size) * 0.8)
    tyre = _jitter(rng,
                   0.3 * _luminance(_crop(rng, 'gravel', size)) * np.ones(3))
    disks = [('disk', np.array([*_place(w[None, :2], centre, angle)[0], w[2]]))
             for w in wheels]
    return [([poly(p) for p in body], _class_texture(rng, _CAR, size)),
            ([poly(window)], glass), (disks, tyre)]


def _person(rng: np.random.Generator, size: int) -> List[Part]:
    """A standing figure: head, torso, arms and legs in stride."""
    h = rng.uniform(0.35, 0.55) * size
    centre, angle = rng.uniform(0, size, 2), rng.uniform(0, 2 * np.pi)
    stride = rng.uniform(-0.1, 0.1)
    reach = rng.uniform(0, 0.12)
    limbs = [
        _rect(-0.14, -0.3, 0.14, 0.08),
        np.array([[-0.13, 0.06], [-0.01, 0.06], [-0.01 + stride, 0.5],
                  [-0.13 + stride, 0.5]]),
        np.array([[0.01, 0.06], [0.13, 0.06], [0.13 - stride, 0.5],
                  [0.01 - stride, 0.5]]),
        np.array([[-0.14, -0.28], [-0.05, -0.28], [-0.1 - reach, 0.05],
                  [-0.19 - reach, 0.05]]),
        np.array([[0.05, -0.28], [0.14, -0.28], [0.19 + reach, 0.05],
                  [0.1 + reach, 0.05]]),
    ]
    prims = [('poly', _place(p * h, centre, angle)) for p in limbs]
    head = _place(np.array([[0.0, -0.4]]) * h, centre, angle)[0]
    prims.append(('disk', np.array([*head, 0.11 * h])))
    return [(prims, _class_texture(rng, _PERSON, size))]


_OBJECT_BUILDERS = {
    _ROAD: _road,
    _BUILDING: _building,
    _VEGETATION: _vegetation,
    _CAR: _car,
    _PERSON: _person,
}


def _paint(img: np.ndarray, cover: np.ndarray, parts: Sequence[Part],
           label: int) -> None:
    """Alpha-composite ``parts`` over ``img`` and update per-class pixel
    coverage ``cover`` (C, H, W) in place."""
    for prims, tex in parts:
        window = _coverage(prims, img.shape[0])
        if window is None:
            continue
        alpha, box = window
        img[box] += alpha[..., None] * (tex[box] - img[box])
        cover[(slice(None), *box)] *= 1 - alpha
        cover[(label, *box)] += alpha


def render_sample(rng: np.random.Generator, img_size: int,
                  min_coverage: float) -> Tuple[np.ndarray, np.ndarray]:
    """Render one image and its label map.

    Roads are painted first (they lie on the ground), every other object in
    random order. Layouts where fewer than two object classes are visible are
    redrawn from the same generator.

    Args:
        rng (np.random.Generator): Source of all randomness of the sample.
        img_size (int): Height and width in pixels.
        min_coverage (float): Share of a pixel one class must cover for the
            pixel to get that label; otherwise it gets 255 (ignore).

    Returns:
        tuple[np.ndarray, np.ndarray]: uint8 RGB image (H, W, 3) and uint8
        label map (H, W).
    """
    min_visible = _MIN_VISIBLE_FRACTION * img_size**2
    for _ in range(_MAX_LAYOUT_ATTEMPTS):
        counts = {
            label: rng.choice(len(probs), p=probs)
            for label, probs in _COUNT_PROBS.items()
        }
        others = [
            label for label, n in counts.items() if label != _ROAD
            for _ in range(n)
        ]
        order = [_ROAD] * counts[_ROAD] + list(rng.permutation(others))
        img = _background_texture(rng, img_size)
        cover = np.zeros((len(CLASSES), img_size, img_size), np.float32)
        cover[_BACKGROUND] = 1
        for _ in range(rng.integers(3, 7)):
            radius = rng.uniform(0.1, 0.4) * img_size
            poly = _star_polygon(rng, radius) + rng.uniform(0, img_size, 2)
            _paint(img, cover,
                   [([('poly', poly)], _background_texture(rng, img_size))],
                   _BACKGROUND)
        for label in order:
            _paint(img, cover, _OBJECT_BUILDERS[label](rng, img_size), label)
        label_map = cover.argmax(axis=0).astype(np.uint8)
        label_map[cover.max(axis=0) < min_coverage] = IGNORE_INDEX
        pixels = np.bincount(label_map.ravel(), minlength=len(CLASSES))
        if (pixels[1:len(CLASSES)] >= min_visible).sum() >= \
                _MIN_VISIBLE_CLASSES:
            break
    else:
        raise RuntimeError('no layout with enough visible classes in '
                           f'{_MAX_LAYOUT_ATTEMPTS} attempts')
    img += rng.normal(0, _NOISE_STD, img.shape).astype(np.float32)
    img = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
    return img, label_map


# -------------------------------------------------------------- generation
def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f'{name} must be an int, got {value!r}')
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {value}')


def _checked_meta(seed: int, num_train: int, num_val: int, img_size: int,
                  min_coverage: float) -> dict:
    """Validate the generation arguments; return their ``meta.json``."""
    _check_int('seed', seed, 0)
    _check_int('num_train', num_train, 1)
    _check_int('num_val', num_val, 1)
    _check_int('img_size', img_size, 32)
    if isinstance(min_coverage, bool) or not isinstance(
            min_coverage, (int, float)) or not 0.5 < min_coverage <= 1:
        raise ValueError('min_coverage must be a number in (0.5, 1], got '
                         f'{min_coverage!r}')
    return dict(
        generator='mmbackdoor.datasets.embedded_seg',
        format_version=FORMAT_VERSION,
        seed=int(seed),
        num_samples=dict(train=int(num_train), val=int(num_val)),
        img_size=int(img_size),
        min_coverage=float(min_coverage),
        classes=list(CLASSES),
        palette=PALETTE)


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
            img, label_map = render_sample(rng, meta['img_size'],
                                           meta['min_coverage'])
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
        overwrite (bool): Replace an existing ``data_root``. Defaults to
            False.

    Returns:
        str: ``data_root``.

    Raises:
        FileExistsError: ``data_root`` is neither empty nor a dataset
            generated with these arguments, and ``overwrite`` is False.
    """
    meta = _checked_meta(seed, num_train, num_val, img_size, min_coverage)
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
                 **kwargs) -> None:
        self.generate = generate
        self.generate_kwargs = dict(
            seed=seed, num_train=num_train, num_val=num_val, img_size=img_size)
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
