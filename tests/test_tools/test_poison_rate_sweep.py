"""benchmarks/poison_rate_sweep.py end to end (shortened schedule): one row
per architecture, attack and rate with the controls, the figure, reuse of
finished runs, dataset options."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.mark.slow
def test_sweep_rows_controls_and_cache(tmp_path):
    work = tmp_path / 'sweep'
    cmd = [sys.executable, 'benchmarks/poison_rate_sweep.py', '--rates', '0',
           '0.1', '--attacks', 'fine_grained', '--archs', 'segformer',
           'unet', '--max-iters', '2', '--data-root', str(tmp_path / 'seg'),
           '--dataset-options', '{"person_scale": 1.5}', '--work-dir',
           str(work)]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((work / 'results.json').read_text())
    assert [(r['arch'], r['rate']) for r in rows] == [
        ('segformer', 0.0), ('segformer', 0.1), ('unet', 0.0), ('unet', 0.1)]
    for row in rows:
        for key in ('CBA', 'PBA', 'ASR', 'clean/ASR', 'ASR_recognised',
                    'victim_recall'):
            assert 0 <= row[key] <= 100 or row[key] != row[key], key
    assert (work / 'poison_rate_sweep.png').stat().st_size > 0
    # every dataset (train, test; poisoned or not) got the options
    meta = json.loads((tmp_path / 'seg' / 'meta.json').read_text())
    assert meta['person_scale'] == 1.5
    assert '| segformer | fine_grained | 10 |' in proc.stdout
    result = work / 'unet' / 'fine_grained_rate0.1' / 'result.json'
    stamp = result.stat().st_mtime_ns
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and result.stat().st_mtime_ns == stamp
