"""Train a segmentor or recognizer from an mmbackdoor (or any mmseg /
mmaction) config. Same interface as the codebases' own ``tools/train.py``."""
import argparse

from mmbackdoor.apis.cli import (add_runner_args, check_data,
                                 config_from_args, runner_from_cfg)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    add_runner_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = config_from_args(args)
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
            raise ValueError('--amp needs optim_wrapper.type="OptimWrapper", '
                             f'got {cfg.optim_wrapper.type!r}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    cfg.resume = args.resume
    check_data(cfg, 'train')
    runner_from_cfg(cfg).train()


if __name__ == '__main__':
    main()
