"""Substitute stored clean-label poisoned clips (Zhao et al., CVPR 2020)."""
import os.path as osp
from typing import Any, Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmengine.registry import TRANSFORMS

from mmbackdoor.poisoning.manifest import (load_clip, load_clip_manifest,
                                           manifest_lookup)
from mmbackdoor.poisoning.selection import sample_key
from mmbackdoor.poisoning.video_keys import dataset_root, video_path
from mmbackdoor.utils import dataset_with_pipeline


@TRANSFORMS.register_module()
class CleanLabelPoison(BaseTransform):
    """Replace the clips of poisoned videos by their stored poisoned clip.

    Clean-label video backdoor (Zhao et al., "Clean-Label Backdoor Attacks
    on Video Recognition Models", CVPR 2020): a fraction of the *target-class*
    training videos is replaced by adversarially enhanced clips carrying the
    trigger; **labels never change**. The clips come from
    ``tools/video/craft_poison.py``, stored losslessly (``.npy``) with a JSON
    manifest in ``poison_dir``; the manifest and every clip (shape, dtype,
    SHA-256) are checked when the transform is built, and against the dataset
    when it is bound to it: wrap the training set in ``PoisonedDataset``,
    which calls :meth:`bind_dataset` when the dataset is built.

    Place it after the transforms that fix the input size (crop / resize /
    flip) and before ``FormatShape``: a poisoned video then always yields its
    stored clip, bit for bit, at the frame indices of the manifest and without
    augmentation -- as in the authors' code, which saved one clip per
    poisoned video. Other videos pass through untouched. The stored clip must
    have as many frames, and frames of the same size, as the pipeline
    produces at that point (craft with the matching clip length and crop).

    Required Keys:

    - imgs
    - frame_dir (RawframeDataset) or filename (VideoDataset)

    Modified Keys:

    - imgs (poisoned videos only)
    - frame_inds (poisoned videos only)

    Added Keys:

    - poisoned (bool)

    Args:
        poison_dir (str): Folder written by ``craft_poison.py``.

    Examples:
        >>> train_pipeline = [
        ...     dict(type='SampleFrames', clip_len=16, num_clips=1),
        ...     dict(type='RawFrameDecode'),
        ...     dict(type='RandomCrop', size=56),
        ...     dict(type='CleanLabelPoison', poison_dir='work_dirs/poison'),
        ...     dict(type='FormatShape', input_format='NCTHW'),
        ...     dict(type='PackActionInputs')]
        >>> train_dataloader = dict(dataset=dict(
        ...     type='PoisonedDataset',
        ...     dataset=dict(type='RawframeDataset', ...,
        ...                  pipeline=train_pipeline)))
    """

    def __init__(self, poison_dir: str) -> None:
        if not isinstance(poison_dir, str) or not osp.isdir(poison_dir):
            raise FileNotFoundError(
                f'poison_dir {poison_dir!r} is not a folder; create it with '
                'tools/video/craft_poison.py')
        self.poison_dir = poison_dir
        manifest = load_clip_manifest(poison_dir, verify=True)
        self.target_class = manifest['target_class']
        self.entries = manifest_lookup(manifest)
        self._root: Optional[str] = None

    def bind_dataset(self, dataset: Any) -> dict:
        """Check the manifest against ``dataset`` and fix how its videos are
        identified (path relative to the dataset's data prefix).

        Raises:
            ValueError: If the target class is not a class of the dataset, a
                manifest video is not in the dataset (the message tells a
                poison of frame folders used on video files, or the
                reverse), or its label there is not the manifest's (labels
                are never changed).

        Returns:
            dict: The manifest's entries by video.
        """
        inner = dataset_with_pipeline(dataset)
        classes = inner.metainfo.get('classes')
        if classes is not None and self.target_class >= len(classes):
            raise ValueError(
                f'poison_dir={self.poison_dir!r}: target_class '
                f'{self.target_class} is out of range for the dataset\'s '
                f'{len(classes)} classes')
        root = dataset_root(inner)
        labels = {}
        for i in range(len(inner)):
            info = inner.get_data_info(i)
            labels[sample_key(video_path(info), root)] = info['label']
        stems = {osp.splitext(k)[0]: k for k in labels}
        for key, entry in self.entries.items():
            if key not in labels:
                other = stems.get(osp.splitext(key)[0])
                raise ValueError(
                    f'poison_dir={self.poison_dir!r} lists video {key!r}, '
                    'which is not in the dataset: ' +
                    (f'the dataset has {other!r}; the poison was crafted '
                     'from frame folders (RawframeDataset) and the dataset '
                     'reads video files (VideoDataset), or the reverse: '
                     'craft it with the clean config of the same reader'
                     if other else 'the poison was crafted for another '
                     'dataset or data prefix'))
            if labels[key] != entry['label']:
                raise ValueError(
                    f'poison_dir={self.poison_dir!r}: video {key!r} has '
                    f'label {labels[key]} in the dataset but {entry["label"]}'
                    ' in the manifest')
        self._root = root
        print_log(
            f'CleanLabelPoison: {len(self.entries)} of {len(labels)} '
            f'training videos replaced by poisoned clips (target class '
            f'{self.target_class}; labels unchanged)',
            logger='current')
        return self.entries

    def transform(self, results: Dict) -> Dict:
        """Swap in the stored clip if the video is in the manifest, and flag
        the sample."""
        if self._root is None:
            raise RuntimeError(
                'CleanLabelPoison is not bound to its dataset: wrap the '
                "dataset in dict(type='PoisonedDataset', dataset=...)")
        key = sample_key(video_path(results), self._root)
        results['poisoned'] = key in self.entries
        if not results['poisoned']:
            return results
        entry = self.entries[key]
        clip = load_clip(self.poison_dir, entry)
        frames = results['imgs']
        current = (len(frames), ) + tuple(np.shape(frames[0]))
        if current != clip.shape:
            raise ValueError(
                f'CleanLabelPoison: the stored clip of {key!r} has shape '
                f'{clip.shape} (frames x H x W x C) but the pipeline has '
                f'{current} at this point; put CleanLabelPoison after the '
                'crop/resize and craft with the same clip length and crop')
        results['imgs'] = list(clip.astype(np.asarray(frames[0]).dtype))
        results['frame_inds'] = np.asarray(entry['frame_inds'], np.int32)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(poison_dir={self.poison_dir!r})'
