"""The paper's trigger: a full-width horizontal line."""
from typing import Hashable, Optional, Sequence, Tuple

import numpy as np

from mmbackdoor.registry import TRIGGERS
from .region_trigger import (RegionTrigger, Size, Value, check_choice_arg,
                             check_size_arg, check_value_arg, resolve_size)


@TRIGGERS.register_module()
class LineTrigger(RegionTrigger):
    """A horizontal line across the full width of the image.

    The default trigger of Li et al., "Hidden Backdoor Attack against
    Semantic Segmentation Models" (2021): rows ``[0, height)`` (or the last
    ``height`` rows) are blended towards ``value``:

    .. math::
        x'[r, :] = (1 - \\alpha) \\cdot x[r, :] + \\alpha \\cdot v
        \\quad \\text{for } r \\in \\text{rows}

    ``alpha=1`` paints a solid (by default black) line; the authors also used
    a near-invisible ``alpha=0.08``.

    Args:
        height (int | float): Line height, ``int`` pixels or ``float`` in
            ``(0, 1]`` relative to the image height. Defaults to 8.
        alpha (float): Blending factor in ``(0, 1]``. Defaults to 1.0.
        value (float | Sequence[float]): Colour blended towards, one value
            (grey) or one per channel in the channel order of the images (BGR
            for mmseg, RGB for mmaction frames; see :class:`BaseTrigger`).
            Defaults to 0 (black).
        position (str): ``'top'`` or ``'bottom'``. Defaults to ``'top'``.

    Examples:
        >>> trigger = TRIGGERS.build(dict(type='LineTrigger', height=8))
        >>> triggered = trigger(img)
    """

    POSITIONS = ('top', 'bottom')

    def __init__(self,
                 height: Size = 8,
                 alpha: float = 1.0,
                 value: Value = 0,
                 position: str = 'top') -> None:
        super().__init__(alpha)
        check_size_arg(height, 'height')
        check_choice_arg(position, 'position', self.POSITIONS)
        self.height = height
        self.value = value
        self._value = check_value_arg(value)
        self.position = position

    def check_fits(self, shape: Sequence[int]) -> None:
        h, _ = self._hw(shape)
        if resolve_size(self.height, h) > h:
            raise ValueError(f'LineTrigger: height={self.height} does not fit '
                             f'an image of height {h}')

    def region(self, hw: Tuple[int, int],
               key: Optional[Hashable]) -> Tuple[slice, slice]:
        rows = resolve_size(self.height, hw[0])
        if self.position == 'top':
            return slice(0, rows), slice(None)
        return slice(hw[0] - rows, hw[0]), slice(None)

    def pattern(self, h: int, w: int, channels: int) -> np.ndarray:
        return self._value_pattern(self._value, channels)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(height={self.height!r}, '
                f'alpha={self.alpha!r}, value={self.value!r}, '
                f'position={self.position!r})')
