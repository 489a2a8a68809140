"""Registered backdoor-poisoning transforms (mmengine root ``TRANSFORMS``,
so mmseg and mmaction configs find them without a prefix)."""
from .apply_trigger import ApplyTrigger
from .base_poison import BasePoison
from .fine_grained_poison import FineGrainedPoison, relabel_fine_grained
from .image_level_poison import ImageLevelPoison, relabel_image_level
from mmbackdoor.utils import is_installed

__all__ = [
    'ApplyTrigger', 'BasePoison', 'FineGrainedPoison', 'ImageLevelPoison',
    'relabel_fine_grained', 'relabel_image_level'
]

if is_installed('mmaction'):
    from .clean_label_poison import CleanLabelPoison
    __all__ += ['CleanLabelPoison']
