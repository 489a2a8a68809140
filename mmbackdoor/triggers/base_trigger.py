"""The interface every trigger implements.

A trigger is a pattern an attacker stamps on raw images. It works on the
arrays the loading pipeline produces (``H x W x C``, values in ``[0, 255]``)
before any data preprocessor normalises them, so segmentation transforms
(``results['img']``) and video transforms (``results['imgs']``, a list of
frames) can share it. The channel-order contract is stated once, in
:class:`BaseTrigger`.
"""
from abc import ABCMeta, abstractmethod
from typing import Hashable, Optional, Sequence, Tuple

import numpy as np


class BaseTrigger(metaclass=ABCMeta):
    """A trigger on raw ``H x W x C`` images, in the loader's channel order.

    **Channel order.** A trigger writes into the array it is given, in that
    array's channel order, which is the order the loading pipeline produced:
    BGR for MMSegmentation (``LoadImageFromFile``, i.e. ``mmcv.imread``), RGB
    for MMAction2 (``RawFrameDecode``, ``DecordDecode``, ``OpenCVDecode``,
    ...). It never swaps channels. Consequently:

    - colours given as numbers (e.g. ``value``) are in that same order:
      ``value=(0, 0, 255)`` is red on an mmseg image (BGR) and blue on an
      mmaction frame (RGB); one number (grey) is the same in both;
    - stored patterns (``UniversalTrigger``'s ``.npy``) are in the order of
      the pipeline they were made on;
    - a trigger that reads a colour *image file* (``pattern_file``) takes
      ``channel_order`` (``'bgr'``, the default, or ``'rgb'``), the order of
      the arrays it will stamp, and reads the file in that order, so the
      file's colours come out as in the file on both;
    - checkerboards (grey) and seeded noise (drawn per array channel) have
      no colour to honour.

    Subclasses implement :meth:`apply` and :meth:`mask`; they may override
    :meth:`apply_clip` (e.g. a different patch per frame) and
    :meth:`check_fits` (triggers with an absolute size).

    ``key`` is the identity of the sample (e.g. its image path). Triggers
    with a random placement or pattern derive their randomness from
    ``(seed, key)`` only, so the same sample always gets the same trigger,
    whatever the call order, worker or process.
    """

    def __call__(self,
                 img: np.ndarray,
                 key: Optional[Hashable] = None) -> np.ndarray:
        """Alias of :meth:`apply`."""
        return self.apply(img, key)

    @abstractmethod
    def apply(self,
              img: np.ndarray,
              key: Optional[Hashable] = None) -> np.ndarray:
        """Stamp the trigger on one image.

        Args:
            img (np.ndarray): ``H x W x C`` (or ``H x W``) image with values
                in ``[0, 255]``; ``uint8`` or floating point.
            key (Hashable, optional): Identity of the sample, for triggers
                with a seeded placement or pattern. Defaults to None.

        Returns:
            np.ndarray: A new array with the same shape and dtype; ``img`` is
            never modified in place.

        Raises:
            ValueError: If the trigger does not fit the image
                (see :meth:`check_fits`).
        """

    @abstractmethod
    def mask(self,
             shape: Sequence[int],
             key: Optional[Hashable] = None) -> np.ndarray:
        """Where the trigger writes pixels on an image of ``shape``.

        Args:
            shape (Sequence[int]): ``(H, W)`` or ``(H, W, C)``.
            key (Hashable, optional): As in :meth:`apply`. Defaults to None.

        Returns:
            np.ndarray: ``bool`` array of shape ``(H, W)``, True where
            :meth:`apply` may change a pixel.
        """

    def apply_clip(self,
                   frames: np.ndarray,
                   key: Optional[Hashable] = None) -> np.ndarray:
        """Stamp the trigger on every frame of a clip.

        The default applies :meth:`apply` with the same ``key`` to each
        frame, so a seeded placement is identical across the clip.

        Args:
            frames (np.ndarray): ``T x H x W x C`` frames (or a sequence of
                ``H x W x C`` frames of one shape).
            key (Hashable, optional): Identity of the clip. Defaults to None.

        Returns:
            np.ndarray: New ``T x H x W x C`` array, same dtype.
        """
        frames = np.asarray(frames)
        if frames.ndim != 4:
            raise ValueError(
                f'{type(self).__name__}.apply_clip expects T x H x W x C '
                f'frames, got an array of shape {frames.shape}')
        out = np.empty_like(frames)
        for t, frame in enumerate(frames):
            out[t] = self.apply(frame, key)
        return out

    def check_fits(self, shape: Sequence[int]) -> None:
        """Raise if the trigger is larger than an image of ``shape``.

        The default accepts every shape (triggers sized relative to the
        image always fit); triggers with absolute sizes override it.

        Args:
            shape (Sequence[int]): ``(H, W)`` or ``(H, W, C)``.

        Raises:
            ValueError: Naming the argument (e.g. ``height``, ``size``) that
                does not fit.
        """

    @staticmethod
    def _hw(shape: Sequence[int]) -> Tuple[int, int]:
        """``(H, W)`` of an image shape, validated."""
        if len(shape) not in (2, 3):
            raise ValueError(
                f'expected an image shape (H, W) or (H, W, C), got {shape}')
        return int(shape[0]), int(shape[1])
