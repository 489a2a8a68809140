"""A square (or rectangular) patch trigger."""
from typing import Hashable, Optional, Sequence, Tuple, Union

import numpy as np

from mmbackdoor.poisoning.selection import sample_rng
from mmbackdoor.registry import TRIGGERS
from .region_trigger import (RegionTrigger, Size, Value,
                             check_channel_order_arg, check_choice_arg,
                             check_int_arg, check_size_arg, check_value_arg,
                             load_pattern_image, resolve_size)


@TRIGGERS.register_module()
class PatchTrigger(RegionTrigger):
    """A patch blended into the image at a fixed or seeded location.

    ``x'[patch] = (1 - alpha) * x[patch] + alpha * pattern``.

    Args:
        size (int | float | tuple): Patch size ``s`` or ``(h, w)``; ``int``
            pixels or ``float`` in ``(0, 1]`` relative to the image height
            (for ``h``) and width (for ``w``). Defaults to 16.
        location (str): One of ``'top_left'``, ``'top_right'``,
            ``'bottom_left'``, ``'bottom_right'``, ``'center'`` or
            ``'random'`` (uniform over valid positions, drawn from
            ``(seed, sample key)``, so fixed per sample). Defaults to
            ``'bottom_right'``.
        pattern (str): ``'solid'`` (``value``), ``'checkerboard'`` (black and
            white squares of ``cell`` pixels), ``'noise'`` (uniform noise
            drawn from ``seed``, the same for every sample) or ``'image'``
            (``pattern_file`` resized to the patch). Defaults to
            ``'checkerboard'``.
        value (float | Sequence[float]): Colour of the ``'solid'`` pattern,
            one number (grey) or one per channel in the channel order of the
            images (see :class:`BaseTrigger`). Defaults to 255.
        cell (int): Square size of the checkerboard, in pixels. Defaults to 2.
        pattern_file (str, optional): Image of the ``'image'`` pattern.
        margin (int): Distance in pixels from the image border for the
            corner and random locations. Defaults to 0.
        alpha (float): Blending factor in ``(0, 1]``. Defaults to 1.0.
        seed (int): Seed of the noise pattern and the random location.
            Defaults to 0.
        channel_order (str): Channel order of the images the trigger is
            applied to, ``'bgr'`` (mmseg) or ``'rgb'`` (mmaction frames);
            ``pattern_file`` is read in it. Defaults to ``'bgr'``.
    """

    LOCATIONS = ('top_left', 'top_right', 'bottom_left', 'bottom_right',
                 'center', 'random')
    PATTERNS = ('solid', 'checkerboard', 'noise', 'image')

    def __init__(self,
                 size: Union[Size, Tuple[Size, Size]] = 16,
                 location: str = 'bottom_right',
                 pattern: str = 'checkerboard',
                 value: Value = 255,
                 cell: int = 2,
                 pattern_file: Optional[str] = None,
                 margin: int = 0,
                 alpha: float = 1.0,
                 seed: int = 0,
                 channel_order: str = 'bgr') -> None:
        super().__init__(alpha)
        sizes = tuple(size) if isinstance(size,
                                          (tuple, list)) else (size, size)
        if len(sizes) != 2:
            raise ValueError(f'size must be one size or (h, w), got {size!r}')
        for s in sizes:
            check_size_arg(s, 'size')
        check_choice_arg(location, 'location', self.LOCATIONS)
        check_choice_arg(pattern, 'pattern', self.PATTERNS)
        check_int_arg(cell, 'cell', 1)
        check_int_arg(margin, 'margin', 0)
        check_channel_order_arg(channel_order)
        if pattern == 'image':
            self._image = load_pattern_image(
                pattern_file, channel_order=channel_order)
        elif pattern_file is not None:
            raise ValueError("pattern_file is only used with pattern='image'"
                             f', got pattern={pattern!r}')
        self.size = size
        self._sizes = sizes
        self.location = location
        self.pattern_name = pattern
        self.value = value
        self._value = check_value_arg(value)
        self.cell = int(cell)
        self.pattern_file = pattern_file
        self.margin = int(margin)
        self.seed = int(seed)
        self.channel_order = channel_order

    def patch_hw(self, hw: Tuple[int, int]) -> Tuple[int, int]:
        """Patch height and width in pixels on an ``H x W`` image."""
        return (resolve_size(self._sizes[0],
                             hw[0]), resolve_size(self._sizes[1], hw[1]))

    def check_fits(self, shape: Sequence[int]) -> None:
        hw = self._hw(shape)
        ph, pw = self.patch_hw(hw)
        if ph + 2 * self.margin > hw[0] or pw + 2 * self.margin > hw[1]:
            raise ValueError(
                f'PatchTrigger: size={self.size!r} ({ph}x{pw} px) with '
                f'margin={self.margin} does not fit an image of '
                f'{hw[0]}x{hw[1]}')

    def region(self, hw: Tuple[int, int],
               key: Optional[Hashable]) -> Tuple[slice, slice]:
        (h, w), (ph, pw), m = hw, self.patch_hw(hw), self.margin
        if self.location == 'center':
            y, x = (h - ph) // 2, (w - pw) // 2
        elif self.location == 'random':
            rng = sample_rng(self.seed, key, 'patch_location')
            y = int(rng.integers(m, h - ph - m + 1))
            x = int(rng.integers(m, w - pw - m + 1))
        else:
            vertical, horizontal = self.location.split('_')
            y = m if vertical == 'top' else h - ph - m
            x = m if horizontal == 'left' else w - pw - m
        return slice(y, y + ph), slice(x, x + pw)

    def pattern(self, h: int, w: int, channels: int) -> np.ndarray:
        if self.pattern_name == 'solid':
            return self._value_pattern(self._value, channels)
        if self.pattern_name == 'checkerboard':
            yy, xx = np.indices((h, w))
            board = ((yy // self.cell + xx // self.cell) % 2) * 255.0
            return board.astype(np.float32)[..., None]
        if self.pattern_name == 'noise':
            rng = np.random.default_rng(self.seed)
            return rng.integers(0, 256, (h, w, channels)).astype(np.float32)
        return self._image_pattern(self._image, h, w, channels)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size!r}, '
                f'location={self.location!r}, '
                f'pattern={self.pattern_name!r}, value={self.value!r}, '
                f'cell={self.cell}, pattern_file={self.pattern_file!r}, '
                f'margin={self.margin}, alpha={self.alpha!r}, '
                f'seed={self.seed}, channel_order={self.channel_order!r})')
