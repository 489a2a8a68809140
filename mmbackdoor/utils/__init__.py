"""Leaf helpers shared by every layer (they import nothing else of
mmbackdoor):

- ``config``: dataset-config unwrapping, registry type names and the one
  rule that tells a poisoning transform;
- ``output_dir``: the one policy for folders that tools write, and the
  crash-safe way to write them (temporary sibling, then rename).
"""
import importlib.util

from .config import (dataset_cfg_with_pipeline, dataset_cfgs,
                     dataset_with_pipeline, is_poison_transform,
                     iter_transforms, type_name)
from .output_dir import (atomic_files, atomic_output_dir, check_output_dir,
                         recover_interrupted_files)


def is_installed(package: str) -> bool:
    """Whether ``package`` can be imported (without importing it)."""
    return importlib.util.find_spec(package) is not None


__all__ = [
    'atomic_files', 'atomic_output_dir', 'check_output_dir',
    'dataset_cfg_with_pipeline', 'dataset_cfgs', 'dataset_with_pipeline',
    'is_installed', 'is_poison_transform', 'iter_transforms',
    'recover_interrupted_files', 'type_name'
]
