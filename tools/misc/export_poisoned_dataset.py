"""Export a poisoned copy of a segmentation training set.

The realistic threat model of Li et al. (2021): the attacker only ships
files. The copy has the source's folder layout (same relative paths under
OUT_DIR), the poisoned images and labels of the config's training set
(poisoning transform of ``train_dataloader``, applied in the original
geometry), the other files copied unchanged, and ``OUT_DIR/manifest.json``
with the poisoned subset and the PSNR / SSIM of the poisoned images. The
source is never written to and OUT_DIR must be new or empty (``--overwrite``
replaces a non-empty one). Crash-safe: writes a temporary folder and renames
it, so a killed run leaves no OUT_DIR.

Example:
    python tools/misc/export_poisoned_dataset.py \\
        configs/backdoor_seg/fine-grained_*_embedded-seg-64x64.py \\
        work_dirs/poisoned_embedded_seg
"""
import argparse
import json

from mmbackdoor.apis.cli import add_cfg_options, load_config
from mmbackdoor.apis.export import (dataset_cfg_of_split,
                                    export_poisoned_dataset)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with a poisoning transform')
    parser.add_argument(
        'out_dir', help='new (or empty) folder for the poisoned copy')
    parser.add_argument(
        '--split',
        default='train_dataloader',
        help='dataloader whose dataset is exported')
    parser.add_argument(
        '--part',
        type=int,
        default=None,
        help='index of the dataset to export when the split is a '
        'ConcatDataset (e.g. VOC train + aug)')
    parser.add_argument(
        '--jpeg-quality',
        type=int,
        default=100,
        help='quality of re-encoded JPEG images (PNG is lossless)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace OUT_DIR if it exists and is not empty')
    add_cfg_options(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    manifest = export_poisoned_dataset(
        dataset_cfg_of_split(cfg, args.split, args.part),
        args.out_dir,
        scope=cfg.get('default_scope', 'mmseg'),
        jpeg_quality=args.jpeg_quality,
        overwrite=args.overwrite)
    summary = dict(
        attack=manifest.attack,
        num_samples=manifest.num_samples,
        num_eligible=manifest.num_eligible,
        num_poisoned=len(manifest.poisoned),
        realised_rate=round(manifest.realised_rate, 4),
        **{
            k: v
            for k, v in manifest.extra.items() if k != 'trigger'
        })
    print(json.dumps(summary, indent=1))


if __name__ == '__main__':
    main()
