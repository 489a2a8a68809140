"""The stock codebase tools and ours train, test and resume our configs;
a 2-process gloo run keeps both ranks in agreement."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SITE = osp.dirname(osp.dirname(torch.__file__))
SEG_CONFIG = osp.join(REPO, 'configs', 'baselines',
                      'unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')

SEG_OVERRIDE = """
_base_ = [{base!r}]
custom_imports = dict(imports={imports!r}, allow_failed_imports=False)
data_root = {data_root!r}
small = dict(data_root=data_root, num_train=8, num_val=4)
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        batch_size=2, dataset=small)
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=small)
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2))
"""

VIDEO_CONFIG = osp.join(REPO, 'configs', 'baselines',
                        'i3d_r18-w8_1xb16-8x2x1-12e_embedded-video-rgb.py')

VIDEO_OVERRIDE = """
_base_ = [{base!r}]
custom_imports = dict(imports={imports!r}, allow_failed_imports=False)
data_root = {data_root!r}
small = dict(data_root=data_root, num_train_per_class=1, num_val_per_class=1)
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        batch_size=4, dataset=small)
val_dataloader = dict(num_workers=0, persistent_workers=False, batch_size=4,
                      dataset=small)
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_begin=1, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1))
"""

RANK_PROBE = '''
import json, os.path as osp
from mmbackdoor_test_hash import params_sha
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RankProbeHook(Hook):
    """Write a hash of this rank's parameters after training."""

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) \\
            else runner.model
        params = dict(model.named_parameters())
        with open(osp.join(runner.work_dir, f'rank{get_rank()}.json'),
                  'w') as f:
            json.dump(dict(sha=params_sha(params), names=sorted(params),
                           iter=runner.iter), f)
'''

HASH = '''
import hashlib


def params_sha(params):
    digest = hashlib.sha256()
    for name in sorted(params):
        digest.update(name.encode())
        digest.update(params[name].detach().cpu().numpy().tobytes())
    return digest.hexdigest()
'''


def run(cmd, cwd=REPO, env=None):
    full_env = dict(os.environ, OMP_NUM_THREADS='1', **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def write_config(tmp_path, base, template, imports=('mmbackdoor', )):
    path = tmp_path / 'config.py'
    path.write_text(template.format(
        base=base, imports=list(imports),
        data_root=str(tmp_path / 'data')))
    return str(path)


@pytest.mark.slow
def test_stock_mmseg_train_our_test_and_resume(tmp_path):
    config = write_config(tmp_path, SEG_CONFIG, SEG_OVERRIDE)
    work = str(tmp_path / 'work')
    stock_train = osp.join(SITE, 'mmseg', '.mim', 'tools', 'train.py')
    run([sys.executable, stock_train, config, '--work-dir', work])
    assert osp.exists(osp.join(work, 'iter_2.pth'))

    out = str(tmp_path / 'metrics.json')
    run([sys.executable, 'tools/test.py', config,
         osp.join(work, 'iter_2.pth'), '--work-dir', work, '--out', out])
    metrics = json.load(open(out))
    assert 0 <= metrics['mIoU'] <= 100 and 'aAcc' in metrics

    log = run([sys.executable, stock_train, config, '--work-dir', work,
               '--resume', '--cfg-options', 'train_cfg.max_iters=4',
               'default_hooks.checkpoint.interval=4'])
    assert 'resumed epoch: 0, iter: 2' in log
    ckpt = torch.load(osp.join(work, 'iter_4.pth'), weights_only=True)
    assert ckpt['meta']['iter'] == 4


@pytest.mark.slow
def test_two_rank_gloo_training_agrees(tmp_path, monkeypatch):
    """DDP keeps the parameters of both ranks identical, and the checkpoint
    holds them. (BatchNorm running statistics stay per rank, as mmengine
    wraps with ``broadcast_buffers=False``; rank 0's are saved.)"""
    (tmp_path / 'rank_probe.py').write_text(RANK_PROBE)
    (tmp_path / 'mmbackdoor_test_hash.py').write_text(HASH)
    config = write_config(tmp_path, SEG_CONFIG,
                          SEG_OVERRIDE + "custom_hooks = "
                          "[dict(type='RankProbeHook')]\n",
                          imports=('mmbackdoor', 'rank_probe'))
    work = str(tmp_path / 'work')
    # The interpreter is named, not found on PATH: no activated venv needed.
    run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work],
        env=dict(PYTHONPATH=str(tmp_path), PORT='29611', PYTHON=sys.executable,
                 PATH='/usr/bin:/bin'))
    ranks = [json.load(open(osp.join(work, f'rank{r}.json'))) for r in (0, 1)]
    assert ranks[0]['iter'] == ranks[1]['iter'] == 2
    assert ranks[0]['sha'] == ranks[1]['sha']
    ckpt = torch.load(osp.join(work, 'iter_2.pth'), weights_only=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    from mmbackdoor_test_hash import params_sha
    saved = {name: ckpt['state_dict'][name] for name in ranks[0]['names']}
    assert params_sha(saved) == ranks[0]['sha']


@pytest.mark.slow
def test_stock_mmaction_train_our_test_and_resume(tmp_path):
    config = write_config(tmp_path, VIDEO_CONFIG, VIDEO_OVERRIDE)
    work = str(tmp_path / 'work')
    stock_train = osp.join(SITE, 'mmaction', '.mim', 'tools', 'train.py')
    run([sys.executable, stock_train, config, '--work-dir', work])
    assert osp.exists(osp.join(work, 'epoch_1.pth'))

    out = str(tmp_path / 'metrics.json')
    run([sys.executable, 'tools/test.py', config,
         osp.join(work, 'epoch_1.pth'), '--work-dir', work, '--out', out])
    metrics = json.load(open(out))
    assert 0 <= metrics['acc/top1'] <= 1

    log = run([sys.executable, stock_train, config, '--work-dir', work,
               '--resume', '--cfg-options', 'train_cfg.max_epochs=2'])
    assert 'resumed epoch: 1' in log
    ckpt = torch.load(osp.join(work, 'epoch_2.pth'), weights_only=True)
    assert ckpt['meta']['epoch'] == 2
