"""Trigger patterns stamped on raw images (registry ``TRIGGERS``), and the
file format of the universal video trigger (``trigger_file``)."""
from .base_trigger import BaseTrigger
from .blend_trigger import BlendTrigger
from .line_trigger import LineTrigger
from .patch_trigger import PatchTrigger
from .region_trigger import RegionTrigger
from .trigger_file import (load_trigger_array, load_trigger_meta,
                           random_trigger, save_trigger)
from .universal_trigger import UniversalTrigger

__all__ = [
    'BaseTrigger', 'RegionTrigger', 'LineTrigger', 'PatchTrigger',
    'BlendTrigger', 'UniversalTrigger', 'load_trigger_array',
    'load_trigger_meta', 'random_trigger', 'save_trigger'
]
