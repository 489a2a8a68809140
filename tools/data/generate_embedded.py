"""Write the embedded synthetic datasets (configs also do it on first use).

Prints each dataset's folder; with ``--digest``, also one sha256 over its
files, to tell whether two machines generated the same data (the same as
``find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum`` inside it).

Example:
    python tools/data/generate_embedded.py --kind seg video --digest
    python tools/data/generate_embedded.py --kind video-source \\
        --video-source-root data/embedded_video_source
    python tools/data/generate_embedded.py --kind seg --person-scale 2 \\
        --seg-root data/embedded_seg_person2
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
        '--person-scale', type=float, default=1.0,
        help='size factor of the persons of the segmentation data')
    parser.add_argument(
        '--digest', action='store_true',
        help='print a sha256 over the files of each dataset')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace a dataset generated with other arguments')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmbackdoor.datasets.generation import dataset_digest

    def report(root: str) -> None:
        print(f'{root} sha256 {dataset_digest(root)}' if args.digest else root)

    if 'seg' in args.kind:
        from mmbackdoor.datasets.embedded_seg import generate_embedded_seg
        report(generate_embedded_seg(
            args.seg_root, args.seed, person_scale=args.person_scale,
            overwrite=args.overwrite))
    if {'video', 'video-source'} & set(args.kind):
        from mmbackdoor.datasets.embedded_video import (
            SOURCE_CLASSES, TARGET_CLASSES, generate_embedded_video)
        roots = {'video': (args.video_root, TARGET_CLASSES),
                 'video-source': (args.video_source_root, SOURCE_CLASSES)}
        for kind, (root, classes) in roots.items():
            if kind in args.kind:
                report(generate_embedded_video(
                    root, args.seed, classes=classes,
                    overwrite=args.overwrite))


if __name__ == '__main__':
    main()
