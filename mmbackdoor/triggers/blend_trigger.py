"""A full-image blended trigger (image file or seeded noise)."""
from typing import Hashable, Optional, Tuple

import numpy as np

from mmbackdoor.registry import TRIGGERS
from .region_trigger import (RegionTrigger, check_channel_order_arg,
                             check_choice_arg, load_pattern_image)


@TRIGGERS.register_module()
class BlendTrigger(RegionTrigger):
    """Blend an image or seeded noise over the whole image.

    ``x' = (1 - alpha) * x + alpha * p`` with ``p`` the pattern resized
    (bilinear) to the image (Chen et al., 2017, "Targeted Backdoor Attacks on
    Deep Learning Systems Using Data Poisoning", blended injection).

    Args:
        pattern (str): ``'noise'`` (uniform noise drawn from ``seed``) or
            ``'image'`` (``pattern_file``). Defaults to ``'noise'``.
        pattern_file (str, optional): Image of the ``'image'`` pattern.
        alpha (float): Blending factor in ``(0, 1]``. Defaults to 0.1.
        seed (int): Seed of the noise pattern. The noise is drawn at the
            image's size, so it is the same for all images of one size.
            Defaults to 0.
        channel_order (str): Channel order of the images the trigger is
            applied to, ``'bgr'`` (mmseg) or ``'rgb'`` (mmaction frames);
            ``pattern_file`` is read in it. Defaults to ``'bgr'``.
    """

    PATTERNS = ('noise', 'image')

    def __init__(self,
                 pattern: str = 'noise',
                 pattern_file: Optional[str] = None,
                 alpha: float = 0.1,
                 seed: int = 0,
                 channel_order: str = 'bgr') -> None:
        super().__init__(alpha)
        check_choice_arg(pattern, 'pattern', self.PATTERNS)
        check_channel_order_arg(channel_order)
        if pattern == 'image':
            self._image = load_pattern_image(
                pattern_file, channel_order=channel_order)
        elif pattern_file is not None:
            raise ValueError("pattern_file is only used with pattern='image'"
                             f', got pattern={pattern!r}')
        self.pattern_name = pattern
        self.pattern_file = pattern_file
        self.seed = int(seed)
        self.channel_order = channel_order

    def region(self, hw: Tuple[int, int],
               key: Optional[Hashable]) -> Tuple[slice, slice]:
        return slice(None), slice(None)

    def pattern(self, h: int, w: int, channels: int) -> np.ndarray:
        if self.pattern_name == 'noise':
            rng = np.random.default_rng(self.seed)
            return rng.integers(0, 256, (h, w, channels)).astype(np.float32)
        return self._image_pattern(self._image, h, w, channels)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(pattern={self.pattern_name!r}, '
                f'pattern_file={self.pattern_file!r}, alpha={self.alpha!r}, '
                f'seed={self.seed}, channel_order={self.channel_order!r})')
