"""Export a poisoned copy of a segmentation dataset (the attacker ships
files): same folder layout, poisoned images and labels, a JSON manifest."""
import copy
import os
import os.path as osp
import shutil
from typing import Any, Dict, List, Optional, Tuple

import cv2
import mmcv
import numpy as np
from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope
from mmengine.utils import ProgressBar
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mmbackdoor.datasets import PoisonedDataset
from mmbackdoor.poisoning import MANIFEST_NAME, PoisonManifest, sample_key
from mmbackdoor.utils import (atomic_output_dir, dataset_cfg_with_pipeline,
                              is_poison_transform, type_name)

#: Types of the transforms kept from the training pipeline: loading only
#: (the copy is in the original geometry, without augmentation).
LOADING_TRANSFORMS = ('LoadImageFromFile', 'LoadAnnotations')


def image_quality(clean: np.ndarray, poisoned: np.ndarray) -> Dict[str, float]:
    """PSNR (dB) and SSIM of a poisoned image against its clean original.

    Args:
        clean (np.ndarray): ``H x W x C`` uint8 image.
        poisoned (np.ndarray): Same shape and dtype.

    Returns:
        dict: ``psnr`` (``inf`` for identical images) and ``ssim``.
    """
    psnr = peak_signal_noise_ratio(clean, poisoned, data_range=255)
    ssim = structural_similarity(
        clean,
        poisoned,
        data_range=255,
        channel_axis=2 if clean.ndim == 3 else None)
    return dict(psnr=float(psnr), ssim=float(ssim))


def encode_label(new: np.ndarray, loaded: np.ndarray, raw: np.ndarray,
                 reduce_zero_label: bool,
                 label_map: Optional[Dict[int, int]]) -> np.ndarray:
    """Write a (poisoned) label map back in the file's raw encoding.

    Pixels whose label did not change keep their raw value; changed pixels
    get the raw value that loads as their new label, inverting mmseg's
    ``label_map`` and ``reduce_zero_label``.

    Args:
        new (np.ndarray): The poisoned label map (as loaded by mmseg).
        loaded (np.ndarray): The clean label map as loaded by mmseg.
        raw (np.ndarray): The clean label file's raw values.
        reduce_zero_label (bool): Whether the dataset reduces zero labels.
        label_map (dict, optional): The dataset's ``label_map`` (raw ->
            loaded).

    Returns:
        np.ndarray: Raw label values to write.
    """
    out = raw.copy()
    changed = new != loaded
    for value in np.unique(new[changed]):
        raw_value = int(value)
        if label_map:
            sources = [k for k, v in label_map.items() if v == raw_value]
            if len(sources) != 1:
                raise ValueError(
                    f'label {raw_value} cannot be written back: label_map '
                    f'maps {len(sources)} raw values to it')
            raw_value = sources[0]
        if reduce_zero_label:
            raw_value = 0 if raw_value == 255 else raw_value + 1
        out[changed & (new == value)] = raw_value
    return out


def read_label_file(path: str) -> Tuple[np.ndarray, Optional[List[int]]]:
    """A label file's raw values and, for a palette PNG (Pascal VOC's
    ``SegmentationClass``), its palette.

    A palette PNG is read as its indices, as mmseg's ``LoadAnnotations``
    (pillow backend) reads it, not as the colours OpenCV would decode;
    other files as OpenCV reads them unchanged (grey, 16-bit).

    Returns:
        tuple[np.ndarray, list[int] | None]: The raw values and the palette
        (``None`` for a file without one).
    """
    with Image.open(path) as img:
        if img.mode == 'P':
            return np.array(img), img.getpalette()
    return mmcv.imread(path, flag='unchanged'), None


def write_label_file(raw: np.ndarray,
                     path: str,
                     palette: Optional[List[int]] = None) -> None:
    """Write raw label values as :func:`read_label_file` read them: a
    palette PNG with ``palette``, else a grey (or 16-bit) image."""
    if palette is None:
        mmcv.imwrite(raw, path)
        return
    img = Image.fromarray(raw.astype(np.uint8), 'L')
    # all 256 entries: with a shorter palette pillow writes fewer bits per
    # pixel and indices beyond it (VOC's 255) would be lost
    full = list(palette)[:768]
    img.putpalette(full + [0] * (768 - len(full)))  # mode 'L' -> 'P'
    img.save(path)


def dataset_cfg_of_split(cfg: Config,
                         split: str = 'train_dataloader',
                         part: Optional[int] = None) -> dict:
    """The dataset config of ``cfg[split]`` a tool exports or draws; for a
    ``ConcatDataset`` (e.g. VOC train + SBD aug, each part in its own
    ``PoisonedDataset``) its part ``part``.

    Raises:
        ValueError: If ``part`` is missing for a ``ConcatDataset``, out of
            its range, or given for a dataset that has no parts.
    """
    dataset = cfg[split].dataset.to_dict()
    parts = dataset.get('datasets')
    if parts is None:
        if part is not None:
            raise ValueError(f'part={part} given, but {split}.dataset is a '
                             f"{dataset.get('type')!r}, not a ConcatDataset")
        return dataset
    if part is None or not 0 <= part < len(parts):
        raise ValueError(
            f'{split}.dataset is a ConcatDataset of {len(parts)} datasets: '
            f'choose one with part (--part) in 0..{len(parts) - 1}, got '
            f'{part}')
    return parts[part]


def build_unaugmented_poisoned_dataset(dataset_cfg: dict,
                                       scope: Optional[str] = 'mmseg'
                                       ) -> PoisonedDataset:
    """The training dataset of ``dataset_cfg`` with only its loading
    transforms and its (single) poisoning transform, wrapped in
    ``PoisonedDataset``: samples in the original geometry, poisoned exactly
    as training would poison them (the subset does not depend on the
    augmentation).

    Args:
        dataset_cfg (dict): Dataset config, wrapped in ``PoisonedDataset`` or
            not.
        scope (str, optional): Default scope to build in. Defaults to
            ``'mmseg'``.

    Returns:
        PoisonedDataset: Its inner pipeline is ``loading + [poison]``.
    """
    cfg = dataset_cfg_with_pipeline(copy.deepcopy(dataset_cfg))
    with DefaultScope.overwrite_default_scope(scope):
        poison_cfgs = [t for t in cfg['pipeline'] if is_poison_transform(t)]
    if len(poison_cfgs) != 1:
        raise ValueError('the dataset pipeline must hold exactly one '
                         'poisoning transform (ImageLevelPoison, '
                         f'FineGrainedPoison), found {len(poison_cfgs)}')
    loads = [
        t for t in cfg['pipeline']
        if type_name(t['type']) in LOADING_TRANSFORMS
    ]
    cfg['pipeline'] = loads + poison_cfgs
    with DefaultScope.overwrite_default_scope(scope):
        return DATASETS.build(dict(type='PoisonedDataset', dataset=cfg))


def load_and_poison(dataset: PoisonedDataset,
                    idx: int) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Sample ``idx`` of a dataset from
    :func:`build_unaugmented_poisoned_dataset`, before and after the poison.

    Returns:
        tuple[dict, dict]: The loaded (clean) results and the results after
        the poisoning transform (``poisoned`` tells whether it acted).
    """
    *loaders, poison = dataset.dataset.pipeline.transforms
    results = dataset.get_data_info(idx)
    for transform in loaders:
        results = transform(results)
    return copy.deepcopy(results), poison(results)


def export_poisoned_dataset(dataset_cfg: dict,
                            out_dir: str,
                            scope: Optional[str] = 'mmseg',
                            jpeg_quality: int = 100,
                            overwrite: bool = False) -> PoisonManifest:
    """Write a poisoned copy of the dataset of ``dataset_cfg``.

    The dataset config is a training dataset with a poisoning transform in
    its pipeline (wrapped in ``PoisonedDataset`` or not). Its loading
    transforms and the poisoning transform are applied to every sample in
    the original geometry (augmentations are left out; the subset is the one
    training would poison). Every image and label file is written to
    ``out_dir`` under the same path relative to ``data_root``: poisoned ones
    re-encoded (labels losslessly in the file's raw encoding, palette PNGs
    with their palette: :func:`read_label_file`; JPEG images at
    ``jpeg_quality``), the others copied byte for byte. The ``ann_file``
    (split list) is copied too. ``out_dir/manifest.json`` holds the subset
    and, under ``extra``, PSNR / SSIM of the written poisoned images against
    the clean ones.

    Crash-safe: everything is written into a temporary sibling folder that
    is renamed to ``out_dir`` at the end
    (:func:`mmbackdoor.utils.atomic_output_dir`), so ``out_dir`` never
    exists half-written (a killed run leaves it as it was; the next run
    removes the killed run's temporary folder), and with ``overwrite`` the
    old ``out_dir`` is replaced only then.

    Args:
        dataset_cfg (dict): Dataset config (e.g. ``cfg.train_dataloader
            .dataset``).
        out_dir (str): A new or empty folder, not overlapping the source
            ``data_root`` (the policy of
            :func:`mmbackdoor.utils.check_output_dir`).
        scope (str, optional): Default scope to build in. Defaults to
            ``'mmseg'``.
        jpeg_quality (int): Quality of re-encoded JPEG images. Defaults to
            100.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to
            False.

    Returns:
        PoisonManifest: The manifest written to ``out_dir/manifest.json``.
    """
    dataset = build_unaugmented_poisoned_dataset(dataset_cfg, scope)
    inner = dataset.dataset
    data_root = inner.data_root
    if not data_root:
        raise ValueError('the dataset has no data_root to mirror')
    with atomic_output_dir(out_dir, [data_root], overwrite) as tmp:
        manifest = _write_copy(dataset, dataset.manifests[0], tmp,
                               jpeg_quality)
    return manifest


def _write_copy(dataset: PoisonedDataset, manifest: PoisonManifest,
                out_dir: str, jpeg_quality: int) -> PoisonManifest:
    """Write the files of :func:`export_poisoned_dataset` into the (new,
    temporary) ``out_dir``, the manifest last; returns the manifest."""
    inner = dataset.dataset
    data_root = inner.data_root
    poisoned_keys = set(manifest.poisoned)
    img_dir = inner.data_prefix['img_path']

    def target(path: str) -> str:
        dst = osp.join(out_dir, osp.relpath(path, data_root))
        os.makedirs(osp.dirname(dst), exist_ok=True)
        return dst

    quality = []
    progress = ProgressBar(len(inner))
    for idx in range(len(inner)):
        info = inner.get_data_info(idx)
        if sample_key(info['img_path'], img_dir) not in poisoned_keys:
            shutil.copy2(info['img_path'], target(info['img_path']))
            shutil.copy2(info['seg_map_path'], target(info['seg_map_path']))
            progress.update()
            continue
        clean, results = load_and_poison(dataset, idx)
        loaded, clean_img = clean['gt_seg_map'], clean['img']
        img_out = target(info['img_path'])
        params = ([cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
                  if img_out.lower().endswith(('.jpg', '.jpeg')) else None)
        mmcv.imwrite(results['img'], img_out, params=params)
        raw, palette = read_label_file(info['seg_map_path'])
        write_label_file(
            encode_label(results['gt_seg_map'], loaded, raw,
                         bool(info.get('reduce_zero_label')),
                         info.get('label_map')), target(info['seg_map_path']),
            palette)
        quality.append(image_quality(clean_img, mmcv.imread(img_out)))
        progress.update()
    ann_file = getattr(inner, 'ann_file', None)
    if ann_file and osp.isfile(ann_file):
        shutil.copy2(ann_file, target(ann_file))
    manifest = copy.deepcopy(manifest)
    manifest.extra.update(_quality_summary(quality))
    manifest.extra['source_data_root'] = osp.abspath(data_root)
    manifest.dump(osp.join(out_dir, MANIFEST_NAME))
    return manifest


def _quality_summary(quality: list) -> Dict[str, Any]:
    """Mean / min PSNR and mean / min SSIM over the poisoned images."""
    if not quality:
        return dict(num_poisoned_written=0)
    psnr = np.array([q['psnr'] for q in quality])
    ssim = np.array([q['ssim'] for q in quality])
    return dict(
        num_poisoned_written=len(quality),
        psnr_mean=float(np.mean(psnr)),
        psnr_min=float(np.min(psnr)),
        ssim_mean=float(np.mean(ssim)),
        ssim_min=float(np.min(ssim)))
