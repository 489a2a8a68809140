"""Save the backbone of a recognizer checkpoint on its own.

The clean model and the victim of the clean-label backdoor start from the same
pretrained network with a fresh classifier (Zhao et al., 2020: a Kinetics
I3D fine-tuned on UCF101). A backbone's ``pretrained=OUT``
(``pretrained2d=False``) loads the exported weights.

Example:
    python tools/video/export_backbone.py work_dirs/source/epoch_12.pth \\
        work_dirs/video_backdoor/source_backbone.pth
"""
import argparse
import os
import os.path as osp
import sys

import mmbackdoor  # noqa: F401
from mmbackdoor.apis.checkpoint import export_backbone


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='recognizer checkpoint')
    parser.add_argument('out', help='backbone checkpoint to write')
    args = parser.parse_args(argv)
    if osp.exists(args.out):
        raise SystemExit(f'{args.out} exists; choose another path')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    export_backbone(args.checkpoint, args.out)
    print(f'backbone of {args.checkpoint} -> {args.out}')


if __name__ == '__main__':
    sys.exit(main())
