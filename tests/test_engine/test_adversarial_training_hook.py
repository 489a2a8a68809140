"""AdversarialTrainingHook in a real Runner on the embedded data: what
``train_step`` sees in each mode, the weighted adversarial loss, logging,
bad arguments, and a 2-rank gloo run."""
import hashlib
import os
import os.path as osp
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

import mmbackdoor  # noqa: F401
import mmbackdoor.engine.hooks  # noqa: F401
import mmbackdoor.engine.runner  # noqa: F401
from mmbackdoor.engine.hooks import AdversarialTrainingHook
from mmbackdoor.testing.seg import tiny_seg_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(
    REPO, 'configs', 'eroseg',
    'eroseg-at-3step_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
EPS = 8


def make_cfg(seg_root, work_dir, max_iters=1, **hook_args):
    """The shipped EroSeg-AT embedded config, shrunk for a unit test."""
    cfg = tiny_seg_config(
        Config.fromfile(CONFIG),
        seg_root,
        work_dir,
        max_iters,
        val_interval=max_iters + 1)
    cfg.default_hooks.logger.interval = 1
    if hook_args.get('mode', 'clean_adv') != 'clean_adv':
        cfg.custom_hooks[0].pop('adv_weight')
    cfg.custom_hooks[0].update(hook_args)
    return cfg


def record_train_step(runner):
    """Wrap the model's ``train_step`` to keep what it is called with."""
    model = runner.model
    seen = []
    train_step = model.train_step

    def recording(data, optim_wrapper):
        seen.append(
            dict(
                inputs=[x.clone() for x in data['inputs']],
                training=model.training,
                outputs=train_step(data, optim_wrapper)))
        return seen[-1]['outputs']

    model.train_step = recording
    return seen


class CleanBatchProbe(Hook):
    """Keeps clean copies of each batch, taken before the AT hook runs."""

    priority = 'VERY_HIGH'

    def __init__(self):
        self.batches = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.batches.append([x.clone() for x in data_batch['inputs']])


def run(seg_root, tmp_path, **hook_args):
    runner = Runner.from_cfg(make_cfg(seg_root, str(tmp_path), **hook_args))
    probe = CleanBatchProbe()
    runner.register_hook(probe)
    seen = record_train_step(runner)
    runner.train()
    return runner, probe.batches[0], seen[0]


def assert_adversarial(adv, clean):
    assert adv.dtype == torch.float32
    diff = adv - clean.float()
    assert diff.abs().max() <= EPS + 1e-4 and diff.abs().max() > 1
    assert adv.min() >= 0 and adv.max() <= 255


def test_adversarial_mode_replaces_the_batch(embedded_seg_root, tmp_path):
    runner, clean, seen = run(embedded_seg_root, tmp_path, mode='adversarial')
    assert seen['training'], 'train_step must run in train mode'
    for adv, x in zip(seen['inputs'], clean):
        assert_adversarial(adv, x)
    assert 'adv.decode.loss_ce' not in seen['outputs']
    # attack statistics reach the message hub (and so the training log)
    hub = runner.message_hub
    fraction = hub.get_scalar('train/attack.attacked_fraction').current()
    assert 0 < fraction <= 1
    assert hub.get_scalar('train/attack.time').current() > 0
    assert 0 <= hub.get_scalar('train/attack.accuracy').current() <= 1
    assert hub.get_scalar('train/attack.loss').current() > 0


def test_half_mode_attacks_the_second_half(embedded_seg_root, tmp_path):
    _, clean, seen = run(embedded_seg_root, tmp_path, mode='half')
    assert len(clean) == 4
    for x_seen, x in zip(seen['inputs'][:2], clean[:2]):
        assert torch.equal(x_seen, x)
    for adv, x in zip(seen['inputs'][2:], clean[2:]):
        assert_adversarial(adv, x)


def test_clean_adv_mode_adds_weighted_adversarial_losses(
        embedded_seg_root, tmp_path):
    losses = {}
    for weight in (1.0, 2.5):
        runner, clean, seen = run(
            embedded_seg_root, tmp_path / str(weight), adv_weight=weight)
        # train_step sees the clean batch; the adversarial loss is added
        for x_seen, x in zip(seen['inputs'], clean):
            assert torch.equal(x_seen, x)
        out = seen['outputs']
        assert float(out['loss']) == pytest.approx(
            float(out['decode.loss_ce'] + out['adv.decode.loss_ce']))
        assert 'adv.decode.acc_seg' in out
        losses[weight] = float(out['adv.decode.loss_ce'])
        # the forward hook lives for one iteration only
        assert not runner.model._forward_hooks
    # same seed, data and initial weights: the attack is identical
    assert losses[2.5] == pytest.approx(2.5 * losses[1.0], rel=1e-4)
    # the adversarial loss really is higher than the clean one
    assert losses[1.0] > float(out['decode.loss_ce'])


def test_gradient_accumulation_wrapper(embedded_seg_root, tmp_path):
    cfg = make_cfg(embedded_seg_root, str(tmp_path), max_iters=2)
    cfg.optim_wrapper.accumulative_counts = 2
    runner = Runner.from_cfg(cfg)
    seen = record_train_step(runner)
    runner.train()
    assert len(seen) == 2
    assert all('adv.decode.loss_ce' in s['outputs'] for s in seen)


@pytest.mark.parametrize('kwargs, error, message', [
    (dict(mode='mixed'), ValueError,
     r"mode must be one of \['clean_adv', 'adversarial', 'half'\]"),
    (dict(mode='half', adv_weight=0.5), ValueError,
     "adv_weight only applies to mode='clean_adv'"),
    (dict(adv_weight=0), ValueError, 'adv_weight must be a number > 0'),
    (dict(mode=None), TypeError, 'mode must be a str, one of'),
    (dict(adv_weight='1'), TypeError, 'adv_weight must be a number > 0'),
    (dict(attack='PGD'), TypeError, 'attack must be a dict'),
    (dict(attack=dict(type='FGSM')), KeyError, 'unknown attack type'),
    (dict(attack=dict(type='PGD', eps=-8)), ValueError,
     'PGD: eps must be a number >= 0'),
])
def test_bad_arguments_fail_at_build_time(kwargs, error, message):
    cfg = dict(type='AdversarialTrainingHook', attack=dict(type='EroSeg'))
    cfg.update(kwargs)
    with pytest.raises(error, match=message):
        HOOKS.build(cfg)


def test_repr():
    hook = AdversarialTrainingHook(
        attack=dict(type='PGD', steps=3), mode='half')
    assert repr(hook) == (
        "AdversarialTrainingHook(attack=PGD(eps=8.0, alpha=2.0, steps=3, "
        "random_start=False, target_class=None, ignore_index=255, "
        "fuse_conv_bn=True), "
        "mode='half', adv_weight=1.0)")


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _params_sha(model) -> str:
    digest = hashlib.sha256()
    for name, param in sorted(model.state_dict().items()):
        if 'running' not in name and 'num_batches' not in name:
            digest.update(param.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def _ddp_worker(rank, world_size, port, cfg_dict, out_dir):
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
    seen = record_train_step(runner)
    runner.train()
    torch.save(
        dict(
            wrapped=type(runner.model).__name__,
            sha=_params_sha(runner.model.module),
            adv_losses=[float(s['outputs']['adv.decode.loss_ce'])
                        for s in seen]),
        osp.join(out_dir, f'rank{rank}.pt'))
    torch.distributed.barrier()  # see test_backdoor_loop._distributed_worker
    torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_two_rank_gloo_training(embedded_seg_root, tmp_path):
    cfg = make_cfg(embedded_seg_root, str(tmp_path / 'work'), max_iters=2)
    cfg.train_dataloader.batch_size = 2
    mp.spawn(
        _ddp_worker,
        args=(2, _free_port(), cfg.to_dict(), str(tmp_path)),
        nprocs=2,
        join=True)
    ranks = [
        torch.load(osp.join(tmp_path, f'rank{r}.pt'), weights_only=True)
        for r in (0, 1)
    ]
    assert ranks[0]['wrapped'] == 'MMDistributedDataParallel'
    # DDP synchronised the (clean + adversarial) gradients of both ranks
    assert ranks[0]['sha'] == ranks[1]['sha']
    for rank in ranks:
        assert len(rank['adv_losses']) == 2
        assert all(loss > 0 for loss in rank['adv_losses'])
    # each rank attacked its own shard
    assert ranks[0]['adv_losses'] != ranks[1]['adv_losses']
