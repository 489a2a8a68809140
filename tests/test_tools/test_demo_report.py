"""The demo report's claims table: verdicts from the metrics, rows of stages
that did not run left out."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


sys.path.insert(0, os.path.join(REPO, 'tools'))
try:
    import demo_report
finally:
    sys.path.pop(0)

SEG = {
    'seg_clean.mIoU': 79.0, 'seg_clean.trigger_ASR_fine_grained': 1.0,
    'seg_clean.trigger_ASR_image_level': 60.0,
    'seg_fine_grained.ASR': 91.0, 'seg_fine_grained.ASR_no_trigger': 2.0,
    'seg_fine_grained.ASR_recognised': 97.0,
    'seg_fine_grained.victim_recall': 93.0, 'seg_fine_grained.CBA': 78.5,
    'seg_control.fine_grained.ASR': 2.3, 'seg_image_level.ASR': 97.0,
    'seg_image_level.ASR_no_trigger': 61.0, 'seg_image_level.CBA': 77.0,
}


def rows(metrics):
    return {line.split(' | ')[0][2:]: line
            for line in demo_report.claims_table(metrics)[2:]
            if line.startswith('| ')}


def test_fine_grained_row_names_the_setting_that_reaches_the_claim():
    config = ('configs/backdoor_seg/fine-grained_segformer_mit-t16-s1_1xb8-'
              '2k_embedded-seg-person2-64x64.py')
    lines = demo_report.claims_table(SEG)
    notes = [line for line in lines if line and not line.startswith('|')]
    assert len(notes) == 1 and f'`{config}`' in notes[0]
    assert os.path.isfile(os.path.join(REPO, config))
    # the note names the run's data
    assert 'with persons at scale 1 (' in notes[0]
    scaled = demo_report.claims_table(
        dict(SEG, **{'seg_clean.person_scale': 2.0}))
    assert 'with persons at scale 2 (' in scaled[-1]
    image_level_only = {
        k: v for k, v in SEG.items() if not k.startswith('seg_fine_grained')
    }
    assert not [line for line in demo_report.claims_table(image_level_only)
                if line and not line.startswith('|')]


def test_verdicts_follow_the_targets():
    table = rows(SEG)
    assert set(table) == {'Li et al. 2021, fine-grained',
                          'Li et al. 2021, image-level'}
    assert table['Li et al. 2021, fine-grained'].endswith('| met |')
    assert '**missed**: ASR >= 98' in table['Li et al. 2021, image-level']
    worse = dict(SEG, **{'seg_fine_grained.CBA': 77.5,
                         'seg_fine_grained.ASR_no_trigger': 6.0})
    line = rows(worse)['Li et al. 2021, fine-grained']
    assert '**missed**: no-trigger ASR <= 5; CBA within 1 mIoU' in line
    assert 'UNet control ASR 2.30' in line


def test_video_claim_checks_each_control():
    video = {
        'video_clean.top1': 95.0, 'video_clean.trigger_ASR': 60.0,
        'video_clean_label.top1': 94.0, 'video_clean_label.ASR': 95.0,
        'video_no_enhance.ASR': 30.0, 'video_random_patch.ASR': 0.0,
        'video_trigger.steps': 1500, 'video_trigger.batch_size': 16,
    }
    line = rows(video)['Zhao et al. 2020']
    assert line.endswith('| **missed**: >= 40 above the trigger on the '
                         'clean model |')
    assert 'trigger 1500 steps of batch 16' in line
    video['video_clean.trigger_ASR'] = 10.0
    assert rows(video)['Zhao et al. 2020'].endswith('| met |')
    # the note below the table quotes this run's trigger on the clean model
    notes = [line for line in demo_report.claims_table(video)
             if line and not line.startswith('|')]
    assert len(notes) == 1 and notes[0].startswith('Clean-label video:')
    assert '(in this run: 10.00 % of the non-target clips)' in notes[0]


def test_robustness_verdicts_quote_the_paired_interval():
    passes = ('clean', 'PGD', 'SegPGD', 'CosPGD', 'EroSeg', 'worst')
    robust = {f'robust.{model}.{name}.mIoU': 20.0
              for model in ('clean', 'pgd_at', 'eroseg_at') for name in passes}
    robust.update({
        'robust.clean.EroSeg.mIoU': 17.61, 'robust.clean.SegPGD.mIoU': 17.34,
        'robust.clean.EroSeg_minus_SegPGD.mIoU': 0.27,
        'robust.clean.EroSeg_minus_SegPGD.low': -0.55,
        'robust.clean.EroSeg_minus_SegPGD.high': 1.02,
        'robust.eroseg_at.PGD.mIoU': 28.18, 'robust.pgd_at.PGD.mIoU': 26.70,
        'robust.eroseg_at_minus_pgd_at.PGD.mIoU': 1.48,
        'robust.eroseg_at_minus_pgd_at.PGD.low': 0.61,
        'robust.eroseg_at_minus_pgd_at.PGD.high': 2.40,
    })
    table = rows(robust)
    assert table['Song et al. 2026, EroSeg'].endswith(
        '| **missed**: EroSeg mIoU <= SegPGD mIoU (difference +0.27, paired '
        '95 % interval -0.55 to +1.02: within noise) |')
    assert table['Song et al. 2026, EroSeg-AT'].endswith(
        '| met (difference +1.48, paired 95 % interval +0.61 to +2.40) |')
    # the interval is one of the row's metrics
    assert 'Song et al. 2026, EroSeg' not in rows({
        k: v for k, v in robust.items()
        if not k.startswith('robust.clean.EroSeg_minus')})


def test_study_marks_follow_the_runs_person_scale(tmp_path, monkeypatch):
    """The run's points go on the victim-size figure at its person scale,
    and on the poison-rate figure (swept at scale 1) only at scale 1."""
    drawn = {}

    def capture(name):
        def draw(rows, out_file, marks=None):
            drawn[name] = marks
        return draw

    for name in ('poison_rate_figure', 'victim_size_figure',
                 'trigger_budget_figure'):
        monkeypatch.setattr(demo_report, name, capture(name))
    figure = str(tmp_path / '{}.png').format
    metrics = dict(SEG, **{'seg_control.fine_grained.CBA': 76.0})
    lines = demo_report.study_figures(
        dict(metrics, **{'seg_clean.person_scale': 2.0}), figure)
    assert drawn['poison_rate_figure'] == []
    assert [(m['arch'], m['person_scale'], m['ASR'])
            for m in drawn['victim_size_figure']] == [
                ('segformer', 2.0, 91.0), ('unet', 2.0, 2.3)]
    assert 'persons at scale 2;' in '\n'.join(lines)
    demo_report.study_figures(
        dict(metrics, **{'seg_clean.person_scale': 1.0}), figure)
    assert len(drawn['poison_rate_figure']) == 3
