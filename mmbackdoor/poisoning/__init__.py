"""Backdoor poisoning: deterministic subset selection, manifests and the
dataset wrapper that binds poisoning transforms to their dataset."""
from .poisoned_dataset import PoisonedDataset, find_poison_transforms
from .selection import (PoisonManifest, keys_fingerprint, num_to_poison,
                        sample_key, sample_rng, select_poisoned,
                        stable_uniform)
from mmbackdoor.utils import is_installed

__all__ = [
    'PoisonManifest', 'PoisonedDataset', 'find_poison_transforms',
    'keys_fingerprint', 'num_to_poison', 'sample_key', 'sample_rng',
    'select_poisoned', 'stable_uniform'
]

if is_installed('mmaction'):
    from .clean_label import (craft_poison, enhance_clips, load_manifest,
                              optimize_universal_trigger)
    __all__ += [
        'craft_poison', 'enhance_clips', 'load_manifest',
        'optimize_universal_trigger'
    ]
