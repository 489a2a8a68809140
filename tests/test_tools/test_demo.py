"""``tools/demo.py`` runs its stages end to end and writes the report."""
import json
import os
import subprocess
import sys

import pytest

from test_train_test import REPO


#: The scoreboard: keys the issues fixed, which every full run must write.
METRIC_KEYS = [
    'seg_clean.mIoU', 'seg_clean.mAcc', 'seg_clean.aAcc',
    'seg_fine_grained.CBA', 'seg_fine_grained.PBA', 'seg_fine_grained.ASR',
    'seg_image_level.CBA', 'seg_image_level.ASR', 'video_clean.top1',
    'video_clean.trigger_ASR', 'video_clean_label.top1',
    'video_clean_label.ASR', 'video_no_enhance.ASR', 'video_random_patch.ASR'
] + [
    f'robust.{model}.{attack}.mIoU'
    for model in ('clean', 'pgd_at', 'eroseg_at')
    for attack in ('clean', 'PGD', 'SegPGD', 'CosPGD', 'EroSeg', 'worst')
]
FIGURES = ('seg_clean', 'seg_backdoor', 'robust', 'video_clean',
           'video_backdoor')


@pytest.mark.slow
def test_demo_smoke_runs_every_stage(tmp_path):
    out = tmp_path / 'demo'
    cmd = [
        sys.executable, 'tools/demo.py', '--smoke', '--out', str(out),
        '--seg-data-root',
        str(tmp_path / 'seg'), '--video-data-root',
        str(tmp_path / 'video')
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-5000:]
    metrics = json.loads((out / 'metrics.json').read_text())
    assert sorted(metrics) == sorted(METRIC_KEYS)
    assert all(0 <= value <= 100 for value in metrics.values())
    report = (out / 'report.md').read_text()
    assert 'SMOKE RUN' in report and 'wall time' in report
    for figure in FIGURES:
        assert (out / 'figures' / f'{figure}.png').stat().st_size > 0
        assert f'figures/{figure}.png' in report
    assert len(list((out / 'logs').glob('*.log'))) == 11

    # a second run refuses to overwrite the report
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode != 0 and '--overwrite' in proc.stderr


def test_demo_rejects_unknown_stage(tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/demo.py', '--out', str(tmp_path),
         '--only', 'nope'], cwd=REPO, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode != 0
    assert "unknown stage(s) ['nope']" in proc.stderr
    assert 'seg_clean' in proc.stderr


def test_demo_failing_stage_stops_the_run_and_names_its_log(tmp_path):
    """A stage failing in its worker process ends the demo with an error
    naming the stage and its log, which holds the traceback."""
    not_a_folder = tmp_path / 'file'
    not_a_folder.write_text('')
    out = tmp_path / 'demo'
    proc = subprocess.run(
        [sys.executable, 'tools/demo.py', '--smoke', '--out', str(out),
         '--only', 'seg_clean', '--seg-data-root', str(not_a_folder)],
        cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    log = out / 'logs' / 'seg_clean.log'
    assert f'stage seg_clean failed (log: {log})' in proc.stderr
    assert 'Traceback' in proc.stderr and 'Traceback' in log.read_text()
    assert not (out / 'metrics.json').exists()


def test_every_stage_module_is_scheduled_and_declares_its_contract():
    """Each ``tools/demo_stages`` module is a stage of ``STAGE_ORDER`` with
    ``NAME``, earlier ``REQUIRES`` and a positive ``COST``."""
    sys.path.insert(0, os.path.join(REPO, 'tools'))
    try:
        import demo
    finally:
        sys.path.pop(0)
    modules = sorted(
        f[:-3] for f in os.listdir(os.path.join(REPO, 'tools', 'demo_stages'))
        if f.endswith('.py') and f != '__init__.py')
    assert sorted(demo.STAGE_ORDER) == modules
    for i, name in enumerate(demo.STAGE_ORDER):
        stage = demo.load_stage(name)
        assert stage.NAME == name and stage.COST > 0
        assert set(stage.REQUIRES) <= set(demo.STAGE_ORDER[:i])
    assert demo.resolve(['seg_backdoor']) == [
        'seg_clean', 'seg_fine_grained', 'seg_image_level', 'seg_backdoor'
    ]
