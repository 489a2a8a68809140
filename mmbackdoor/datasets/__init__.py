from mmbackdoor.utils import is_installed

__all__ = []

if is_installed('mmseg'):
    from .embedded_seg import EmbeddedSegDataset, generate_embedded_seg
    __all__ += ['EmbeddedSegDataset', 'generate_embedded_seg']

if is_installed('mmaction'):
    from .embedded_video import (SOURCE_CLASSES, TARGET_CLASSES,
                                 EmbeddedVideoDataset, generate_embedded_video)
    __all__ += [
        'EmbeddedVideoDataset', 'generate_embedded_video', 'TARGET_CLASSES',
        'SOURCE_CLASSES'
    ]
