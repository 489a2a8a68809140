"""Draw a grid of poisoned training samples of a backdoor config.

Each row: clean image | triggered image | trigger (|difference| x 4) |
original label | poisoned label, labels drawn with mmseg's
``SegLocalVisualizer`` and the dataset's palette. Samples are the first
``--num`` of the poisoned subset (in manifest order), in their original
geometry.

Example:
    python tools/analysis_tools/browse_poisoned.py \\
        configs/backdoor_seg/fine-grained_*_embedded-seg-64x64.py \\
        --out work_dirs/poisoned_grid.png --scale 3
"""
import argparse
import os.path as osp

import mmcv
from mmbackdoor.apis.cli import add_cfg_options, load_config
from mmbackdoor.apis.export import (build_unaugmented_poisoned_dataset,
                                    dataset_cfg_of_split, load_and_poison)
from mmbackdoor.poisoning import sample_key
from mmbackdoor.visualization.seg_backdoor_grid import (
    POISONED_SAMPLE_COLUMNS, poisoned_sample_row, titled_grid)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with a poisoning transform')
    parser.add_argument(
        '--out', default='poisoned_samples.png', help='output PNG')
    parser.add_argument(
        '--num', type=int, default=8, help='number of samples (rows)')
    parser.add_argument(
        '--scale', type=int, default=1, help='upscaling of small images')
    parser.add_argument(
        '--split',
        default='train_dataloader',
        help='dataloader whose dataset is drawn')
    parser.add_argument(
        '--part',
        type=int,
        default=None,
        help='index of the dataset to draw when the split is a '
        'ConcatDataset (e.g. VOC train + aug)')
    add_cfg_options(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.num < 1:
        raise SystemExit('--num must be at least 1')
    cfg = load_config(args.config, args.cfg_options)
    dataset = build_unaugmented_poisoned_dataset(
        dataset_cfg_of_split(cfg, args.split, args.part),
        scope=cfg.get('default_scope', 'mmseg'))
    wanted = dataset.manifests[0].poisoned[:args.num]
    if not wanted:
        raise SystemExit('the config poisons no sample of this dataset')
    img_dir = dataset.dataset.data_prefix['img_path']
    index = {
        sample_key(dataset.get_data_info(i)['img_path'], img_dir): i
        for i in range(len(dataset))
    }
    rows = []
    for key in wanted:
        clean, poisoned = load_and_poison(dataset, index[key])
        rows.append(
            poisoned_sample_row(clean['img'], poisoned['img'],
                                clean['gt_seg_map'], poisoned['gt_seg_map'],
                                dataset.metainfo, args.scale))
    mmcv.imwrite(titled_grid(rows, POISONED_SAMPLE_COLUMNS), args.out)
    print(f'{len(rows)} poisoned samples drawn to {osp.abspath(args.out)}')


if __name__ == '__main__':
    main()
