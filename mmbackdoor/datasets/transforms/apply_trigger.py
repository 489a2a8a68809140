"""Stamp a trigger on every sample (triggered test sets)."""
import os.path as osp
from typing import Dict, Hashable, Optional, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

from mmbackdoor.registry import TRIGGERS
from mmbackdoor.triggers import BaseTrigger


def build_trigger(trigger: Union[dict, BaseTrigger]) -> BaseTrigger:
    """Build a trigger from a config dict (registry ``TRIGGERS``) or pass an
    instance through.

    Raises:
        TypeError: If ``trigger`` is neither, naming the ``trigger`` key.
    """
    if isinstance(trigger, BaseTrigger):
        return trigger
    if isinstance(trigger, dict):
        built = TRIGGERS.build(trigger)
        if not isinstance(built, BaseTrigger):
            raise TypeError(f'trigger={trigger!r} built a '
                            f'{type(built).__name__}, not a BaseTrigger')
        return built
    raise TypeError('trigger must be a config dict (e.g. '
                    "dict(type='LineTrigger', height=8)) or a BaseTrigger, "
                    f'got {trigger!r}')


def trigger_key(results: Dict) -> Optional[Hashable]:
    """The key a trigger uses for seeded placement: the file name of the
    sample (``img_path``, else ``filename``, else ``frame_dir``)."""
    for name in ('img_path', 'filename', 'frame_dir'):
        if results.get(name):
            return osp.basename(osp.normpath(str(results[name])))
    return None


def apply_to_frames(trigger: BaseTrigger, frames: list, clip_len: int,
                    key: Optional[Hashable]) -> list:
    """Apply ``trigger.apply_clip`` to consecutive chunks of ``clip_len``
    frames (one chunk per clip and crop, in mmaction's frame order).

    Args:
        trigger (BaseTrigger): The trigger.
        frames (list[np.ndarray]): ``H x W x C`` frames, ``num_clips x
            clip_len`` of them (times the number of crops after multi-crop).
        clip_len (int): Frames per clip.
        key (Hashable, optional): Identity of the video.

    Returns:
        list[np.ndarray]: New frames, same order, shapes and dtypes.
    """
    if clip_len < 1 or len(frames) % clip_len:
        raise ValueError(f'cannot split {len(frames)} frames into clips of '
                         f'clip_len={clip_len}')
    out = []
    for start in range(0, len(frames), clip_len):
        clip = np.stack(frames[start:start + clip_len])
        out.extend(trigger.apply_clip(clip, key))
    return out


@TRANSFORMS.register_module()
class ApplyTrigger(BaseTransform):
    """Stamp a trigger on every sample; annotations are untouched.

    Builds the triggered copy of a test set (Li et al., 2021, evaluation of
    ASR / PBA). Works for MMSegmentation results (``img``) and MMAction2
    results (``imgs``, a list of frames; each clip of ``clip_len`` frames gets
    ``trigger.apply_clip``, so multi-clip and multi-crop testing work). Place
    it after resizing / cropping and before the packing transform (and
    before mmaction's ``FormatShape``), at the scale the trigger was trained
    at.

    Required Keys:

    - img (np.ndarray) or imgs (list[np.ndarray])
    - clip_len (int), for ``imgs`` (defaults to all frames being one clip)

    Modified Keys:

    - img or imgs

    Args:
        trigger (dict | BaseTrigger): The trigger, e.g.
            ``dict(type='LineTrigger', height=8)``.

    Examples:
        >>> test_pipeline = [
        ...     dict(type='LoadImageFromFile'),
        ...     dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
        ...     dict(type='LoadAnnotations'),
        ...     dict(type='ApplyTrigger', trigger=dict(type='LineTrigger')),
        ...     dict(type='PackSegInputs')]
    """

    def __init__(self, trigger: Union[dict, BaseTrigger]) -> None:
        self.trigger = build_trigger(trigger)

    def transform(self, results: Dict) -> Dict:
        key = trigger_key(results)
        if 'img' in results:
            results['img'] = self.trigger.apply(results['img'], key)
        elif 'imgs' in results:
            frames = list(results['imgs'])
            clip_len = int(results.get('clip_len', len(frames)))
            results['imgs'] = apply_to_frames(self.trigger, frames, clip_len,
                                              key)
        else:
            raise KeyError("ApplyTrigger needs 'img' (MMSegmentation) or "
                           "'imgs' (MMAction2) in the results, got keys "
                           f'{sorted(results)}')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(trigger={self.trigger!r})'
