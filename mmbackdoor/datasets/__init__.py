"""Datasets (registered in mmengine's root ``DATASETS`` or the codebase's):

- ``poisoned_dataset``: ``PoisonedDataset``, the wrapper that binds poisoning
  transforms to the dataset they poison;
- ``data_check``: the build-time check that a real dataset's files are
  where its config says (path, config key and expected layout otherwise);
- ``embedded_seg`` / ``embedded_video``: the embedded synthetic datasets,
  generated on first use (``generation``: atomic, seeded generation;
  ``rendering``: the procedural rendering of their scenes and clips, numpy,
  Pillow and scikit-image only);
- ``transforms``: the trigger and poisoning transforms.
"""
from mmbackdoor.utils import is_installed
from .data_check import (DATASET_LAYOUTS, check_dataloader_files,
                         check_dataset_files, dataset_file_problems)
from .poisoned_dataset import PoisonedDataset, find_poison_transforms

__all__ = [
    'DATASET_LAYOUTS', 'PoisonedDataset', 'check_dataloader_files',
    'check_dataset_files', 'dataset_file_problems', 'find_poison_transforms'
]

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
