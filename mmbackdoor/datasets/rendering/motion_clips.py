"""Clip rendering of the embedded video dataset
(:mod:`mmbackdoor.datasets.embedded_video`): textured objects whose class is
their motion.

- motions: the catalogue :data:`MOTIONS` (motion name -> offsets of the
  actor's pose over the clip) and its two disjoint class sets
  :data:`TARGET_CLASSES` and :data:`SOURCE_CLASSES`;
- textures: a 2x2-mean pyramid of scikit-image sample images, sampled
  bilinearly without aliasing (``_texture``, ``_sample_texture``);
- sprites: textured shapes given by a signed distance (``_shape_sdf``),
  drawn at random (``_sample_sprite``) and rendered with anti-aliased alpha
  at a sequence of poses (``_render_sprite``);
- :func:`sample_clip_params`: everything about a clip except its class (the
  background, ``_sample_background``, the actor, its motion magnitudes, one
  or two static distractors, sensor noise);
- :func:`render_clip`: the frames of those parameters with one motion.

The parameters are drawn *before* the class is applied, with the same random
draws whatever the class: the first frame of a clip carries no information
about its class (:func:`render_clip` of the same parameters gives a
byte-identical first frame for every motion), only motion across frames does.

The background is defocused (one or two octaves of blur) and of reduced
contrast, as behind an in-focus foreground: with sharp, full-contrast photo
backgrounds a small 3D CNN trained from scratch stayed at chance for 20+
epochs (the static high-contrast texture swamps the motion signal), which
would make the dataset useless as a few-minute CPU demo.

Only numpy, scikit-image and the standard library are used. A change of the
rendered frames must bump ``FORMAT_VERSION`` of
:mod:`~mmbackdoor.datasets.embedded_video`.
"""
from functools import lru_cache
from typing import Callable, Dict, Tuple

import numpy as np

Pose = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
MotionFn = Callable[[np.ndarray, Dict[str, float]], Pose]

#: scikit-image sample images used for backgrounds and object textures (only
#: the PNG ones: JPEG decoding may differ between library versions).
TEXTURE_NAMES = ('astronaut', 'brick', 'camera', 'cell', 'chelsea', 'coffee',
                 'coins', 'grass', 'gravel', 'immunohistochemistry', 'moon',
                 'page', 'text')
SHAPES = ('ellipse', 'rectangle', 'triangle', 'cross')


def _translation(ux: float, uy: float) -> MotionFn:
    """Straight motion along the unit vector ``(ux, uy)`` (image axes, y
    down) over a distance of ``shift`` pixels."""

    def motion(p: np.ndarray, m: Dict[str, float]) -> Pose:
        zero = np.zeros_like(p)
        return ux * m['shift'] * p, uy * m['shift'] * p, zero, zero

    return motion


def _rotation(direction: float) -> MotionFn:
    """Rotation about the object centre by ``turn`` radians; ``direction=+1``
    is clockwise on screen (the y axis points down)."""

    def motion(p: np.ndarray, m: Dict[str, float]) -> Pose:
        zero = np.zeros_like(p)
        return zero, zero, direction * m['turn'] * p, zero

    return motion


def _zoom(direction: float) -> MotionFn:
    """Scaling by ``exp(direction * zoom)`` over the clip."""

    def motion(p: np.ndarray, m: Dict[str, float]) -> Pose:
        zero = np.zeros_like(p)
        return zero, zero, zero, direction * m['zoom'] * p

    return motion


def _orbit(direction: float) -> MotionFn:
    """Motion along a circle of radius ``orbit_radius`` whose centre lies in
    direction ``orbit_dir`` from the start position, ``orbit_turn`` radians
    in all; ``direction=+1`` is clockwise on screen."""

    def motion(p: np.ndarray, m: Dict[str, float]) -> Pose:
        zero = np.zeros_like(p)
        phase = m['orbit_dir'] + np.pi + direction * m['orbit_turn'] * p
        dx = m['orbit_radius'] * (np.cos(m['orbit_dir']) + np.cos(phase))
        dy = m['orbit_radius'] * (np.sin(m['orbit_dir']) + np.sin(phase))
        return dx, dy, zero, zero

    return motion


def _oscillation(ux: float, uy: float) -> MotionFn:
    """One period of a sine back-and-forth of amplitude ``amplitude`` along
    ``(ux, uy)``, ending where it started."""

    def motion(p: np.ndarray, m: Dict[str, float]) -> Pose:
        zero = np.zeros_like(p)
        offset = m['amplitude'] * np.sin(2 * np.pi * p)
        return ux * offset, uy * offset, zero, zero

    return motion


_DIAG = float(np.sqrt(0.5))

#: Catalogue of motion classes: name -> function of the clip progress
#: ``p in [0, 1]`` (array) and the clip's motion magnitudes, returning the
#: actor's offsets ``(dx, dy, d_angle, d_log_scale)`` from its start pose.
MOTIONS: Dict[str, MotionFn] = {
    'move_left': _translation(-1, 0),
    'move_right': _translation(1, 0),
    'move_up': _translation(0, -1),
    'move_down': _translation(0, 1),
    'rotate_cw': _rotation(1),
    'rotate_ccw': _rotation(-1),
    'grow': _zoom(1),
    'shrink': _zoom(-1),
    'move_up_left': _translation(-_DIAG, -_DIAG),
    'move_up_right': _translation(_DIAG, -_DIAG),
    'move_down_left': _translation(-_DIAG, _DIAG),
    'move_down_right': _translation(_DIAG, _DIAG),
    'orbit_cw': _orbit(1),
    'orbit_ccw': _orbit(-1),
    'oscillate_horizontal': _oscillation(1, 0),
    'oscillate_vertical': _oscillation(0, 1),
}

#: Default classes of the embedded video dataset
#: (:mod:`~mmbackdoor.datasets.embedded_video`).
TARGET_CLASSES = ('move_left', 'move_right', 'move_up', 'move_down',
                  'rotate_cw', 'rotate_ccw', 'grow', 'shrink')
#: Other motions (disjoint from :data:`TARGET_CLASSES`) for pretraining.
SOURCE_CLASSES = ('move_up_left', 'move_up_right', 'move_down_left',
                  'move_down_right', 'orbit_cw', 'orbit_ccw',
                  'oscillate_horizontal', 'oscillate_vertical')


@lru_cache(maxsize=None)
def _texture(name: str, level: int = 0) -> np.ndarray:
    """Level ``level`` of a 2x2-mean pyramid of a scikit-image sample image,
    as a float32 RGB array in [0, 255]."""
    if level > 0:
        img = _texture(name, level - 1)
        h, w = img.shape[0] // 2, img.shape[1] // 2
        return img[:2 * h, :2 * w].reshape(h, 2, w, 2, 3).mean(axis=(1, 3))
    import skimage.data
    img = np.asarray(getattr(skimage.data, name)(), dtype=np.float32)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3])


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample ``img`` (h, w, c) at real pixel coordinates with bilinear
    interpolation and edge replication; returns ``x.shape + (c, )``."""
    h, w = img.shape[:2]
    x = np.clip(x, 0, w - 1)
    y = np.clip(y, 0, h - 1)
    x0 = np.minimum(np.floor(x).astype(np.int64), w - 2)
    y0 = np.minimum(np.floor(y).astype(np.int64), h - 2)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    gx = 1 - fx
    # one flat index gathers pixels about twice as fast as (y, x) pairs
    pixels = img.reshape(h * w, -1)
    i = y0 * w + x0
    top = pixels.take(i, axis=0) * gx + pixels.take(i + 1, axis=0) * fx
    bottom = (pixels.take(i + w, axis=0) * gx +
              pixels.take(i + w + 1, axis=0) * fx)
    return top * (1 - fy) + bottom * fy


def _sample_texture(name: str,
                    x: np.ndarray,
                    y: np.ndarray,
                    step: float,
                    blur: int = 0) -> np.ndarray:
    """Sample a texture at source pixel coordinates ``(x, y)`` whose output
    pixels lie ``step`` source pixels apart, without aliasing: read the
    pyramid level ``floor(log2(step))`` (plus ``blur`` levels of defocus)."""
    level = int(np.floor(np.log2(max(step, 1.0)))) + blur
    scale = 2.0**level
    return _bilinear(
        _texture(name, level), (x + 0.5) / scale - 0.5,
        (y + 0.5) / scale - 0.5)


def _shape_sdf(shape: str, aspect: float, qx: np.ndarray,
               qy: np.ndarray) -> np.ndarray:
    """Approximate signed distance (negative inside, in units of the object
    radius) to a shape inscribed in the unit disk, in object coordinates."""
    if shape == 'ellipse':
        return (np.sqrt(qx**2 + (qy / aspect)**2) - 1) * aspect
    if shape == 'rectangle':
        return np.maximum(np.abs(qx) - 0.9, np.abs(qy) - 0.9 * aspect)
    if shape == 'triangle':  # equilateral, circumradius 1, inradius 0.5
        normals = np.deg2rad([90., 210., 330.])
        dist = [np.cos(a) * qx + np.sin(a) * qy for a in normals]
        return np.maximum(np.maximum(dist[0], dist[1]), dist[2]) - 0.5
    if shape == 'cross':
        bar = 0.9 * aspect / 2
        horizontal = np.maximum(np.abs(qx) - 0.9, np.abs(qy) - bar)
        vertical = np.maximum(np.abs(qx) - bar, np.abs(qy) - 0.9)
        return np.minimum(horizontal, vertical)
    raise ValueError(f'shape must be one of {SHAPES}, got {shape!r}')


def _sample_sprite(rng: np.random.Generator, img_size: int,
                   center_range: Tuple[float, float],
                   radius_range: Tuple[float, float]) -> dict:
    """Draw a textured sprite: shape, pose, texture crop and colour
    transform; ranges are fractions of ``img_size``."""
    name = TEXTURE_NAMES[rng.integers(len(TEXTURE_NAMES))]
    h, w = _texture(name).shape[:2]
    half = rng.uniform(0.03, 0.08) * min(h, w)
    radius = rng.uniform(*radius_range) * img_size
    return dict(
        shape=SHAPES[rng.integers(len(SHAPES))],
        aspect=rng.uniform(0.5, 0.85),
        texture=name,
        tex_center=(rng.uniform(half, w - half), rng.uniform(half, h - half)),
        tex_half=half,
        # texture pixels per canvas pixel at the start pose
        tex_step=half / radius,
        gain=rng.uniform(0.6, 1.4, size=3),
        bias=rng.uniform(-40, 40, size=3),
        center=rng.uniform(*center_range, size=2) * img_size,
        angle=rng.uniform(0, 2 * np.pi),
        radius=radius)


def _sample_background(rng: np.random.Generator, img_size: int) -> np.ndarray:
    """A random crop of a scikit-image photo or texture, resampled to
    ``img_size`` squared, possibly defocused, with random contrast and tint
    (float32, may leave [0, 255] before clipping)."""
    name = TEXTURE_NAMES[rng.integers(len(TEXTURE_NAMES))]
    h, w = _texture(name).shape[:2]
    side = rng.uniform(0.3, 0.7) * min(h, w)
    step = side / img_size
    grid = (np.arange(img_size) + 0.5) * step
    x0 = rng.uniform(0, w - side)
    y0 = rng.uniform(0, h - side)
    crop = _sample_texture(
        name,
        x0 + grid[None, :],
        y0 + grid[:, None],
        step,
        blur=int(rng.integers(1, 3)))
    mean = crop.mean(axis=(0, 1))
    crop = mean + rng.uniform(0.3, 0.6) * (crop - mean)
    return crop * rng.uniform(0.7, 1.2, size=3) + rng.uniform(-30, 30, size=3)


def sample_clip_params(rng: np.random.Generator, num_frames: int,
                       img_size: int) -> dict:
    """Draw everything about a clip except its motion class.

    The draws do not depend on the class: rendered with any motion, the same
    parameters give the same first frame, and only the actor's motion tells
    the classes apart. Geometry is relative to ``img_size`` and motion
    magnitudes are totals over the clip, so any ``num_frames`` shows the
    same motions.

    Args:
        rng (np.random.Generator): Source of randomness for this clip.
        num_frames (int): Frames per clip.
        img_size (int): Side of the square frames in pixels.

    Returns:
        dict: Parameters for :func:`render_clip`.
    """
    s = float(img_size)
    background = _sample_background(rng, img_size)
    actor = _sample_sprite(rng, img_size, (0.3, 0.7), (0.14, 0.2))
    magnitudes = dict(
        shift=rng.uniform(0.3, 0.4) * s,
        turn=rng.uniform(0.6, 1.0) * np.pi,
        zoom=np.log(rng.uniform(1.8, 2.4)),
        orbit_radius=rng.uniform(0.12, 0.18) * s,
        orbit_dir=rng.uniform(0, 2 * np.pi),
        orbit_turn=rng.uniform(1.0, 1.5) * np.pi,
        amplitude=rng.uniform(0.12, 0.18) * s)
    distractors = [
        _sample_sprite(rng, img_size, (0.1, 0.9), (0.1, 0.18))
        for _ in range(rng.integers(1, 3))
    ]
    return dict(
        num_frames=num_frames,
        img_size=img_size,
        background=background,
        actor=actor,
        magnitudes=magnitudes,
        distractors=distractors,
        noise=rng.normal(
            0, rng.uniform(1, 3), size=(num_frames, img_size, img_size, 3)))


def _render_sprite(sprite: dict, cx: np.ndarray, cy: np.ndarray,
                   angle: np.ndarray, radius: np.ndarray,
                   img_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Colour and coverage of a sprite at ``n`` poses (arrays of shape
    ``(n, )``) on the ``img_size`` squared canvas: ``(n, H, W, 3)`` colours
    and ``(n, H, W, 1)`` anti-aliased alpha."""
    grid = np.arange(img_size, dtype=np.float64) + 0.5
    dx = grid[None, None, :] - cx[:, None, None]
    dy = grid[None, :, None] - cy[:, None, None]
    cos = np.cos(angle)[:, None, None]
    sin = np.sin(angle)[:, None, None]
    r = radius[:, None, None]
    # canvas = centre + r * R(angle) @ q  =>  q = R(-angle) @ (canvas - c) / r
    qx = (cos * dx + sin * dy) / r
    qy = (-sin * dx + cos * dy) / r
    sdf = _shape_sdf(sprite['shape'], sprite['aspect'], qx, qy)
    alpha = np.clip(0.5 - sdf * r, 0, 1)[..., None]
    tx, ty = sprite['tex_center']
    color = _sample_texture(sprite['texture'], tx + sprite['tex_half'] * qx,
                            ty + sprite['tex_half'] * qy, sprite['tex_step']
                            ) * sprite['gain'] + sprite['bias']
    return color, alpha


def render_clip(params: dict, motion: str) -> np.ndarray:
    """Render a clip from :func:`sample_clip_params` with a motion class.

    Frame ``t`` shows the actor at progress ``p = t / (T - 1)`` of its motion:
    ``(cx, cy, angle, log r) = start + MOTIONS[motion](p)``, composited in
    front of the static distractors, plus sensor noise.

    Args:
        params (dict): Clip parameters.
        motion (str): A key of :data:`MOTIONS`.

    Returns:
        np.ndarray: ``(T, H, W, 3)`` uint8 RGB frames.
    """
    if motion not in MOTIONS:
        raise ValueError(
            f'motion must be one of {sorted(MOTIONS)}, got {motion!r}')
    num_frames, img_size = params['num_frames'], params['img_size']
    progress = np.arange(num_frames) / (num_frames - 1)
    dx, dy, d_angle, d_log_r = MOTIONS[motion](progress, params['magnitudes'])
    actor = params['actor']
    actor_layer = _render_sprite(actor, actor['center'][0] + dx,
                                 actor['center'][1] + dy,
                                 actor['angle'] + d_angle,
                                 actor['radius'] * np.exp(d_log_r), img_size)
    layers = [
        _render_sprite(d, np.array([d['center'][0]]), np.array([
            d['center'][1]
        ]), np.array([d['angle']]), np.array([d['radius']]), img_size)
        for d in params['distractors']
    ] + [actor_layer]
    canvas = np.broadcast_to(params['background'],
                             (num_frames, img_size, img_size, 3))
    for color, alpha in layers:
        canvas = canvas * (1 - alpha) + color * alpha
    return np.clip(np.rint(canvas + params['noise']), 0, 255).astype(np.uint8)
