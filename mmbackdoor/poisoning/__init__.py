"""The poisoning core shared by the attacks and the OpenMMLab integration:

- ``selection``: the seeded, order-free choice of the poisoned subset;
- ``manifest``: the one versioned JSON manifest format (segmentation subsets,
  crafted video clips);
- ``relabel``: class references, target maps and the relabelling rules of the
  segmentation backdoors;
- ``video_keys``: how a video of an mmaction dataset is identified.
"""
from .manifest import (MANIFEST_FORMAT, MANIFEST_NAME, MANIFEST_VERSION,
                       PoisonManifest, dump_clip_manifest, dump_manifest,
                       file_sha256, load_clip, load_clip_manifest,
                       manifest_lookup, read_manifest)
from .relabel import (check_class_arg, check_victims_and_target,
                      load_target_map, relabel_fine_grained,
                      relabel_image_level, resize_target_map, resolve_class)
from .selection import (keys_fingerprint, num_to_poison, sample_key,
                        sample_rng, select_poisoned, stable_uniform)
from .video_keys import dataset_root, video_path

__all__ = [
    'MANIFEST_FORMAT', 'MANIFEST_NAME', 'MANIFEST_VERSION', 'PoisonManifest',
    'check_class_arg', 'check_victims_and_target', 'dump_manifest',
    'keys_fingerprint', 'load_target_map', 'num_to_poison', 'read_manifest',
    'relabel_fine_grained', 'relabel_image_level', 'resize_target_map',
    'resolve_class', 'sample_key', 'sample_rng', 'select_poisoned',
    'stable_uniform', 'dataset_root', 'dump_clip_manifest', 'file_sha256',
    'load_clip', 'load_clip_manifest', 'manifest_lookup', 'video_path'
]
