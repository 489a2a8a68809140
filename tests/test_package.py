"""Package-level contract: registration without prefix, optional halves,
registry locations."""
import importlib
import subprocess
import sys

import pytest

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
