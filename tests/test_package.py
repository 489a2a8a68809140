"""Package-level contract: registration without prefix, optional halves,
registry locations."""
import importlib
import logging
import subprocess
import sys

import pytest
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

import mmbackdoor


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize('registry', [mmbackdoor.TRIGGERS, mmbackdoor.ATTACKS])
def test_registry_locations_import(registry):
    for location in registry._locations:
        importlib.import_module(location)
    assert len(registry.module_dict) > 0


@pytest.mark.parametrize('scope,kind,names', [
    ('mmseg', 'TRANSFORMS',
     ['ApplyTrigger', 'ImageLevelPoison', 'FineGrainedPoison']),
    ('mmseg', 'DATASETS', ['EmbeddedSegDataset']),
    ('mmseg', 'METRICS', ['SegBackdoorMetric']),
    ('mmseg', 'HOOKS', ['AdversarialTrainingHook']),
    ('mmseg', 'LOOPS', ['BackdoorTestLoop', 'RobustnessTestLoop']),
    ('mmaction', 'TRANSFORMS', ['ApplyTrigger', 'CleanLabelPoison']),
    ('mmaction', 'DATASETS', ['EmbeddedVideoDataset']),
    ('mmaction', 'METRICS', ['ActionBackdoorMetric']),
])
def test_found_without_prefix_from_codebase_scope(scope, kind, names):
    registry = getattr(importlib.import_module(f'{scope}.registry'), kind)
    for name in names:
        assert registry.get(name) is not None, f'{scope} {kind} {name}'


def test_segmentation_half_without_mmaction():
    proc = run_python(
        "import sys; sys.modules['mmaction'] = None\n"
        'import mmbackdoor\n'
        'from mmseg.registry import TRANSFORMS, DATASETS\n'
        "assert TRANSFORMS.get('FineGrainedPoison')\n"
        "assert DATASETS.get('EmbeddedSegDataset')\n"
        "assert not hasattr(mmbackdoor.datasets, 'EmbeddedVideoDataset')\n"
        "assert 'mmaction_drn' not in mmbackdoor.compat.APPLIED\n")
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_video_half_without_mmseg():
    proc = run_python(
        "import sys; sys.modules['mmseg'] = None\n"
        'import mmbackdoor\n'
        'from mmaction.registry import TRANSFORMS, DATASETS, METRICS\n'
        "assert TRANSFORMS.get('CleanLabelPoison')\n"
        "assert DATASETS.get('EmbeddedVideoDataset')\n"
        "assert METRICS.get('ActionBackdoorMetric')\n"
        "assert not hasattr(mmbackdoor.datasets, 'EmbeddedSegDataset')\n")
    assert proc.returncode == 0, proc.stderr[-3000:]


class _Records(logging.Handler):
    """Collects the records that reach mmengine's current logger."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def mmengine_warnings():
    """The WARNING records mmengine's ``print_log(logger='current')`` logs
    while the test runs (what its "Failed to search registry" goes to)."""
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def test_warning_capture_sees_mmengine_scope_warning(mmengine_warnings):
    """Control: the fixture does see the warning a root registry without an
    mmseg child logs when built the plain mmengine way."""
    from mmengine.registry import Registry, build_from_cfg
    plain = Registry('plain_trigger', scope='mmbackdoor')
    plain.register_module(name='Line', module=mmbackdoor.triggers.LineTrigger)
    with DefaultScope.overwrite_default_scope('mmseg'):
        built = build_from_cfg(dict(type='Line'), plain)
    assert isinstance(built, mmbackdoor.triggers.LineTrigger)
    assert any('Failed to search registry' in r.getMessage()
               for r in mmengine_warnings)


@pytest.mark.parametrize('scope', ['mmseg', 'mmaction', None])
@pytest.mark.parametrize('prefix', ['', 'mmbackdoor.'])
def test_registries_build_in_any_default_scope_without_warning(
        scope, prefix, mmengine_warnings):
    from mmbackdoor.attacks import PGD, EroSeg, build_attack
    from mmbackdoor.datasets.transforms.apply_trigger import build_trigger
    from mmbackdoor.triggers import LineTrigger, PatchTrigger

    def scope_name():
        current = DefaultScope.get_current_instance()
        return current.scope_name if current else None

    with DefaultScope.overwrite_default_scope(scope):
        before = scope_name()
        trigger = mmbackdoor.TRIGGERS.build(
            dict(type=prefix + 'LineTrigger', height=4))
        patch = build_trigger(dict(type=prefix + 'PatchTrigger', size=3))
        attack = mmbackdoor.ATTACKS.build(dict(type=prefix + 'PGD', steps=2))
        eroseg = build_attack(dict(type=prefix + 'EroSeg', steps=2))
        # the caller's default scope is back after the builds
        assert scope_name() == before
        assert scope is None or before == scope
    assert type(trigger) is LineTrigger and trigger.height == 4
    assert type(patch) is PatchTrigger
    assert type(attack) is PGD and attack.steps == 2
    assert type(eroseg) is EroSeg
    assert [r.getMessage() for r in mmengine_warnings] == []


def test_build_leaves_the_config_alone():
    cfg = dict(type='LineTrigger', height=4)
    mmbackdoor.TRIGGERS.build(cfg)
    assert cfg == dict(type='LineTrigger', height=4)


def test_every_subpackage_is_a_package_and_shipped(monkeypatch):
    """Every folder of ``mmbackdoor/`` with modules has an ``__init__.py``,
    and ``setup.py`` ships each of them (its ``packages`` argument)."""
    import os
    import os.path as osp
    import runpy

    import setuptools
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    folders = set()
    for path, dirs, files in os.walk(osp.join(root, 'mmbackdoor')):
        # .mim: the shipped configs (setup.py), data, not modules
        dirs[:] = [d for d in dirs if d not in ('__pycache__', '.mim')]
        if any(f.endswith('.py') for f in files):
            assert '__init__.py' in files, f'{path} has no __init__.py'
            folders.add(osp.relpath(path, root).replace(os.sep, '.'))
    setup_kwargs = {}
    monkeypatch.setattr(setuptools, 'setup', setup_kwargs.update)
    monkeypatch.chdir(root)
    runpy.run_path('setup.py', run_name='__main__')
    assert set(setup_kwargs['packages']) == folders
