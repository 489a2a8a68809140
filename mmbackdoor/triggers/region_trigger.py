"""Triggers that alpha-blend a pattern into a rectangle of the image."""
from abc import abstractmethod
from numbers import Integral, Real
from typing import Hashable, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np

from .base_trigger import BaseTrigger

#: A size in pixels (int >= 1) or relative to the image (float in (0, 1]).
Size = Union[int, float]
#: A pixel value: one number for every channel, or one per channel in the
#: image's channel order (see :class:`BaseTrigger`).
Value = Union[float, Sequence[float]]
#: Channel orders of the images a trigger stamps (``channel_order``).
CHANNEL_ORDERS = ('bgr', 'rgb')


def resolve_size(size: Size, extent: int) -> int:
    """Pixels of a size given absolutely or relative to ``extent``.

    Args:
        size (int | float): ``int >= 1`` pixels, or ``float`` in ``(0, 1]``
            as a fraction of ``extent`` (rounded, at least 1 px).
        extent (int): Image extent along that axis.

    Returns:
        int: The size in pixels.
    """
    if isinstance(size, Integral):
        return int(size)
    return max(1, int(round(float(size) * extent)))


def check_size_arg(size: Size, name: str) -> None:
    """Validate a :data:`Size` argument at build time."""
    if isinstance(size, bool) or not isinstance(size, Real):
        raise TypeError(f'{name} must be an int (pixels) or a float in '
                        f'(0, 1] (fraction of the image), got {size!r}')
    if isinstance(size, Integral):
        if size < 1:
            raise ValueError(f'{name} must be >= 1 pixel, got {size}')
    elif not 0.0 < size <= 1.0:
        raise ValueError(f'{name} as a fraction of the image must be in '
                         f'(0, 1], got {size}')


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_choice_arg(value: str, name: str, choices: Sequence[str]) -> str:
    """Validate a string argument that takes one of ``choices``."""
    if not isinstance(value, str):
        raise TypeError(f'{name} must be a str, one of {tuple(choices)}, '
                        f'got {value!r}')
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, '
                         f'got {value!r}')
    return value


def check_int_arg(value: int, name: str, low: int) -> int:
    """Validate an integer argument ``>= low``."""
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(f'{name} must be an int >= {low}, got {value!r}')
    if value < low:
        raise ValueError(f'{name} must be an int >= {low}, got {value!r}')
    return int(value)


def check_value_arg(value: Value, name: str = 'value') -> np.ndarray:
    """Validate a :data:`Value` argument; return it as float32 array."""
    items = value.tolist() if isinstance(value, np.ndarray) else value
    if not _is_number(items):
        if not isinstance(items, (list, tuple)) or not all(
                _is_number(v) for v in items):
            raise TypeError(f'{name} must be a number or a sequence of '
                            f'per-channel numbers in [0, 255], got {value!r}')
        if not items:
            raise ValueError(f'{name} must be a number or a non-empty '
                             f'sequence of per-channel numbers, got '
                             f'{value!r}')
    arr = np.asarray(value, dtype=np.float32)
    if not np.all((arr >= 0) & (arr <= 255)):  # NaN is out of range too
        raise ValueError(f'{name} must lie in [0, 255], got {value!r}')
    return arr


def check_alpha_arg(alpha: float) -> float:
    """Validate the blending factor ``alpha`` in ``(0, 1]``."""
    if isinstance(alpha, bool) or not isinstance(alpha, Real):
        raise TypeError(f'alpha must be a float in (0, 1], got {alpha!r}')
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f'alpha must be in (0, 1], got {alpha}')
    return float(alpha)


def check_channel_order_arg(channel_order: str) -> str:
    """Validate ``channel_order`` (one of :data:`CHANNEL_ORDERS`)."""
    return check_choice_arg(channel_order, 'channel_order', CHANNEL_ORDERS)


def load_pattern_image(path: str,
                       name: str = 'pattern_file',
                       channel_order: str = 'bgr') -> np.ndarray:
    """Read a trigger image (``uint8``, ``H x W x 3`` in ``channel_order``,
    the order of the images it will be stamped on) or fail naming the
    argument."""
    if not isinstance(path, str):
        raise TypeError(f'{name} must be the path (str) of an image file, '
                        f'got {path!r}')
    if not path:
        raise ValueError(f'{name} must be the path of an image file, '
                         f'got {path!r}')
    try:
        img = mmcv.imread(path, flag='color', channel_order=channel_order)
    except (FileNotFoundError, OSError) as err:
        raise FileNotFoundError(f'{name}={path!r}: {err}') from err
    if img is None:
        raise ValueError(f'{name}={path!r} is not a readable image')
    return img


def blend(region: np.ndarray, pattern: np.ndarray, alpha: float) -> np.ndarray:
    """``(1 - alpha) * region + alpha * pattern`` in the region's dtype.

    Integer images are rounded and clipped to their range; float images are
    clipped to ``[0, 255]``.

    Args:
        region (np.ndarray): ``h x w [x C]`` pixels.
        pattern (np.ndarray): Broadcastable to ``region``.
        alpha (float): Blending factor in ``(0, 1]``.

    Returns:
        np.ndarray: Blended pixels, same shape and dtype as ``region``.
    """
    out = (1.0 - alpha) * region.astype(np.float32) + alpha * pattern
    if np.issubdtype(region.dtype, np.integer):
        info = np.iinfo(region.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    else:
        out = np.clip(out, 0.0, 255.0)
    return out.astype(region.dtype)


class RegionTrigger(BaseTrigger):
    """Base of triggers that blend a pattern into one rectangle.

    ``apply(img)[r, c] = (1 - alpha) * img[r, c] + alpha * pattern`` inside the
    rectangle ``(r, c)`` returned by :meth:`region`; pixels outside are
    untouched.

    Args:
        alpha (float): Blending factor in ``(0, 1]`` (1 pastes the pattern).
    """

    def __init__(self, alpha: float) -> None:
        self.alpha = check_alpha_arg(alpha)

    @abstractmethod
    def region(self, hw: Tuple[int, int],
               key: Optional[Hashable]) -> Tuple[slice, slice]:
        """Rows and columns the trigger covers on an ``H x W`` image."""

    @abstractmethod
    def pattern(self, h: int, w: int, channels: int) -> np.ndarray:
        """Float32 pattern of shape ``h x w x channels`` (or broadcastable)
        with values in ``[0, 255]``."""

    def apply(self,
              img: np.ndarray,
              key: Optional[Hashable] = None) -> np.ndarray:
        self.check_fits(img.shape)
        rows, cols = self.region(self._hw(img.shape), key)
        out = img.copy()
        patch = out[rows, cols]
        channels = 1 if patch.ndim == 2 else patch.shape[2]
        pattern = self.pattern(patch.shape[0], patch.shape[1], channels)
        if patch.ndim == 2:
            pattern = pattern[..., 0]
        out[rows, cols] = blend(patch, pattern, self.alpha)
        return out

    def mask(self,
             shape: Sequence[int],
             key: Optional[Hashable] = None) -> np.ndarray:
        self.check_fits(shape)
        hw = self._hw(shape)
        mask = np.zeros(hw, dtype=bool)
        mask[self.region(hw, key)] = True
        return mask

    @staticmethod
    def _value_pattern(value: np.ndarray,
                       channels: int,
                       name: str = 'value') -> np.ndarray:
        """A ``1 x 1 x channels`` pattern of a validated :data:`Value`."""
        if value.ndim == 0:
            return np.full((1, 1, channels), value, dtype=np.float32)
        if value.size != channels:
            raise ValueError(f'{name} has {value.size} channel values but '
                             f'the image has {channels} channels')
        return value.reshape(1, 1, channels)

    @staticmethod
    def _image_pattern(image: np.ndarray, h: int, w: int,
                       channels: int) -> np.ndarray:
        """A loaded pattern image resized (bilinear) to ``h x w``."""
        if channels not in (1, image.shape[2]):
            raise ValueError(f'pattern_file has {image.shape[2]} channels '
                             f'but the image has {channels}')
        resized = mmcv.imresize(image, (w, h), interpolation='bilinear')
        resized = resized.astype(np.float32)
        if channels == 1:
            resized = resized.mean(axis=2, keepdims=True)
        return resized
