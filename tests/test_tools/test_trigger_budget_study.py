"""benchmarks/trigger_budget_study.py end to end on a tiny recognizer: one
trigger run serves every budget, every victim of the chain is trained and
tested, finished runs are reused."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from mmbackdoor.apis.clean_label import attack_dataset
from mmbackdoor.apis.video_backdoor import optimise_trigger
from mmbackdoor.testing.video import build_model, make_cfg, save_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.slow
def test_budget_study_rows_snapshots_and_cache(tmp_path):
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW', per_class=4)
    config = str(tmp_path / 'clean.py')
    cfg.dump(config)
    model = build_model(cfg)
    checkpoint = save_checkpoint(model, str(tmp_path / 'clean.pth'))
    work = tmp_path / 'study'
    cmd = [sys.executable, 'benchmarks/trigger_budget_study.py', config,
           checkpoint, '--classes', '1', '--steps', '3', '2',
           '--batch-size', '2', '--work-dir', str(work)]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((work / 'results.json').read_text())
    assert [(r['target'], r['steps']) for r in rows] == [(1, 2), (1, 3)]
    for row in rows:
        for key in ('ASR', 'top1', 'ASR_no_enhance', 'ASR_random_patch',
                    'trigger_ASR_clean_model', 'clean_top1'):
            assert 0 <= row[key] <= 100, key
    assert (work / 'trigger_budget_study.png').stat().st_size > 0
    # the 2-step trigger is the snapshot of the 3-step run
    short, _ = optimise_trigger(
        build_model(cfg), attack_dataset(cfg, 'val'), 1, steps=2,
        batch_size=2, size=12)
    np.testing.assert_array_equal(
        np.load(work / 'class1' / 'trigger_2.npy'), short)
    meta = json.loads((work / 'class1' / 'trigger_3.json').read_text())
    assert meta['steps'] == 3 and meta['progress']['step'] == [3]
    # a rerun reuses every finished run
    victim = work / 'class1' / 'clean_label_3.json'
    stamp = victim.stat().st_mtime_ns
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert victim.stat().st_mtime_ns == stamp
    assert json.loads((work / 'results.json').read_text()) == rows


def test_victim_never_starts_from_the_attackers_clean_model(tmp_path):
    """A config dumped by a test run of the clean model carries
    ``load_from = <clean checkpoint>``; a victim built from it would
    fine-tune the attacker's model instead of the shared pretrained one."""
    from mmbackdoor.apis.video_backdoor import train_victim
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW')
    checkpoint = save_checkpoint(build_model(cfg), str(tmp_path / 'c.pth'))
    cfg.load_from = checkpoint
    with pytest.raises(ValueError, match="is the attacker's clean model"):
        train_victim(cfg, str(tmp_path / 'poison'), str(tmp_path / 't.npy'),
                     0, str(tmp_path / 'victim'),
                     attacker_checkpoint=checkpoint)
    assert not (tmp_path / 'victim').exists()
