"""Trigger patterns stamped on raw images (registry ``TRIGGERS``)."""
from .base_trigger import BaseTrigger
from .blend_trigger import BlendTrigger
from .line_trigger import LineTrigger
from .patch_trigger import PatchTrigger
from .region_trigger import RegionTrigger
from .universal_trigger import UniversalTrigger

__all__ = [
    'BaseTrigger', 'RegionTrigger', 'LineTrigger', 'PatchTrigger',
    'BlendTrigger', 'UniversalTrigger'
]
