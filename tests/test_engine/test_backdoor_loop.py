"""BackdoorTestLoop / BackdoorValLoop with a real Runner, a tiny model and a
real dataset on disk: one test run reports CBA, PBA and ASR; hooks; resume;
distributed evaluation."""
import copy
import os
import os.path as osp
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmbackdoor  # noqa: F401
import mmbackdoor.datasets.transforms  # noqa: F401
import mmbackdoor.engine.runner  # noqa: F401
import mmbackdoor.evaluation.metrics.seg_backdoor_metric  # noqa: F401
import mmbackdoor.poisoning  # noqa: F401
from mmbackdoor.engine.runner import insert_trigger
from mmbackdoor.testing.seg import tiny_seg_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'backdoor_seg',
                  'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')


def make_cfg(embedded_seg_root, work_dir, max_iters=2):
    """The shipped fine-grained embedded config, shrunk for a unit test."""
    return tiny_seg_config(
        Config.fromfile(CONFIG), embedded_seg_root, work_dir, max_iters)


class RecordingHook(Hook):
    """Counts hook calls and keeps the epoch metrics and batch inputs."""

    def __init__(self, stage):
        self.stage = stage
        self.calls = {}
        self.metrics = None
        self.inputs = []

    def _count(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1

    def before_test(self, runner):
        self._count('before_test')

    def before_test_epoch(self, runner):
        self._count('before_test_epoch')

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None):
        self._count('after_test_iter')
        self.inputs.append((batch_idx, data_batch['inputs'][0].clone()))

    def after_test_epoch(self, runner, metrics=None):
        self._count('after_test_epoch')
        self.metrics = metrics

    def after_val_epoch(self, runner, metrics=None):
        self._count('after_val_epoch')
        self.metrics = metrics


@pytest.fixture(scope='module')
def trained(embedded_seg_root, tmp_path_factory):
    """A 2-iteration fine-grained-poisoned model (and its runner's val
    metrics)."""
    work_dir = str(tmp_path_factory.mktemp('train'))
    runner = Runner.from_cfg(make_cfg(embedded_seg_root, work_dir))
    hook = RecordingHook('val')
    runner.register_hook(hook)
    runner.train()
    manifest = runner.train_dataloader.dataset.manifests[0]
    return dict(
        work_dir=work_dir,
        checkpoint=osp.join(work_dir, 'iter_2.pth'),
        val_metrics=hook.metrics,
        manifest=manifest)


def test_val_loop_reports_backdoor_metrics_during_training(trained):
    metrics = trained['val_metrics']
    for key in ('clean/mIoU', 'clean/ASR', 'triggered/ASR', 'triggered/PBA',
                'CBA', 'PBA', 'ASR'):
        assert key in metrics
    assert metrics['CBA'] == metrics['clean/mIoU']
    assert metrics['ASR'] == metrics['triggered/ASR']


def test_one_test_run_reports_cba_pba_asr(embedded_seg_root, trained,
                                          tmp_path):
    cfg = make_cfg(embedded_seg_root, str(tmp_path))
    cfg.load_from = trained['checkpoint']
    runner = Runner.from_cfg(cfg)
    hook = RecordingHook('test')
    runner.register_hook(hook)
    metrics = runner.test()
    assert metrics['CBA'] == metrics['clean/mIoU']
    assert metrics['PBA'] == metrics['triggered/PBA']
    assert metrics['ASR'] == metrics['triggered/ASR']
    assert metrics['clean/num_asr_pixels'] == \
        metrics['triggered/num_asr_pixels'] > 0
    # ASR over the victim pixels the clean prediction recognised: its
    # denominator is the clean pass's recall numerator.
    assert metrics['ASR_recognised'] == metrics['triggered/ASR_recognised']
    assert 'clean/ASR_recognised' not in metrics
    recognised = metrics['triggered/num_recognised_pixels']
    assert recognised == round(metrics['clean/victim_recall'] / 100 *
                               metrics['clean/num_asr_pixels'])
    num_batches = len(runner.test_dataloader)
    assert hook.calls == dict(
        before_test=1,
        before_test_epoch=1,
        after_test_iter=2 * num_batches,
        after_test_epoch=1)
    assert hook.metrics == metrics
    # batch_idx restarts per pass; the second pass sees the trigger (a black
    # 2 px line at the top), the first does not.
    clean, triggered = hook.inputs[:num_batches], hook.inputs[num_batches:]
    assert [i for i, _ in clean] == [i for i, _ in triggered] == list(
        range(num_batches))
    assert all((img[:, :2] == 0).all() for _, img in triggered)
    assert not all((img[:, :2] == 0).all() for _, img in clean)
    for (_, a), (_, b) in zip(clean, triggered):
        assert (a[:, 2:] == b[:, 2:]).all()


def test_resume_keeps_the_poisoned_subset(embedded_seg_root, trained,
                                          tmp_path):
    cfg = make_cfg(embedded_seg_root, trained['work_dir'], max_iters=3)
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 3
    assert runner.train_dataloader.dataset.manifests[0] == trained['manifest']


def test_insert_trigger_places_apply_trigger_before_packing():
    loader = dict(
        dataset=dict(
            type='RepeatDataset',
            times=2,
            dataset=dict(pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(8, 8)),
                dict(type='PackSegInputs')
            ])))
    out = insert_trigger(loader, dict(type='LineTrigger'))
    names = [t['type'] for t in out['dataset']['dataset']['pipeline']]
    assert names == [
        'LoadImageFromFile', 'Resize', 'ApplyTrigger', 'PackSegInputs'
    ]
    assert len(loader['dataset']['dataset']['pipeline']) == 3
    with pytest.raises(ValueError, match='insert_before'):
        insert_trigger(loader, dict(type='LineTrigger'), ['FormatShape'])


def test_loop_argument_errors(embedded_seg_root, trained, tmp_path):
    cfg = make_cfg(embedded_seg_root, str(tmp_path))
    cfg.test_cfg = dict(type='BackdoorTestLoop')
    with pytest.raises(ValueError, match='exactly one of trigger'):
        Runner.from_cfg(cfg).test()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _distributed_worker(rank, world_size, port, cfg_dict, out_file):
    """One rank of ``tools/dist_test.sh``: mmengine's ``pytorch`` launcher
    (gloo on CPU) and a DDP-wrapped model."""
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size))
    cfg = Config(cfg_dict)
    cfg.launcher = 'pytorch'
    cfg.experiment_name = f'{cfg.experiment_name}_{rank}'
    try:
        runner = Runner.from_cfg(cfg)
        assert runner.distributed and runner.world_size == world_size
        metrics = runner.test()
        if rank == 0:
            torch.save(metrics, out_file)
        # no rank tears gloo down while another still talks to it (a rank
        # exiting early aborted with "terminate called without an active
        # exception" once in CI)
        torch.distributed.barrier()
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_distributed_evaluation_matches_single_process(embedded_seg_root,
                                                       trained, tmp_path):
    cfg = make_cfg(embedded_seg_root, str(tmp_path / 'single'))
    cfg.load_from = trained['checkpoint']
    single = Runner.from_cfg(copy.deepcopy(cfg)).test()
    cfg.work_dir = str(tmp_path / 'dist')
    out_file = str(tmp_path / 'metrics.pt')
    mp.spawn(
        _distributed_worker,
        args=(2, _free_port(), cfg.to_dict(), out_file),
        nprocs=2,
        join=True)
    distributed = torch.load(out_file, weights_only=True)
    assert distributed == single
