"""Each workaround of ``mmbackdoor.compat`` is needed and applied.

The ``*_needed`` tests run a fresh interpreter WITHOUT mmbackdoor and show
the upstream bug; the others show that ``import mmbackdoor`` fixes it. If a
future upstream release fixes a bug, the ``needed`` test is skipped.
"""
import gc
import os.path as osp
import pickle
import subprocess
import sys
import time

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmbackdoor
from mmbackdoor import compat

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)


MMCV_LITE = compat.APPLIED.get('mmcv_lite_ops') is not None
DRN_MISSING = compat.APPLIED.get('mmaction_drn') is not None


@pytest.mark.skipif(not MMCV_LITE, reason='full mmcv with compiled ops')
def test_mmcv_lite_ops_needed():
    proc = run_python('import mmseg.models')
    assert proc.returncode != 0
    assert "No module named 'mmcv._ext'" in proc.stderr


@pytest.mark.skipif(not MMCV_LITE, reason='full mmcv with compiled ops')
def test_mmcv_lite_ops_shim():
    import mmcv.ops
    from mmseg.registry import MODELS
    import mmseg.models  # noqa: F401
    assert mmcv.ops.__mmbackdoor_shim__
    # pure-PyTorch op from mmcv's own source: sampling at pixel centres of a
    # 2x2 map returns the pixels
    feat = torch.arange(4.).view(1, 1, 2, 2)
    points = torch.tensor([[[0.25, 0.25], [0.75, 0.75]]])
    out = mmcv.ops.point_sample(feat, points, align_corners=False)
    assert out.flatten().tolist() == [0., 3.]
    # guarded imports elsewhere in mmseg still see ModuleNotFoundError
    with pytest.raises(ModuleNotFoundError, match='compiled ops'):
        from mmcv.ops import CrissCrossAttention  # noqa: F401
    with pytest.raises(RuntimeError, match='compiled ops'):
        mmcv.ops.sigmoid_focal_loss(None, None)
    assert MODELS.get('PointHead') is not None


def test_mmcv_ops_left_alone_when_importable(monkeypatch):
    """With a working ``mmcv.ops`` (full mmcv) the shim is not installed."""
    import types
    real_ops = types.ModuleType('mmcv.ops')
    monkeypatch.setitem(sys.modules, 'mmcv.ops', real_ops)
    assert compat.patch_mmcv_lite_ops() is False
    assert sys.modules['mmcv.ops'] is real_ops


@pytest.mark.skipif(not DRN_MISSING, reason='mmaction ships localizers/drn')
def test_mmaction_drn_needed():
    proc = run_python('import mmaction.models')
    assert proc.returncode != 0
    assert 'mmaction.models.localizers.drn' in proc.stderr


@pytest.mark.skipif(not DRN_MISSING, reason='mmaction ships localizers/drn')
def test_mmaction_drn_placeholder():
    import mmaction.models  # noqa: F401
    from mmaction.models.localizers import DRN
    with pytest.raises(ModuleNotFoundError, match='2714'):
        DRN()


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='loss'):
        out = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((out - labels)**2).mean())
        return out


class ToyData(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)), labels=float(i))


def toy_runner(work_dir, max_iters, num_workers=0, **kwargs):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=f'toy_{osp.basename(str(work_dir))}_{max_iters}',
        train_dataloader=dict(
            dataset=ToyData(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=4,
            num_workers=num_workers,
            persistent_workers=num_workers > 0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e-3)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2,
                            by_epoch=False)),
        **kwargs)


def test_safe_loading_needed(tmp_path):
    """Without the allow-list an mmengine checkpoint fails safe loading."""
    toy_runner(tmp_path, 2).train()
    ckpt = tmp_path / 'iter_2.pth'
    proc = run_python(f'import torch; torch.load({str(ckpt)!r})')
    assert proc.returncode != 0
    assert 'HistoryBuffer' in proc.stderr


def test_safe_loading_save_resume_load_from(tmp_path):
    assert 'safe_checkpoint_loading' in compat.APPLIED
    toy_runner(tmp_path, 2).train()
    ckpt = torch.load(tmp_path / 'iter_2.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 2
    # resume continues from iteration 2 up to 4
    runner = toy_runner(tmp_path, 4, resume=True)
    runner.train()
    assert runner.iter == 4
    assert (tmp_path / 'iter_4.pth').exists()
    # load_from restores the weights
    runner = toy_runner(tmp_path / 'other', 0,
                        load_from=str(tmp_path / 'iter_4.pth'))
    runner.load_or_resume()
    saved = torch.load(tmp_path / 'iter_4.pth', weights_only=True)
    assert torch.equal(runner.model.linear.weight,
                       saved['state_dict']['linear.weight'])


class Evil:

    def __reduce__(self):
        return (print, ('pwned', ))


def test_safe_loading_still_rejects_arbitrary_globals(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': Evil()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)  # torch's default stays safe


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA machine')
def test_cpu_distributed_needed_and_patched():
    from mmengine.dist import utils as dist_utils
    assert 'cpu_distributed' in compat.APPLIED
    assert dist_utils._init_dist_pytorch.__mmbackdoor_patch__
    proc = run_python(
        'import os; os.environ.update(RANK="0", LOCAL_RANK="0", '
        'WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT="29533")\n'
        'from mmengine.dist import init_dist\n'
        'init_dist("pytorch", backend="gloo")')
    assert proc.returncode != 0
    assert 'cuda' in proc.stderr.lower()


def test_apply_all_is_idempotent():
    before = dict(compat.APPLIED)
    assert compat.apply_all() == before
    assert mmbackdoor.__version__


class ReachesBeyondStatistics:

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer, 'update'))


def test_safe_loading_getattr_is_restricted(tmp_path):
    """``getattr`` is allowed only for HistoryBuffer statistics methods."""
    path = tmp_path / 'getattr.pth'
    torch.save({'x': ReachesBeyondStatistics()}, path)
    with pytest.raises(pickle.UnpicklingError, match='only'):
        torch.load(path, weights_only=True)


class CountMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.append(len(data_samples))

    def compute_metrics(self, results):
        return dict(count=sum(results))


def teardown_seconds_after_testing(work_dir, workaround: bool) -> float:
    """Seconds to drop a runner after its test pass with 2 persistent
    workers (pytorch/pytorch#81794: 5 s per paused worker)."""
    cfg = dict(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=f'teardown_{workaround}',
        test_dataloader=dict(
            dataset=ToyData(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=4,
            num_workers=2,
            persistent_workers=True),
        test_cfg=dict(),
        test_evaluator=CountMetric())
    if workaround:
        compat.one_pass_eval_workers(cfg)
        assert cfg['test_dataloader']['persistent_workers'] is False
    runner = Runner(**cfg)
    assert runner.test()['count'] == len(ToyData())
    start = time.perf_counter()
    del runner
    gc.collect()
    return time.perf_counter() - start


def test_persistent_eval_workers_stall_needed(tmp_path):
    assert teardown_seconds_after_testing(tmp_path / 'a', False) >= 5


def test_one_pass_eval_workers_drop_at_once(tmp_path):
    assert teardown_seconds_after_testing(tmp_path / 'b', True) < 2
    cfg = Config(
        dict(
            train_dataloader=dict(num_workers=2, persistent_workers=True),
            val_dataloader=dict(num_workers=2, persistent_workers=True),
            test_dataloader=dict(num_workers=0)))
    compat.one_pass_eval_workers(cfg)
    assert cfg.train_dataloader.persistent_workers  # augmentation stream
    assert not cfg.val_dataloader.persistent_workers
    assert 'persistent_workers' not in cfg.test_dataloader


@pytest.mark.parametrize('workaround', [False, True])
def test_stop_loader_workers_after_training(tmp_path, workaround):
    """pytorch/pytorch#81794: a trained runner's persistent training
    workers stall 5 s each when the runner is dropped, unless stopped."""
    runner = toy_runner(tmp_path, 2, num_workers=2)
    runner.train()
    if workaround:
        compat.stop_loader_workers(runner.train_loop.dataloader)
        assert not any(w.is_alive()
                       for w in runner.train_loop.dataloader._iterator._workers)
    start = time.perf_counter()
    del runner
    gc.collect()
    seconds = time.perf_counter() - start
    assert seconds < 2 if workaround else seconds >= 5


# open-mmlab/mmengine#1410: a config outside the repository inherits the
# shipped configs as ``mmbackdoor::<path under configs/>``.
SHIPPED = [
    'backdoor_seg/fine-grained_segformer_mit-t16_1xb8-1k_embedded-seg-'
    '64x64.py',
    'backdoor_video/cleanlabel_i3d_r18-w8_source-pretrained_1xb16-8x2x1-8e_'
    'embedded-video-rgb.py',
]
PREFIX_PATCHED = 'config_prefix' in compat.APPLIED


def user_config(folder, shipped=SHIPPED[0]) -> str:
    path = osp.join(str(folder), 'my_config.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = ['mmbackdoor::{shipped}']\n"
                'train_cfg = dict(max_iters=2)\n')
    return path


def scopes(cfg) -> set:
    """Every ``_scope_`` value anywhere in ``cfg``."""
    if isinstance(cfg, dict):
        found = {cfg['_scope_']} if '_scope_' in cfg else set()
        return found.union(*(scopes(v) for v in cfg.values()))
    if isinstance(cfg, (list, tuple)):
        return set().union(*(scopes(v) for v in cfg))
    return set()


@pytest.mark.skipif(not PREFIX_PATCHED, reason='mmengine resolves it')
def test_config_prefix_needed(tmp_path):
    proc = run_python('from mmengine.config import Config\n'
                      f'Config.fromfile({user_config(tmp_path)!r})')
    assert proc.returncode != 0
    assert 'does not support to load mmbackdoor config' in proc.stderr


@pytest.mark.skipif(not PREFIX_PATCHED, reason='mmengine resolves it')
def test_config_prefix_base_scope_needed(tmp_path):
    """mmengine gives a ``package::`` base's typed dicts ``_scope_=package``;
    under scope ``mmbackdoor`` the codebase's types do not build."""
    pytest.importorskip('mmseg')
    from mmengine.registry import TRANSFORMS, DefaultScope
    path = tmp_path / 'ade.py'
    path.write_text("_base_ = ['mmseg::_base_/datasets/ade20k.py']\n")
    assert Config.fromfile(str(path)).train_dataloader.dataset._scope_ == \
        'mmseg'
    with DefaultScope.overwrite_default_scope('mmseg'):
        assert TRANSFORMS.build(dict(type='PackSegInputs'))
        with pytest.raises(KeyError, match='PackSegInputs'):
            TRANSFORMS.build(dict(type='PackSegInputs', _scope_='mmbackdoor'))


@pytest.mark.skipif(not PREFIX_PATCHED, reason='mmengine resolves it')
def test_config_prefix_leaves_mmengine_codebases_alone():
    """``mmbackdoor`` stays out of ``MODULE2PACKAGE``: there, every registry
    of scope ``mmbackdoor`` without import locations would call a
    ``mmbackdoor.utils.register_all_modules`` (``test_package.py``'s
    ``test_warning_capture_sees_mmengine_scope_warning`` builds one)."""
    from mmengine.config.utils import MODULE2PACKAGE
    assert 'mmbackdoor' not in MODULE2PACKAGE
    assert not hasattr(mmbackdoor.utils, 'register_all_modules')


def test_config_prefix_editable_path_needed():
    """mmengine's own ``get_installed_path`` (``mmengine.utils``, left
    alone) joins the dist-info location with the module name: for an
    editable install a folder that does not exist."""
    from mmengine.utils import get_installed_path
    path = get_installed_path('mmbackdoor')
    if osp.isdir(path):
        pytest.skip('a regular install: mmengine finds its folder')
    assert osp.realpath(path) != osp.realpath(compat._package_dir())


@pytest.mark.parametrize('shipped', SHIPPED, ids=osp.basename)
def test_user_config_inherits_a_shipped_config(shipped, tmp_path):
    """``_base_ = ['mmbackdoor::...']`` gives the shipped config (and its
    own relative and ``mmseg::`` / ``mmaction::`` bases), the override on
    top, and no ``_scope_='mmbackdoor'`` anywhere."""
    pytest.importorskip(shipped.startswith('backdoor_seg') and 'mmseg'
                        or 'mmaction')
    cfg = Config.fromfile(user_config(tmp_path, shipped)).to_dict()
    direct = Config.fromfile(osp.join(REPO, 'configs', shipped)).to_dict()
    assert {k for k in cfg.keys() | direct.keys()
            if cfg.get(k) != direct.get(k)} == {'train_cfg'}
    assert cfg['train_cfg']['max_iters'] == 2
    assert 'mmbackdoor' not in scopes(cfg)
    assert cfg['custom_imports']['imports'] == ['mmbackdoor']


def test_get_config_loads_a_shipped_config():
    pytest.importorskip('mmseg')
    from mmengine.hub import get_config
    cfg = get_config(f'mmbackdoor::{SHIPPED[0]}')
    assert cfg.filename == osp.join(
        osp.dirname(osp.abspath(mmbackdoor.__file__)), '.mim', 'configs',
        SHIPPED[0])
    assert cfg.model.type == 'EncoderDecoder'
    pipeline = cfg.train_dataloader.dataset.dataset.pipeline
    assert 'FineGrainedPoison' in [t['type'] for t in pipeline]


def test_config_prefix_says_when_the_configs_are_missing(tmp_path):
    """A checkout on ``PYTHONPATH``, or installed editable before the
    configs shipped: no ``mmbackdoor/.mim``."""
    with pytest.raises(FileNotFoundError, match='pip install -e'):
        compat._with_shipped_configs(str(tmp_path))
    (tmp_path / '.mim' / 'configs').mkdir(parents=True)
    assert compat._with_shipped_configs(str(tmp_path)) == str(tmp_path)
