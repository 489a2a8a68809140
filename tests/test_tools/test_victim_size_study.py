"""benchmarks/victim_size_study.py end to end (shortened schedule): one row
per scale with the controls, a dataset per scale, the figure."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.mark.slow
def test_study_rows_datasets_and_figure(tmp_path):
    work = tmp_path / 'study'
    cmd = [sys.executable, 'benchmarks/victim_size_study.py', '--scales',
           '1', '1.5', '--max-iters', '2', '--data-root',
           str(tmp_path / 'seg'), '--work-dir', str(work)]
    proc = subprocess.run(cmd, cwd=REPO, env=dict(os.environ,
                                                  OMP_NUM_THREADS='1'),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((work / 'results.json').read_text())
    assert [(r['arch'], r['person_scale']) for r in rows] == [
        ('segformer', 1.0), ('segformer', 1.5)]
    for row in rows:
        for key in ('clean mIoU', 'CBA', 'ASR', 'clean/ASR',
                    'trigger on clean', 'ASR_recognised', 'victim_recall'):
            assert 0 <= row[key] <= 100 or row[key] != row[key], key
    assert '| segformer | 1.5 |' in proc.stdout
    meta = {
        name: json.loads((tmp_path / name / 'meta.json').read_text())
        for name in ('seg', 'seg_person1.5')
    }
    assert 'person_scale' not in meta['seg']
    assert meta['seg_person1.5']['person_scale'] == 1.5
    # the scale's folder is a poison-rate sweep work dir: its runs are kept
    assert (work / 'person_scale_1.5' / 'segformer' / 'fine_grained_rate0.1'
            / 'result.json').is_file()
    assert (work / 'victim_size_study.png').stat().st_size > 0
