"""Write the embedded synthetic datasets (configs also do it on first use).

Example:
    python tools/data/generate_embedded.py --kind seg video
    python tools/data/generate_embedded.py --kind video-source \\
        --video-source-root data/embedded_video_source
"""
import argparse

import mmbackdoor  # noqa: F401  (compat layer before mmseg / mmaction)

KINDS = ('seg', 'video', 'video-source')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--kind', nargs='+', choices=KINDS, default=['seg', 'video'],
        help='which datasets to write')
    parser.add_argument('--seg-root', default='data/embedded_seg')
    parser.add_argument('--video-root', default='data/embedded_video')
    parser.add_argument(
        '--video-source-root', default='data/embedded_video_source',
        help='disjoint motion classes for pretraining (video backdoor)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace a dataset generated with other arguments')
    return parser.parse_args()


def main():
    args = parse_args()
    if 'seg' in args.kind:
        from mmbackdoor.datasets.embedded_seg import generate_embedded_seg
        print(generate_embedded_seg(
            args.seg_root, args.seed, overwrite=args.overwrite))
    if {'video', 'video-source'} & set(args.kind):
        from mmbackdoor.datasets.embedded_video import (
            SOURCE_CLASSES, TARGET_CLASSES, generate_embedded_video)
        roots = {'video': (args.video_root, TARGET_CLASSES),
                 'video-source': (args.video_source_root, SOURCE_CLASSES)}
        for kind, (root, classes) in roots.items():
            if kind in args.kind:
                print(generate_embedded_video(
                    root, args.seed, classes=classes,
                    overwrite=args.overwrite))


if __name__ == '__main__':
    main()
