"""RobustnessTestLoop / RobustnessValLoop with a real Runner, the shipped
embedded robustness config and a real dataset on disk; stock mmseg
``tools/test.py``; a 2-rank gloo evaluation."""
import os
import os.path as osp
import socket
import subprocess
import sys

import mmengine
import pytest
import torch
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmbackdoor  # noqa: F401
import mmbackdoor.engine.runner  # noqa: F401
from mmbackdoor.engine.runner.robustness_loops import named_attacks
from mmbackdoor.evaluation import miou, paired_miou_interval, pass_areas
from mmbackdoor.testing.seg import tiny_seg_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SITE = osp.dirname(osp.dirname(torch.__file__))
CONFIG = osp.join(REPO, 'configs', 'eroseg',
                  'robust-eval_unet-s4-d8_fcn_embedded-seg-64x64.py')
ATTACKS = ['PGD', 'SegPGD', 'CosPGD', 'EroSeg']


def make_cfg(seg_root, work_dir, steps=2):
    """The shipped robustness config, shrunk for a unit test."""
    cfg = tiny_seg_config(
        Config.fromfile(CONFIG), seg_root, work_dir, iters=None)
    cfg.test_dataloader.batch_size = 4
    for attack in cfg.test_cfg.attacks:
        attack.steps = steps
    return cfg


class CountingHook(Hook):
    """Counts test hook calls and keeps the epoch metrics."""

    def __init__(self):
        self.calls = {}
        self.metrics = None

    def _count(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1

    def before_test(self, runner):
        self._count('before_test')

    def before_test_epoch(self, runner):
        self._count('before_test_epoch')

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        self._count('after_test_iter')

    def after_test_epoch(self, runner, metrics=None):
        self._count('after_test_epoch')
        self.metrics = metrics

    def after_test(self, runner):
        self._count('after_test')


@pytest.fixture(scope='module')
def checkpoint(embedded_seg_root, tmp_path_factory):
    """Weights of a briefly trained embedded baseline (a model that is right
    on some pixels, so attacks have something to break)."""
    work_dir = str(tmp_path_factory.mktemp('train'))
    cfg = make_cfg(embedded_seg_root, work_dir)
    cfg.train_cfg.max_iters = 20
    cfg.train_cfg.val_interval = 21
    cfg.param_scheduler[0].total_steps = 21
    cfg.train_dataloader.batch_size = 4
    runner = Runner.from_cfg(cfg)
    runner.train()
    path = osp.join(work_dir, 'model.pth')
    torch.save(dict(state_dict=runner.model.state_dict(), meta={}), path)
    return path


def test_one_run_reports_clean_attacked_and_worst_case(
        embedded_seg_root, checkpoint, tmp_path):
    cfg = make_cfg(embedded_seg_root, str(tmp_path))
    cfg.load_from = checkpoint
    runner = Runner.from_cfg(cfg)
    hook = CountingHook()
    runner.register_hook(hook)
    metrics = runner.test()
    for name in ['clean', *ATTACKS, 'worst']:
        for key in ('mIoU', 'aAcc', 'mAcc'):
            assert 0 <= metrics[f'{name}/{key}'] <= 100
    for name in ATTACKS:
        assert metrics[f'{name}/steps'] == 2
        assert metrics[f'{name}/seconds_per_image'] > 0
        assert metrics[f'{name}/aAcc'] < metrics['clean/aAcc']
    # the worst case takes the least accurate prediction of every image, so
    # its pixel accuracy is at most every attack's
    assert metrics['worst/aAcc'] <= min(
        metrics[f'{name}/aAcc'] for name in ATTACKS) + 1e-6
    assert hook.calls == dict(
        before_test=1,
        before_test_epoch=1,
        after_test_iter=len(runner.test_dataloader),
        after_test_epoch=1,
        after_test=1)
    assert hook.metrics == metrics
    assert not runner.model.training

    # the clean pass is exactly mmengine's TestLoop
    cfg = make_cfg(embedded_seg_root, str(tmp_path / 'plain'))
    cfg.load_from = checkpoint
    cfg.test_cfg = dict(type='TestLoop')
    plain = Runner.from_cfg(cfg).test()
    assert plain['mIoU'] == metrics['clean/mIoU']


def test_per_image_areas_reproduce_every_pass(embedded_seg_root, checkpoint,
                                              tmp_path):
    """``per_image_file``: one row per test image in the dataset's order,
    whose summed areas give each pass's mIoU, so two passes pair up."""
    cfg = make_cfg(embedded_seg_root, str(tmp_path))
    cfg.load_from = checkpoint
    cfg.test_cfg.per_image_file = 'per_image.json'
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    path = osp.join(runner.log_dir, 'per_image.json')
    dataset = runner.test_dataloader.dataset
    assert [row['img_path'] for row in mmengine.load(path)] == [
        dataset.get_data_info(i)['img_path'] for i in range(len(dataset))
    ]
    for name in ['clean', *ATTACKS, 'worst']:
        areas = pass_areas(path, name)
        assert miou(areas['intersect'].sum(0), areas['union'].sum(0)) == \
            pytest.approx(metrics[f'{name}/mIoU'], abs=0.005), name
    diff, low, high = paired_miou_interval(
        pass_areas(path, 'EroSeg'), pass_areas(path, 'clean'))
    assert diff == pytest.approx(
        metrics['EroSeg/mIoU'] - metrics['clean/mIoU'], abs=0.01)
    assert low < high

    cfg.test_evaluator = dict(type='DumpResults', out_file_path='x.pkl')
    with pytest.raises(ValueError, match='per_image_file needs an IoUMetric'):
        Runner.from_cfg(cfg).test()


def test_val_loop_during_training(embedded_seg_root, tmp_path):
    cfg = make_cfg(embedded_seg_root, str(tmp_path))
    cfg.train_cfg.max_iters = 1
    cfg.train_cfg.val_interval = 1
    cfg.val_cfg = dict(
        type='RobustnessValLoop',
        attacks=dict(PGD3=dict(type='PGD', steps=1)),
        worst_case=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    assert 0 <= hub.get_scalar('val/PGD3/mIoU').current() <= 100
    assert 'val/worst/mIoU' not in hub.log_scalars


def test_named_attacks():
    attacks = named_attacks(
        dict(PGD10=dict(type='PGD', steps=10), PGD20=dict(type='PGD',
                                                          steps=20)))
    assert list(attacks) == ['PGD10', 'PGD20']
    assert attacks['PGD20'].steps == 20
    attacks = named_attacks([dict(type='EroSeg'), dict(type='PGD')])
    assert list(attacks) == ['EroSeg', 'PGD']


@pytest.mark.parametrize('attacks, error, message', [
    ([dict(type='PGD'), dict(type='PGD', steps=3)], ValueError,
     'repeat a type'),
    (dict(worst=dict(type='PGD')), ValueError, "attack name 'worst'"),
    ([], ValueError, 'attacks is empty'),
    ('PGD', TypeError, 'attacks must be a list'),
    ([dict(type='DeepFool')], KeyError, 'unknown attack type'),
])
def test_bad_attack_lists(attacks, error, message):
    with pytest.raises(error, match=message):
        named_attacks(attacks)


def test_evaluator_must_be_a_config(embedded_seg_root, tmp_path):
    from mmengine.evaluator import Evaluator

    from mmbackdoor.engine.runner import RobustnessTestLoop
    runner = Runner.from_cfg(make_cfg(embedded_seg_root, str(tmp_path)))
    with pytest.raises(TypeError, match='evaluator must be a config'):
        RobustnessTestLoop(runner, runner._test_dataloader, Evaluator([]),
                           [dict(type='PGD')])


@pytest.mark.slow
def test_stock_mmseg_test_script(embedded_seg_root, checkpoint, tmp_path):
    config = tmp_path / 'config.py'
    config.write_text(f"""
_base_ = [{CONFIG!r}]
test_dataloader = dict(
    batch_size=6, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={embedded_seg_root!r}, generate=False))
model = dict(data_preprocessor=dict(size=(32, 32)))
budget = dict(eps=8, alpha=2, steps=1)
test_cfg = dict(attacks=[dict(type='PGD', **budget),
                         dict(type='EroSeg', background_classes=[0],
                              **budget)])
""")
    stock_test = osp.join(SITE, 'mmseg', '.mim', 'tools', 'test.py')
    proc = subprocess.run(
        [sys.executable, stock_test,
         str(config), checkpoint, '--work-dir',
         str(tmp_path / 'work')],
        cwd=str(tmp_path),
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True,
        timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    for key in ('clean/mIoU', 'PGD/mIoU', 'EroSeg/mIoU', 'worst/mIoU',
                'PGD/seconds_per_image'):
        assert key in log


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _distributed_worker(rank, world_size, port, cfg_dict, out_file):
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    cfg = Config(cfg_dict)
    cfg.launcher = 'pytorch'
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if rank == 0:
        torch.save(dict(metrics=metrics, model=type(runner.model).__name__),
                   out_file)
    torch.distributed.barrier()  # see test_backdoor_loop._distributed_worker
    torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_distributed_evaluation_matches_single_process(
        embedded_seg_root, checkpoint, tmp_path):
    cfg = make_cfg(embedded_seg_root, str(tmp_path / 'single'))
    cfg.load_from = checkpoint
    cfg.test_dataloader.batch_size = 2
    cfg.test_cfg.per_image_file = str(tmp_path / 'single.json')
    single = Runner.from_cfg(cfg.copy()).test()
    cfg.test_cfg.per_image_file = str(tmp_path / 'dist.json')
    cfg.work_dir = str(tmp_path / 'dist')
    out_file = str(tmp_path / 'metrics.pt')
    mp.spawn(
        _distributed_worker,
        args=(2, _free_port(), cfg.to_dict(), out_file),
        nprocs=2,
        join=True)
    result = torch.load(out_file, weights_only=True)
    assert result['model'] == 'MMDistributedDataParallel'
    distributed = result['metrics']
    for key, value in single.items():
        if not key.endswith('seconds_per_image'):
            assert distributed[key] == pytest.approx(value, abs=1e-6), key
    # the ranks' images gathered in the dataset's order
    assert mmengine.load(str(tmp_path / 'dist.json')) == mmengine.load(
        str(tmp_path / 'single.json'))
