"""The universal adversarial video trigger of Zhao et al. (CVPR 2020).

"Clean-Label Backdoor Attacks on Video Recognition Models": the trigger is one
``s x s`` patch per frame, pasted at a fixed corner of every frame of a clip
(patch ``t`` on frame ``t``). It is optimised against a clean recognizer with
``tools/video/generate_trigger.py``
(:func:`mmbackdoor.attacks.video.optimize_universal_trigger`) and stored
losslessly as a ``.npy`` array of shape ``T x s x s x C`` (``uint8``), its
settings in a ``.json`` next to it (the file format:
:mod:`mmbackdoor.triggers.trigger_file`).
``T = 1`` is a static trigger (the same patch on every frame), the only kind
that fits 2D recognizers whose clips are single frames (TSN, TSM).
"""
from typing import Hashable, Optional, Sequence, Tuple

import numpy as np

from mmbackdoor.registry import TRIGGERS
from .base_trigger import BaseTrigger
from .trigger_file import (check_trigger_meta, load_trigger_array,
                           load_trigger_meta, trigger_metadata_path)

#: Corners a patch can be pasted at: top/bottom, left/right.
CORNERS = ('tl', 'tr', 'bl', 'br')


def corner_slices(height: int, width: int, size: int,
                  corner: str) -> Tuple[slice, slice]:
    """Rows and columns of a ``size x size`` square at ``corner``.

    Args:
        height (int): Image height.
        width (int): Image width.
        size (int): Side of the square, at most ``min(height, width)``.
        corner (str): One of :data:`CORNERS`.

    Returns:
        tuple[slice, slice]: ``(rows, cols)`` indexing the square.
    """
    if corner not in CORNERS:
        raise ValueError(f'corner must be one of {CORNERS}, got {corner!r}')
    rows = (slice(0, size)
            if corner[0] == 't' else slice(height - size, height))
    cols = slice(0, size) if corner[1] == 'l' else slice(width - size, width)
    return rows, cols


@TRIGGERS.register_module()
class UniversalTrigger(BaseTrigger):
    """Per-frame universal adversarial patch trigger (Zhao et al., 2020).

    Frame indices map one to one: on a clip of ``clip_len`` frames, patch
    ``t`` is pasted on the clip's ``t``-th sampled frame, whatever video frame
    it came from. A trigger with ``T`` patches therefore fits only clips of
    exactly ``T`` frames (a static trigger, ``T = 1``, fits every clip).
    Pass ``clip_len`` (the ``SampleFrames`` value of the pipeline) to check
    this when the config is built rather than when the first clip arrives.

    Patches are stored in the channel order of ``results['imgs']`` in the
    pipeline they were optimised on (RGB for mmaction's frame decoders).

    Args:
        trigger_file (str): ``.npy`` file, ``T x s x s x C`` ``uint8``.
        corner (str, optional): Where the patch goes: ``'tl'``, ``'tr'``,
            ``'bl'`` or ``'br'`` (the paper's bottom-right). Defaults to the
            corner recorded in the ``.json`` that ``generate_trigger.py``
            writes next to the trigger, else ``'br'``; a different explicit
            value is an error (the patch was optimised for its corner).
        clip_len (int, optional): Frames per clip of the pipeline the
            trigger is used in; must equal ``T`` unless ``T == 1``.
            Defaults to None (checked per clip only).

    Examples:
        >>> trigger = TRIGGERS.build(dict(
        ...     type='UniversalTrigger', trigger_file='trigger.npy',
        ...     clip_len=16))
        >>> poisoned = trigger.apply_clip(frames)  # 16 x H x W x 3
    """

    def __init__(self,
                 trigger_file: str,
                 corner: Optional[str] = None,
                 clip_len: Optional[int] = None) -> None:
        if corner is not None and corner not in CORNERS:
            raise ValueError(
                f'corner must be one of {CORNERS}, got {corner!r}')
        self.trigger_file = trigger_file
        self.patches = load_trigger_array(trigger_file)
        self.patches.setflags(write=False)
        meta_file = trigger_metadata_path(trigger_file)
        meta = load_trigger_meta(trigger_file)
        check_trigger_meta(trigger_file, self.patches, meta)
        stored = meta.get('corner')
        if stored is not None and corner is not None and stored != corner:
            raise ValueError(
                f'corner={corner!r} but {trigger_file!r} was optimised for '
                f'corner {stored!r} (see {meta_file})')
        self.corner = corner or stored or 'br'
        if self.corner not in CORNERS:
            raise ValueError(f'{meta_file} records corner {self.corner!r}; '
                             f'allowed: {CORNERS}')
        if clip_len is not None and (not isinstance(clip_len, int)
                                     or clip_len < 1):
            raise ValueError(
                f'clip_len must be a positive int, got {clip_len!r}')
        if clip_len is not None and self.num_frames not in (1, clip_len):
            raise ValueError(
                f'clip_len={clip_len} does not match the trigger: '
                f'{trigger_file!r} has {self.num_frames} per-frame patches; '
                f'allowed clip_len: {self.num_frames} (or use a static '
                'trigger, generate_trigger.py --static)')
        self.clip_len = clip_len

    @property
    def num_frames(self) -> int:
        """``T``, the number of per-frame patches (1 for a static one)."""
        return self.patches.shape[0]

    @property
    def size(self) -> int:
        """``s``, the side of each square patch in pixels."""
        return self.patches.shape[1]

    def check_fits(self, shape: Sequence[int]) -> None:
        """Raise if an ``s x s`` patch does not fit an image of ``shape``."""
        height, width = self._hw(shape)
        if self.size > min(height, width):
            raise ValueError(
                f'trigger size {self.size} (from {self.trigger_file!r}) is '
                f'larger than the frame {height}x{width}; allowed: size <= '
                f'{min(height, width)}')
        if len(shape) == 3 and shape[2] != self.patches.shape[3]:
            raise ValueError(
                f'the trigger has {self.patches.shape[3]} channels, the frame '
                f'{shape[2]}')

    def mask(self, shape: Sequence[int],
             key: Optional[Hashable] = None) -> np.ndarray:
        """``(H, W)`` bool mask, True on the ``s x s`` patch."""
        self.check_fits(shape)
        height, width = self._hw(shape)
        mask = np.zeros((height, width), dtype=bool)
        mask[corner_slices(height, width, self.size, self.corner)] = True
        return mask

    def apply(self, img: np.ndarray,
              key: Optional[Hashable] = None) -> np.ndarray:
        """Paste a static trigger on one frame.

        Raises:
            ValueError: If the trigger has one patch per frame (``T > 1``):
                which patch belongs to a lone frame is undefined; use
                :meth:`apply_clip`.
        """
        if self.num_frames != 1:
            raise ValueError(
                f'{self.trigger_file!r} has {self.num_frames} per-frame '
                'patches; paste it on whole clips with apply_clip (a single '
                'image takes a static trigger, generate_trigger.py --static)')
        return self.apply_clip(np.asarray(img)[None], key)[0]

    def apply_clip(self, frames: np.ndarray,
                   key: Optional[Hashable] = None) -> np.ndarray:
        """Paste patch ``t`` on frame ``t`` of a clip.

        Args:
            frames (np.ndarray): ``T x H x W x C`` frames (a sequence of
                ``H x W x C`` frames works too), values in ``[0, 255]``.
            key (Hashable, optional): Unused; the trigger is universal.

        Returns:
            np.ndarray: New ``T x H x W x C`` array with the frames' dtype.

        Raises:
            ValueError: If the clip length differs from ``T`` (and
                ``T > 1``), or the patch does not fit the frames.
        """
        frames = np.asarray(frames)
        if frames.ndim != 4:
            raise ValueError(
                'UniversalTrigger.apply_clip expects T x H x W x C frames, '
                f'got an array of shape {frames.shape}')
        if self.num_frames not in (1, frames.shape[0]):
            raise ValueError(
                f'the clip has {frames.shape[0]} frames but '
                f'{self.trigger_file!r} has {self.num_frames} per-frame '
                'patches; sample clips of that many frames (SampleFrames '
                'clip_len) or use a static trigger')
        self.check_fits(frames.shape[1:])
        out = frames.copy()
        rows, cols = corner_slices(frames.shape[1], frames.shape[2],
                                   self.size, self.corner)
        out[:, rows, cols] = self.patches.astype(frames.dtype)
        return out

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(trigger_file={self.trigger_file!r}, '
                f'corner={self.corner!r}, clip_len={self.clip_len})')
