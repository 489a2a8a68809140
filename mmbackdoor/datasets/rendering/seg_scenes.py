"""Procedural scene rendering of the embedded segmentation dataset
(:mod:`mmbackdoor.datasets.embedded_seg`, which describes what the images
show).

- textures: random crops of the photographs and textures shipped inside
  scikit-image (``_SOURCES``), rescaled, turned, flipped and jittered in
  colour (``_crop``, ``_jitter``), per class (``_class_texture``) and for the
  cluttered background (``_background_texture``);
- primitives: polygons and disks in image pixels (``_place``, ``_rect``,
  ``_star_polygon``); a *part* is a union of primitives with one texture;
- object builders: the parts of one object of each class (``_road``,
  ``_building``, ``_vegetation``, ``_car``, ``_person``);
- compositing: per-pixel coverage of a part by 4x4 supersampling with PIL
  (``_coverage``), alpha-composited over the image while the per-class
  coverage is updated (``_paint``);
- :func:`render_sample`: one image and its label map (:data:`CLASSES`, mixed
  border pixels :data:`IGNORE_INDEX`) from a random generator.

Only numpy, Pillow, scikit-image and the standard library are used. The
output is a pure function of the generator's state; a change of it must bump
``FORMAT_VERSION`` of :mod:`~mmbackdoor.datasets.embedded_seg`.
"""
import colorsys
import functools
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw
from skimage import data as skdata
from skimage.transform import rescale

CLASSES = ('background', 'road', 'building', 'vegetation', 'car', 'person')
#: Label of pixels no class covers enough of (void borders).
IGNORE_INDEX = 255

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


def _person(rng: np.random.Generator,
            size: int,
            scale: float = 1.0) -> List[Part]:
    """A standing figure: head, torso, arms and legs in stride, 0.35-0.55
    of the image tall (times ``scale``; limbs are 0.09-0.12 of the height
    wide)."""
    h = rng.uniform(0.35, 0.55) * size * scale
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


def render_sample(
        rng: np.random.Generator,
        img_size: int,
        min_coverage: float,
        person_scale: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """Render one image and its label map.

    Roads are painted first (they lie on the ground), every other object in
    random order. Layouts where fewer than two object classes are visible are
    redrawn from the same generator.

    Args:
        rng (np.random.Generator): Source of all randomness of the sample.
        img_size (int): Height and width in pixels.
        min_coverage (float): Share of a pixel one class must cover for the
            pixel to get that label; otherwise it gets 255 (ignore).
        person_scale (float): Size factor of the persons (the same random
            draws, so the same scenes with larger or smaller persons, unless
            they hide so much that a layout is redrawn). Defaults to 1.

    Returns:
        tuple[np.ndarray, np.ndarray]: uint8 RGB image (H, W, 3) and uint8
        label map (H, W).
    """
    min_visible = _MIN_VISIBLE_FRACTION * img_size**2
    builders = {
        **_OBJECT_BUILDERS, _PERSON:
        functools.partial(_person, scale=person_scale)
    }
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
            _paint(img, cover, builders[label](rng, img_size), label)
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
