"""Test a checkpoint with an mmbackdoor (or any mmseg / mmaction) config.

The config's ``test_cfg`` decides what is measured: the plain test loop
(mIoU / top-1), or a registered mmbackdoor loop (clean + triggered pass for
backdoor metrics, adversarial passes for robustness).
"""
import argparse

from mmbackdoor.apis.cli import (add_runner_args, check_data, config_from_args,
                                 dump_json, runner_from_cfg)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='write the returned metrics to this JSON file')
    add_runner_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = config_from_args(args)
    cfg.load_from = args.checkpoint
    check_data(cfg, 'test')
    runner = runner_from_cfg(cfg)
    metrics = runner.test()
    if args.out and runner.rank == 0:
        dump_json(metrics, args.out)


if __name__ == '__main__':
    main()
