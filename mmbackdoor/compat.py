"""Workarounds for upstream bugs of the pinned OpenMMLab stack.

Every workaround lives here, names the upstream issue it works around, is
applied only when the bug is present (a full mmcv with compiled ops, or a
fixed mmaction, is left untouched) and is covered by ``tests/test_compat.py``.
:func:`apply_all` runs on ``import mmbackdoor`` and is idempotent.
"""
import _codecs
import importlib
import importlib.util
import os.path as osp
import pickle
import sys
import types
from typing import Dict

#: Names of the workarounds that :func:`apply_all` actually applied.
APPLIED: Dict[str, str] = {}


def _mmcv_ops_missing() -> bool:
    """Whether ``mmcv`` is installed but ``mmcv.ops`` cannot be imported
    because its compiled extension ``mmcv._ext`` is absent (mmcv-lite)."""
    if importlib.util.find_spec('mmcv') is None:
        return False
    if 'mmcv.ops' in sys.modules:
        return False
    try:
        importlib.import_module('mmcv.ops')
    except ModuleNotFoundError as err:
        if err.name == 'mmcv._ext':
            return True
        raise
    return False


def patch_mmcv_lite_ops() -> bool:
    """Provide a pure-PyTorch ``mmcv.ops`` when mmcv-lite is installed.

    Upstream: open-mmlab/mmsegmentation#3563 (``import mmseg.models`` fails
    without compiled mmcv ops). Four mmseg modules import ``mmcv.ops``
    unconditionally, but only need ``point_sample`` (pure PyTorch, in
    ``mmcv/ops/point_sample.py``) and ``sigmoid_focal_loss`` (used on CUDA
    only; mmseg falls back to a PyTorch focal loss on CPU). The shim loads the
    real ``point_sample.py`` from the installed mmcv; every other op raises
    ``ModuleNotFoundError`` on access so the ``try/except ModuleNotFoundError``
    guards elsewhere in mmseg keep working and users get a clear message.

    Returns:
        bool: Whether the shim was installed.
    """
    if not _mmcv_ops_missing():
        return False
    import mmcv
    ops_dir = osp.join(osp.dirname(mmcv.__file__), 'ops')
    spec = importlib.util.spec_from_file_location(
        'mmcv.ops.point_sample', osp.join(ops_dir, 'point_sample.py'))
    point_sample_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(point_sample_mod)

    hint = ('requires mmcv with compiled ops; mmcv-lite is installed. '
            'Install full mmcv (see the README, "GPU / full mmcv").')

    def sigmoid_focal_loss(*args, **kwargs):
        raise RuntimeError(f'mmcv.ops.sigmoid_focal_loss {hint}')

    ops = types.ModuleType('mmcv.ops')
    ops.__path__ = []  # a package, so ``mmcv.ops.X`` look-ups reach here
    ops.__mmbackdoor_shim__ = True
    ops.point_sample = point_sample_mod.point_sample
    ops.bilinear_grid_sample = point_sample_mod.bilinear_grid_sample
    ops.SimpleRoIAlign = point_sample_mod.SimpleRoIAlign
    ops.sigmoid_focal_loss = sigmoid_focal_loss

    def __getattr__(name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        raise ModuleNotFoundError(f'mmcv.ops.{name} {hint}', name='mmcv.ops')

    ops.__getattr__ = __getattr__
    sys.modules['mmcv.ops'] = ops
    sys.modules['mmcv.ops.point_sample'] = point_sample_mod
    mmcv.ops = ops
    APPLIED['mmcv_lite_ops'] = 'open-mmlab/mmsegmentation#3563'
    return True


def patch_mmaction_drn() -> bool:
    """Stand in for ``mmaction.models.localizers.drn``, missing from the
    mmaction2 1.2.0 wheel and sdist.

    Upstream: open-mmlab/mmaction2#2714 (``import mmaction.models`` fails with
    ``No module named 'mmaction.models.localizers.drn'``). The placeholder
    registers nothing; building ``DRN`` is impossible with the wheel anyway,
    and the placeholder class says so when instantiated.

    Returns:
        bool: Whether the placeholder was installed.
    """
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.submodule_search_locations is None:
        return False
    root = spec.submodule_search_locations[0]
    drn_dir = osp.join(root, 'models', 'localizers', 'drn')
    if osp.isdir(drn_dir) or 'mmaction.models.localizers.drn' in sys.modules:
        return False

    class DRN:
        """Placeholder: DRN is missing from the mmaction2 1.2.0 wheel."""

        def __init__(self, *args, **kwargs):
            raise ModuleNotFoundError(
                'DRN is not shipped in the mmaction2 1.2.0 wheel '
                '(open-mmlab/mmaction2#2714); install mmaction2 from source '
                'to use it.')

    pkg = types.ModuleType('mmaction.models.localizers.drn')
    pkg.__path__ = []
    mod = types.ModuleType('mmaction.models.localizers.drn.drn')
    mod.DRN = DRN
    pkg.drn = mod
    sys.modules[pkg.__name__] = pkg
    sys.modules[mod.__name__] = mod
    APPLIED['mmaction_drn'] = 'open-mmlab/mmaction2#2714'
    return True


def _allowed_attributes() -> dict:
    """Class -> attribute names that mmengine checkpoints reach with
    ``getattr``: ``HistoryBuffer`` pickles its ``statistics_methods`` as
    ``getattr(HistoryBuffer, 'min')``, ``OneCycleParamScheduler`` its
    ``anneal_func`` as ``getattr(OneCycleParamScheduler, '_annealing_cos')``.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.optim.scheduler.param_scheduler import \
        OneCycleParamScheduler
    HistoryBuffer()  # its __init__ registers the default statistics
    return {
        HistoryBuffer: set(HistoryBuffer._statistics_methods),
        OneCycleParamScheduler: {'_annealing_cos', '_annealing_linear'},
    }


def _restricted_getattr(obj, name: str):
    """``getattr`` limited to :func:`_allowed_attributes`.

    Allowing the builtin ``getattr`` would let a checkpoint reach any
    attribute of any allowed object, so this stand-in is registered under
    the name ``getattr`` instead.
    """
    if name in _allowed_attributes().get(obj, ()):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only '
        f'{_allowed_attributes()} are allowed')


def _safe_globals() -> list:
    """Globals that mmengine checkpoints pickle besides tensors."""
    import numpy as np
    numpy_core = np._core if hasattr(np, '_core') else np.core
    allowed = list(_allowed_attributes()) + [
        np.ndarray, np.dtype, numpy_core.multiarray._reconstruct,
        numpy_core.multiarray.scalar,
        (numpy_core.multiarray._reconstruct,
         'numpy.core.multiarray._reconstruct'),
        (numpy_core.multiarray.scalar, 'numpy.core.multiarray.scalar'),
        (_codecs.encode, '_codecs.encode'),
        (_restricted_getattr, '__builtin__.getattr'),
        (_restricted_getattr, 'builtins.getattr'),
    ]
    # ``np.dtype('float64')`` pickles as its class ``numpy.dtypes.Float64DType``.
    allowed.extend(
        getattr(np.dtypes, name) for name in dir(np.dtypes)
        if name.endswith('DType'))
    return allowed


def patch_safe_checkpoint_loading() -> bool:
    """Allow-list the non-tensor globals of mmengine checkpoints so that they
    load with ``torch.load(weights_only=True)``.

    Upstream: open-mmlab/mmengine#1655 (mmengine calls ``torch.load`` without
    ``weights_only``; since torch 2.6 that means ``weights_only=True`` and
    loading a checkpoint with a ``message_hub`` fails on ``HistoryBuffer`` and
    numpy globals). Safe loading stays on: only the listed globals are added
    with ``torch.serialization.add_safe_globals``.

    Returns:
        bool: Whether globals were added.
    """
    import torch
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return False  # torch < 2.4: ``torch.load`` does not restrict globals
    torch.serialization.add_safe_globals(_safe_globals())
    APPLIED['safe_checkpoint_loading'] = 'open-mmlab/mmengine#1655'
    return True


def patch_cpu_distributed() -> bool:
    """Let mmengine's ``pytorch`` launcher and DDP wrapper run on CPU-only
    machines (gloo backend).

    Upstream: mmengine 0.10.7 assumes CUDA for ``launcher='pytorch'``
    (open-mmlab/mmengine#1017 tracks running without the CUDA/NCCL stack):
    ``mmengine.dist.utils._init_dist_pytorch`` calls
    ``torch.cuda.set_device`` unconditionally, and ``Runner.wrap_model``
    passes ``device_ids=[LOCAL_RANK]`` to ``DistributedDataParallel``, which
    rejects device ids for CPU modules. On a machine without CUDA the
    launcher initialises the process group directly (``nccl``, impossible
    there, becomes ``gloo``) and DDP gets no device ids for CPU modules.

    Returns:
        bool: Whether the patch was applied (only without CUDA).
    """
    import torch
    if torch.cuda.is_available():
        return False
    import torch.distributed as torch_dist
    from mmengine.dist import utils as dist_utils
    from mmengine.model import MMDistributedDataParallel

    original_init_dist = dist_utils._init_dist_pytorch
    if getattr(original_init_dist, '__mmbackdoor_patch__', False):
        return True

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if init_backend != 'torch':
            return original_init_dist(backend, init_backend, **kwargs)
        if backend == 'nccl':
            backend = 'gloo'
        torch_dist.init_process_group(backend=backend, **kwargs)

    _init_dist_pytorch.__mmbackdoor_patch__ = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch

    original_ddp_init = MMDistributedDataParallel.__init__

    def ddp_init(self, module, detect_anomalous_params=False, **kwargs):
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        original_ddp_init(self, module, detect_anomalous_params, **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init
    APPLIED['cpu_distributed'] = 'open-mmlab/mmengine#1017'
    return True


def _package_dir() -> str:
    """The folder of the imported mmbackdoor package
    (:func:`_with_shipped_configs`)."""
    return _with_shipped_configs(osp.dirname(osp.abspath(
        importlib.util.find_spec('mmbackdoor').origin)))


def _with_shipped_configs(package_dir: str) -> str:
    """``package_dir``, which must hold the shipped configs (``.mim/``,
    made by ``setup.py``).

    Raises:
        FileNotFoundError: If it has no ``.mim/configs`` (a checkout on
            ``PYTHONPATH``, or one installed editable before the configs
            shipped).
    """
    if not osp.isdir(osp.join(package_dir, '.mim', 'configs')):
        raise FileNotFoundError(
            f'{package_dir}/.mim/configs is missing, so `mmbackdoor::` '
            'configs cannot resolve: install mmbackdoor (`pip install .`, '
            'or `pip install -e .` again in a checkout: it links .mim/ to '
            'the configs)')
    return package_dir


#: The prefix of the shipped configs: ``mmbackdoor::<path under configs/>``.
CONFIG_PREFIX = 'mmbackdoor::'


def patch_config_prefix() -> bool:
    """Let a config anywhere inherit the shipped configs as
    ``_base_ = ['mmbackdoor::<path under configs/>']``, and
    ``mmengine.hub.get_config('mmbackdoor::<path>')`` load them.

    Upstream: open-mmlab/mmengine#1410 (``package::`` resolves only for the
    codebases in mmengine's hard-coded ``MODULE2PACKAGE``: ``AssertionError:
    mmengine does not support to load mmbackdoor config``; the fix,
    open-mmlab/mmengine#1411, was closed unmerged). The package ships its
    configs under ``mmbackdoor/.mim/configs`` (``setup.py``). Adding
    ``mmbackdoor`` to ``MODULE2PACKAGE`` would not do:

    - mmengine would then take mmbackdoor for a codebase: every registry of
      scope ``mmbackdoor`` without import locations would call a
      ``mmbackdoor.utils.register_all_modules``, which does not exist;
    - it finds a package's folder with ``get_installed_path``, the
      dist-info location joined with the module name: for an editable
      install ``site-packages/mmbackdoor``, which does not exist (the code
      stays in the checkout);
    - it gives every top-level typed dict of a ``package::`` base
      ``_scope_=package``, to build it in that codebase's registries. The
      shipped configs build mmseg / mmaction types under their own
      ``default_scope``; under scope ``mmbackdoor`` the runner fails
      (``KeyError: 'SegVisualizationHook is not in the mmengine::hook
      registry'``).

    So ``mmbackdoor::<path>`` is resolved here, only that prefix:
    ``Config._get_cfg_path`` (``_base_``) gives
    ``<imported package>/.mim/configs/<path>`` and no scope, like a relative
    base (its own ``mmseg::`` / ``mmaction::`` bases keep theirs);
    ``get_config``'s look-ups take ``mmbackdoor`` as the package and the
    imported package's folder (then mmengine reads ``.mim/model-index.yml``
    and ``.mim/configs/<path>`` as for any codebase). ``get_model`` stays
    unsupported (it needs a codebase's ``register_all_modules``).

    Applies on ``import mmbackdoor``, so a script that loads such a config
    must import mmbackdoor first (``tools/*.py`` do); the config's
    ``custom_imports`` come too late, after the ``_base_`` files.

    Returns:
        bool: Whether the patch was applied.
    """
    from mmengine.config import Config
    from mmengine.config import utils as config_utils
    hub = importlib.import_module('mmengine.hub.hub')

    if getattr(Config._get_cfg_path, '__mmbackdoor_patch__', False):
        return True  # applied before
    if 'mmbackdoor' in config_utils.MODULE2PACKAGE:
        return False  # an mmengine that knows mmbackdoor by itself

    original_cfg_path = Config._get_cfg_path

    def _get_cfg_path(cfg_path: str, filename: str):
        if not cfg_path.startswith(CONFIG_PREFIX):
            return original_cfg_path(cfg_path, filename)
        return config_utils._get_external_cfg_base_path(
            _package_dir(), cfg_path[len(CONFIG_PREFIX):]), None

    original_split = hub._get_package_and_cfg_path

    def _get_package_and_cfg_path(cfg_path: str):
        if not cfg_path.startswith(CONFIG_PREFIX):
            return original_split(cfg_path)
        return 'mmbackdoor', cfg_path[len(CONFIG_PREFIX):]

    original_installed_path = hub.get_installed_path

    def get_installed_path(package: str) -> str:
        if package != 'mmbackdoor':
            return original_installed_path(package)
        return _package_dir()

    _get_cfg_path.__mmbackdoor_patch__ = True
    Config._get_cfg_path = staticmethod(_get_cfg_path)
    hub._get_package_and_cfg_path = _get_package_and_cfg_path
    hub.get_installed_path = get_installed_path
    APPLIED['config_prefix'] = 'open-mmlab/mmengine#1410'
    return True


def one_pass_eval_workers(cfg):
    """Give ``cfg``'s val / test dataloaders non-persistent workers, in
    place (pytorch/pytorch#81794).

    A DataLoader whose persistent workers sit paused after a pass does not
    shut them down cleanly when it is dropped: it waits 5 s per worker
    before killing them. A process that builds several runners (the demo,
    benchmarks, tests) lost 10 s per evaluation loader that way. Evaluation
    passes draw no random numbers, so non-persistent workers give the same
    results; training loaders keep persistent workers (their augmentation
    random streams continue across epochs).
    """
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key) and cfg[key].get('num_workers', 0) > 0:
            cfg[key]['persistent_workers'] = False
    return cfg


def stop_loader_workers(dataloader) -> None:
    """Stop the persistent workers of ``dataloader`` now
    (pytorch/pytorch#81794).

    After training, a runner's training loader keeps its persistent workers;
    when the runner is dropped, the loader waits 5 s per worker before it
    kills them. Killing them at once is what that timeout ends in anyway.
    """
    iterator = getattr(dataloader, '_iterator', None)
    for worker in getattr(iterator, '_workers', ()):
        if worker.is_alive():
            worker.terminate()
    if iterator is not None and hasattr(iterator, '_shutdown_workers'):
        iterator._shutdown_workers()


def apply_all() -> Dict[str, str]:
    """Apply every workaround that the installed stack needs.

    Returns:
        dict: name of each applied workaround -> upstream issue.
    """
    patch_mmcv_lite_ops()
    patch_mmaction_drn()
    patch_safe_checkpoint_loading()
    patch_cpu_distributed()
    patch_config_prefix()
    return APPLIED
