"""Share of the poisoning transforms in a full mmseg training pipeline on
1024 x 2048 images (Cityscapes size).

Writes a few Cityscapes-sized samples (a real photograph from scikit-image
resized to 2048 x 1024, a label map with road / car / person regions) in the
Cityscapes layout to a temporary folder, builds a ``CityscapesDataset`` with
mmseg's Cityscapes training pipeline (``RandomResize`` 0.5-2, ``RandomCrop``
512 x 1024, ``RandomFlip``, ``PhotoMetricDistortion``) plus the poisoning
transform after the flip, wrapped in ``PoisonedDataset``, and times every
transform of every fetch. ``rate=1`` (every sample poisoned) is the worst
case; at rate ``r`` the poisoning cost scales by about ``r``. Prints one
table per poisoning transform: mean ms per fetch and share of the pipeline.

Example:
    python benchmarks/poison_transform_share.py --num-images 4 --epochs 3
"""
import argparse
import os.path as osp
import platform
import tempfile
import time
from collections import defaultdict

import mmcv
import numpy as np
import torch
from mmengine.registry import DATASETS, DefaultScope
from skimage import data as skdata

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.transforms  # noqa: F401
import mmbackdoor.poisoning  # noqa: F401

TRIGGER = dict(type='LineTrigger', height=8)
POISONS = {
    'FineGrainedPoison':
    dict(
        type='FineGrainedPoison',
        trigger=TRIGGER,
        victim_classes=['car'],
        target_class='road',
        rate=1.0),
    'ImageLevelPoison':
    dict(
        type='ImageLevelPoison',
        trigger=TRIGGER,
        target_class='road',
        rate=1.0),
    'ApplyTrigger':
    dict(type='ApplyTrigger', trigger=TRIGGER),
}


def write_cityscapes_like(root: str, num_images: int) -> None:
    """``num_images`` 1024 x 2048 samples in the Cityscapes layout."""
    photo = mmcv.imresize(skdata.astronaut()[..., ::-1], (2048, 1024))
    rng = np.random.default_rng(0)
    for i in range(num_images):
        img = np.roll(photo, 97 * i, axis=1)
        label = np.full((1024, 2048), 2, np.uint8)  # building
        label[700:] = 0  # road
        for cls in (13, 11):  # cars and persons
            for _ in range(6):
                y, x = rng.integers(400, 900), rng.integers(0, 1900)
                label[y:y + 100, x:x + 150] = cls
        label[:20] = 255
        stem = f'city/city_{i:06d}_000019'
        mmcv.imwrite(
            img, osp.join(root, 'leftImg8bit/train',
                          f'{stem}_leftImg8bit.png'))
        mmcv.imwrite(
            label,
            osp.join(root, 'gtFine/train', f'{stem}_gtFine_labelTrainIds.png'))


def pipeline(poison: dict) -> list:
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(
            type='RandomResize',
            scale=(2048, 1024),
            ratio_range=(0.5, 2.0),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(512, 1024), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'), poison,
        dict(
            type='PackSegInputs',
            meta_keys=('img_path', 'seg_map_path', 'img_shape', 'poisoned'))
    ]


def time_pipeline(root: str, poison: dict, epochs: int):
    """Mean seconds per fetch of each transform, and the dataset build time
    (which includes the label scan that fixes the poisoned subset)."""
    dataset_cfg = dict(
        type='CityscapesDataset',
        data_root=root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=pipeline(poison))
    if poison['type'] != 'ApplyTrigger':
        dataset_cfg = dict(type='PoisonedDataset', dataset=dataset_cfg)
    start = time.perf_counter()
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(dataset_cfg)
    build = time.perf_counter() - start
    inner = getattr(dataset, 'dataset', dataset)
    seconds = defaultdict(float)
    fetches = 0
    np.random.seed(0)
    for _ in range(epochs):
        for idx in range(len(inner)):
            results = inner.get_data_info(idx)
            for transform in inner.pipeline.transforms:
                tic = time.perf_counter()
                results = transform(results)
                seconds[type(transform).__name__] += time.perf_counter() - tic
            fetches += 1
    return {k: v / fetches for k, v in seconds.items()}, build / len(inner)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--epochs', type=int, default=3)
    args = parser.parse_args()
    print(f'Machine: {platform.processor() or platform.machine()}, '
          f'{torch.get_num_threads()} threads; {args.num_images} images of '
          f'1024x2048, {args.epochs} epochs, every sample poisoned.\n')
    with tempfile.TemporaryDirectory() as root:
        write_cityscapes_like(root, args.num_images)
        for name, poison in POISONS.items():
            times, build = time_pipeline(root, poison, args.epochs)
            total = sum(times.values())
            print(f'### {name}  (dataset build: {1000 * build:.1f} ms per '
                  'image)\n')
            print('| transform | ms / fetch | share % |')
            print('| --- | ---: | ---: |')
            for transform, sec in times.items():
                print(f'| {transform} | {1000 * sec:.2f} | '
                      f'{100 * sec / total:.2f} |')
            print(f'| **total** | {1000 * total:.2f} | 100 |\n')


if __name__ == '__main__':
    main()
