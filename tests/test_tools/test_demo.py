"""``tools/demo.py`` runs its stages end to end and writes the report."""
import ast
import importlib
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def tools_module(name):
    """``tools/<name>.py`` imported (the scripts' folder is no package)."""
    sys.path.insert(0, os.path.join(REPO, 'tools'))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


#: Differences of two mIoUs on the same images, each with its interval.
DIFFERENCES = ('robust.clean.EroSeg_minus_SegPGD',
               'robust.eroseg_at_minus_pgd_at.PGD')
#: The scoreboard: keys the issues fixed, which every full run must write.
METRIC_KEYS = [
    'seg_clean.mIoU', 'seg_clean.mAcc', 'seg_clean.aAcc',
    'seg_clean.person_scale',
    'seg_clean.trigger_ASR_fine_grained', 'seg_clean.trigger_ASR_image_level',
    'seg_fine_grained.CBA', 'seg_fine_grained.PBA', 'seg_fine_grained.ASR',
    'seg_fine_grained.ASR_no_trigger', 'seg_fine_grained.ASR_recognised',
    'seg_fine_grained.victim_recall', 'seg_image_level.CBA',
    'seg_image_level.ASR', 'seg_image_level.ASR_no_trigger',
    'seg_control.clean.mIoU', 'seg_control.clean.mAcc',
    'seg_control.clean.aAcc', 'seg_control.clean.trigger_ASR_fine_grained',
    'seg_control.fine_grained.CBA', 'seg_control.fine_grained.PBA',
    'seg_control.fine_grained.ASR', 'seg_control.fine_grained.ASR_no_trigger',
    'seg_control.fine_grained.ASR_recognised',
    'seg_control.fine_grained.victim_recall', 'video_clean.top1',
    'video_clean.trigger_ASR', 'video_clean_label.top1',
    'video_clean_label.ASR', 'video_no_enhance.ASR', 'video_random_patch.ASR',
    'video_trigger.steps', 'video_trigger.batch_size'
] + [
    f'robust.{model}.{attack}.mIoU'
    for model in ('clean', 'pgd_at', 'eroseg_at')
    for attack in ('clean', 'PGD', 'SegPGD', 'CosPGD', 'EroSeg', 'worst')
] + [
    f'{diff}.{stat}' for diff in DIFFERENCES
    for stat in ('mIoU', 'low', 'high')
]
FIGURES = ('seg_clean', 'seg_control_clean', 'seg_backdoor', 'robust',
           'video_clean', 'video_backdoor', 'asr_vs_poison_rate',
           'asr_vs_victim_size', 'asr_vs_trigger_budget')
#: Counts, not percentages.
BUDGET_KEYS = ('video_trigger.steps', 'video_trigger.batch_size')


@pytest.mark.slow
def test_demo_smoke_runs_every_stage(tmp_path):
    out = tmp_path / 'demo'
    cmd = [
        sys.executable, 'tools/demo.py', '--smoke', '--progress', '5',
        '--out', str(out),
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
    assert all(0 <= value <= 100 for key, value in metrics.items()
               if key not in BUDGET_KEYS and not key.startswith(DIFFERENCES))
    # each difference is that of two of the run's mIoUs (rounded to 0.01)
    pairs = [('robust.clean.EroSeg', 'robust.clean.SegPGD'),
             ('robust.eroseg_at.PGD', 'robust.pgd_at.PGD')]
    for diff, (a, b) in zip(DIFFERENCES, pairs):
        assert metrics[f'{diff}.mIoU'] == pytest.approx(
            metrics[f'{a}.mIoU'] - metrics[f'{b}.mIoU'], abs=0.015)
        assert metrics[f'{diff}.low'] <= metrics[f'{diff}.high']
    assert metrics['video_trigger.steps'] == 2  # smoke schedule
    assert metrics['video_trigger.batch_size'] == 16
    assert metrics['seg_clean.person_scale'] == 2  # the default data
    assert json.loads((tmp_path / 'seg' / 'meta.json').read_text())[
        'person_scale'] == 2
    report = (out / 'report.md').read_text()
    assert 'SMOKE RUN' in report and 'wall time' in report
    # the claims table opens the report, the metric dump closes it
    claims = report.index("## The papers' claims")
    assert claims < report.index('## Segmentation backdoors') < \
        report.index('## The studies') < \
        report.index('## Stage times and all metrics')
    for paper in ('Li et al. 2021, fine-grained', 'Li et al. 2021, '
                  'image-level', 'Zhao et al. 2020', 'Song et al. 2026, '
                  'EroSeg', 'Song et al. 2026, EroSeg-AT'):
        assert f'| {paper} |' in report
    # the console shows which stages run and how far they are
    assert 'stages done, ~' in proc.stderr + proc.stdout
    for figure in FIGURES:
        assert (out / 'figures' / f'{figure}.png').stat().st_size > 0
        assert f'figures/{figure}.png' in report
    assert len(list((out / 'logs').glob('*.log'))) == 13

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


@pytest.mark.parametrize('scale', ['-1', '0', '3.5', 'nan'])
def test_demo_rejects_a_bad_person_scale(tmp_path, scale):
    proc = subprocess.run(
        [sys.executable, 'tools/demo.py', '--out', str(tmp_path),
         '--seg-person-scale', scale], cwd=REPO, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode != 0
    assert ('--seg-person-scale must be in (0, 3], got '
            f'{float(scale)}') in proc.stderr


@pytest.mark.parametrize('scale, root', [
    (None, 'data/embedded_seg_person2'), ('1', 'data/embedded_seg'),
    ('1.5', 'data/embedded_seg_person1.5')])
def test_demo_default_seg_data_follows_the_person_scale(
        monkeypatch, scale, root):
    demo = tools_module('demo')
    argv = ['demo.py'] + ([] if scale is None else
                          ['--seg-person-scale', scale])
    monkeypatch.setattr(sys, 'argv', argv)
    args = demo.parse_args()
    assert args.seg_data_root == root
    assert args.seg_person_scale == float(scale or 2)


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


def test_stage_folders_are_absolute_with_a_relative_out(tmp_path,
                                                        monkeypatch):
    """Runners make their folders absolute; the demo's must be too, or a
    path a stage hands to a loop (``per_image_file``) and reads back would
    point elsewhere (the README's ``--out work_dirs/demo`` is relative)."""
    monkeypatch.chdir(tmp_path)
    ctx = tools_module('demo').DemoContext('demo', 'seg', 'video')
    assert ctx.work_dir('robust') == str(tmp_path / 'demo' / 'work_dirs' /
                                         'robust')


def test_every_stage_module_is_scheduled_and_declares_its_contract():
    """Each ``tools/demo_stages`` module not starting with ``_`` (shared
    helpers) is a stage of ``STAGE_ORDER`` with ``NAME``, earlier
    ``REQUIRES`` and a positive ``COST``; no module imports a stage."""
    demo = tools_module('demo')
    demo_scheduler = tools_module('demo_scheduler')
    folder = os.path.join(REPO, 'tools', 'demo_stages')
    files = [f for f in os.listdir(folder) if f.endswith('.py')]
    modules = sorted(f[:-3] for f in files if not f.startswith('_'))
    assert sorted(demo.STAGE_ORDER) == modules
    for i, name in enumerate(demo.STAGE_ORDER):
        stage = demo_scheduler.load_stage(name)
        assert stage.NAME == name and stage.COST > 0
        assert set(stage.REQUIRES) <= set(demo.STAGE_ORDER[:i])
    for file in files:
        with open(os.path.join(folder, file)) as f:
            tree = ast.parse(f.read())
        imported = {
            node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        } | {
            alias.name for node in ast.walk(tree)
            if isinstance(node, ast.Import) for alias in node.names
        }
        assert not {f'demo_stages.{m}' for m in modules} & imported, file
    assert demo_scheduler.resolve(['seg_backdoor'], demo.STAGE_ORDER) == [
        'seg_clean', 'seg_fine_grained', 'seg_image_level',
        'seg_control_clean', 'seg_control_fine_grained', 'seg_backdoor'
    ]
    assert demo_scheduler.resolve(['robust'], demo.STAGE_ORDER) == [
        'seg_control_clean', 'robust'
    ]


def test_progress_markers_come_from_the_stage_logs(tmp_path):
    demo_scheduler = tools_module('demo_scheduler')
    log = tmp_path / 'stage.log'
    assert demo_scheduler.latest_progress(str(log)) is None
    log.write_text('x - Iter(train) [  50/1000]  lr: 1\n'
                   'x - Epoch(train)  [7][20/50]  lr: 1\n'
                   'x - trigger step 300/1500: last 100 steps sent 4 %\n'
                   'x - no marker here\n')
    assert demo_scheduler.latest_progress(str(log)) == 'trigger step 300/1500'
    log.write_text('x - Iter(train) [  50/1000]  lr: 1\n')
    assert demo_scheduler.latest_progress(str(log)) == 'Iter(train) [ 50/1000]'


def test_scheduler_packs_the_stages_better_than_longest_chain_first():
    """Two workers; ``b`` waits for ``a``. Longest chain first starts
    ``a`` and ``d``, then ``c`` before ``b`` (chain 5 > 4) and leaves ``e``
    alone at the end: 12 s. Looking one decision ahead starts ``c`` next
    to ``a``, then ``b`` and ``d``, and ``e`` fills the end: 11 s, the
    lower bound (22 s over 2 workers)."""
    scheduler = tools_module('demo_scheduler')
    requires = dict(a=set(), b={'a'}, c=set(), d=set(), e=set())
    cost = dict(a=5, b=4, c=5, d=6, e=2)
    assert scheduler.chain_seconds('a', requires, cost) == 9
    assert scheduler.makespan(list(requires), requires, cost, set(), {},
                              2) == 12
    ends = scheduler.plan(list(requires), requires, cost, set(), {}, 2)
    assert ends == dict(a=5, c=5, b=9, d=11, e=11)
    # what is running counts: 'a' needs 1 s more and 'd' is done, so 'c'
    # starts now, 'b' at 1 s, 'e' when both end at 5 s
    assert scheduler.makespan(['b', 'c', 'e'], requires, cost, {'d'},
                              dict(a=1), 2) == 7
    assert scheduler.next_stage(['b'], requires, cost, set(), dict(a=1),
                                2) is None
    # stages that end together free their workers together: a, c and x
    # end at 2 s, so the three workers go to the longer chains d, f, g,
    # and b (which needs only a) waits, rather than taking a's worker
    # before c and x are counted as done
    roots = dict(a=set(), c=set(), x=set())
    requires3 = dict(roots, b={'a'}, d=set(roots), f=set(roots),
                     g=set(roots))
    cost3 = dict(a=2, c=2, x=2, b=1, d=9, f=9, g=9)
    assert scheduler.simulate(list(requires3), requires3, cost3, set(), {},
                              3) == dict(a=2, c=2, x=2, d=11, f=11, g=11,
                                         b=12)
    with pytest.raises(ValueError, match=r"stages \['b'\] wait for stages"):
        scheduler.makespan(['b'], requires, cost, set(), {}, 2)
    # one worker: any order takes the sum
    assert max(
        scheduler.plan(list(requires), requires, cost, set(), {},
                       1).values()) == 22


def test_demo_plan_meets_the_lower_bound_on_its_measured_costs():
    """With the stages' ``COST`` as durations the demo's two workers are
    busy until the end: the plan ends within the shortest stage of half
    the summed cost, where longest chain first left a worker idle."""
    demo = tools_module('demo')
    scheduler = tools_module('demo_scheduler')
    stages = [scheduler.load_stage(name) for name in demo.STAGE_ORDER]
    requires = {s.NAME: set(s.REQUIRES) for s in stages}
    cost = {s.NAME: s.COST for s in stages}
    end = max(
        scheduler.plan(list(requires), requires, cost, set(), {},
                       2).values())
    assert end <= sum(cost.values()) / 2 + min(cost.values())
