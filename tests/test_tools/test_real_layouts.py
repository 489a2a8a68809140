"""The model-zoo configs end to end on data in the real layouts (slow).

One config of each family trains through ``tools/train.py`` on a minimal
copy of its dataset (:mod:`mmbackdoor.testing.real_layouts`), its backdoor
or robustness validation runs and reports its keys, and the user tools run
on the result: ``tools/test.py``, ``robustness_eval.py``,
``export_poisoned_dataset.py``, ``browse_poisoned.py`` and the video chain
(``generate_trigger.py``, ``craft_poison.py``).

Every tool runs as a user runs it: a subprocess whose working directory
holds ``data/`` with the datasets at the paths the configs name
(``data/cityscapes``, ``data/VOCdevkit/VOC2012``,
``data/ade/ADEChallengeData2016``, ``data/ucf101``, ``data/hmdb51``), so no
data path is overridden; the clean-label configs' ``work_dirs/...``
trigger and poison paths are relative to it too. Models, crop sizes,
pipelines, samplers and workers stay as configured. What is overridden,
with ``--cfg-options`` or the tools' own options (each test's docstring
says which):

- pretrained weights, which cannot be downloaded offline:
  ``model.pretrained=None`` (mmseg's ImageNet ResNet-50-V1c) and
  ``load_from=None`` (mmaction's Kinetics-400 I3D); the models start from
  random weights;
- the schedule: 1 iteration (segmentation) or 1 epoch of 2 iterations
  (video), validation after it, ``default_hooks.logger.interval=1`` so the
  training losses are logged;
- the training batch size of the ``4xb4`` / ``8xb8`` configs, 2 (the
  ``4xb2`` Cityscapes config keeps its own 2; PSPNet's pooling branch needs
  at least 2);
- attack and trigger budgets (steps) of ``tools/test.py``'s robustness loop
  and of the tools that take them as options.

The datasets are 10 training images (1 poisoned at the configs' 10 %) and
1 validation image per segmentation dataset, 4 training videos (3 of the
target class 0) and 2 validation videos per video dataset. Checkpoints are
shared between the tests of a family (module-scoped fixtures).
"""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmbackdoor.utils import is_installed

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')
CITYSCAPES = osp.join(
    CONFIGS, 'backdoor_seg', 'pspnet',
    'fine-grained_pspnet_r50-d8_4xb2-80k_cityscapes-512x1024.py')
VOC = osp.join(CONFIGS, 'backdoor_seg', 'deeplabv3',
               'fine-grained_deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py')
ADE20K = osp.join(CONFIGS, 'backdoor_seg', 'fcn',
                  'image-level_fcn_r50-d8_4xb4-80k_ade20k-512x512.py')
EROSEG_AT = osp.join(
    CONFIGS, 'eroseg', 'eroseg-at-3step_pspnet_r50-d8_4xb4-40k_voc12aug-'
    '512x512.py')
VIDEO_CONFIGS = {
    name: (osp.join(CONFIGS, 'backdoor_video',
                    f'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_{name}-rgb.py'),
           osp.join(
               CONFIGS, 'backdoor_video',
               f'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_{name}-'
               'rgb.py'))
    for name in ('ucf101', 'hmdb51')
}

#: Overrides of the segmentation configs (module docstring).
SEG_OPTIONS = [
    'model.pretrained=None', 'train_cfg.max_iters=1',
    'train_cfg.val_interval=1', 'default_hooks.logger.interval=1'
]
BATCH_2 = ['train_dataloader.batch_size=2']
#: Overrides of the video configs (module docstring).
VIDEO_OPTIONS = [
    'load_from=None', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
    'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1'
]
SEG_BACKDOOR_KEYS = {
    'fine_grained': {
        'CBA', 'PBA', 'ASR', 'ASR_recognised', 'clean/mIoU', 'clean/ASR',
        'clean/victim_recall', 'triggered/mIoU', 'triggered/PBA',
        'triggered/num_asr_pixels'
    },
    'image_level': {
        'CBA', 'ASR', 'clean/mIoU', 'clean/ASR', 'triggered/mIoU',
        'triggered/num_asr_pixels'
    },
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (is_installed('mmseg') and is_installed('mmaction')),
        reason='needs mmseg and mmaction'),
]


@pytest.fixture(scope='module')
def cwd(tmp_path_factory):
    """The working directory of every tool: ``data/`` holds the five
    datasets where the configs look."""
    from mmbackdoor.testing.real_layouts import (write_ade20k,
                                                 write_cityscapes,
                                                 write_rawframes,
                                                 write_voc12aug)
    root = tmp_path_factory.mktemp('real_layouts')
    data = root / 'data'
    write_cityscapes(str(data / 'cityscapes'), num_train=10, shape=(32, 64))
    write_voc12aug(str(data / 'VOCdevkit' / 'VOC2012'), num_train=10,
                   num_aug=10)
    write_ade20k(str(data / 'ade' / 'ADEChallengeData2016'), num_train=10)
    for name in VIDEO_CONFIGS:
        write_rawframes(str(data / name), name,
                        dict(train=[0, 0, 0, 1], val=[0, 1]), num_frames=8,
                        shape=(24, 32))
    return root


def tool(cwd, script, *args, check=True):
    """Run ``tools/<script>`` in ``cwd`` with this checkout's package;
    returns the process (stdout + stderr in ``.output``)."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore',
               MPLBACKEND='Agg',
               PYTHONPATH=os.pathsep.join(
                   [REPO, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', script),
                           *map(str, args)],
                          cwd=str(cwd), env=env, capture_output=True,
                          text=True, timeout=900)
    proc.output = proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, proc.output[-6000:]
    return proc


def scalars(work_dir):
    """The records of the run's ``vis_data/scalars.json`` (one JSON object a
    line: training iterations, then validation)."""
    [stamp] = [d for d in os.listdir(work_dir)
               if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                      'scalars.json'))]
    with open(osp.join(work_dir, stamp, 'vis_data', 'scalars.json')) as f:
        return [json.loads(line) for line in f]


def train(cwd, config, name, *options):
    """``tools/train.py config`` into ``cwd/work/name``; returns the work
    dir, the training records, the validation record and the log."""
    work = str(cwd / 'work' / name)
    proc = tool(cwd, 'train.py', config, '--work-dir', work, '--cfg-options',
                *options)
    records = scalars(work)
    train_records = [r for r in records if 'loss' in r]
    val_records = [r for r in records if 'loss' not in r]
    assert train_records and len(val_records) == 1
    for record in train_records:
        assert np.isfinite(record['loss'])
    return work, train_records, val_records[0], proc.output


def run_test_tool(cwd, config, checkpoint, name, *options):
    """``tools/test.py`` with ``--out`` (and ``--cfg-options options``);
    returns the metrics. (It loads the checkpoint and initialises nothing,
    so the configs' pretrained weights need no override.)"""
    out = cwd / f'{name}_metrics.json'
    options = ['--cfg-options', *options] if options else []
    tool(cwd, 'test.py', config, checkpoint, '--work-dir',
         cwd / 'work' / f'{name}_test', '--out', out, *options)
    with open(out) as f:
        return json.load(f)


def assert_same_metrics(tested, validated, keys):
    for key in keys:
        assert tested[key] == pytest.approx(validated[key], abs=0.02,
                                            nan_ok=True), key


# ---- segmentation backdoors ------------------------------------------------


@pytest.fixture(scope='module')
def cityscapes_run(cwd):
    return train(cwd, CITYSCAPES, 'cityscapes', *SEG_OPTIONS)


@pytest.fixture(scope='module')
def voc_run(cwd):
    return train(cwd, VOC, 'voc', *SEG_OPTIONS, *BATCH_2)


@pytest.fixture(scope='module')
def ade20k_run(cwd):
    return train(cwd, ADE20K, 'ade20k', *SEG_OPTIONS, *BATCH_2)


def test_pspnet_fine_grained_cityscapes(cityscapes_run):
    """PSPNet-R50 fine-grained (car -> road) on Cityscapes at 512x1024,
    validated at 1024x2048 (mmseg's test resize of the 32x64 frame).
    Overrides: ``model.pretrained=None``, 1 iteration (batch 2 as
    configured), logger interval 1."""
    work, train_records, val, log = cityscapes_run
    assert 'FineGrainedPoison: poisoning 1 of 10 eligible images' in log
    assert osp.isfile(osp.join(work, 'iter_1.pth'))
    assert {'decode.loss_ce', 'aux.loss_ce'} <= set(train_records[0])
    assert SEG_BACKDOOR_KEYS['fine_grained'] <= set(val)
    assert val['CBA'] == val['clean/mIoU']
    assert val['triggered/num_asr_pixels'] > 0  # car pixels were found
    assert 0 <= val['ASR'] <= 100 and 0 <= val['PBA'] <= 100


def test_deeplabv3_fine_grained_voc12aug(cwd, voc_run):
    """DeepLabV3-R50 fine-grained (person -> background) on VOC 2012 + SBD
    aug: the training set is a ``ConcatDataset`` of two
    ``PoisonedDataset`` (``SegmentationClass`` palette PNGs with
    ``train.txt``, ``SegmentationClassAug`` with ``aug.txt``); then
    ``tools/test.py`` reports the same CBA / PBA / ASR as the validation.
    Overrides: ``model.pretrained=None``, 1 iteration, batch 2 (4
    configured), logger interval 1."""
    work, train_records, val, log = voc_run
    assert log.count(
        'FineGrainedPoison: poisoning 1 of 10 eligible images') == 2
    assert SEG_BACKDOOR_KEYS['fine_grained'] <= set(val)
    assert val['triggered/num_asr_pixels'] > 0
    tested = run_test_tool(cwd, VOC, osp.join(work, 'iter_1.pth'), 'voc')
    assert SEG_BACKDOOR_KEYS['fine_grained'] <= set(tested)
    assert_same_metrics(tested, val, ['CBA', 'PBA', 'ASR'])


def test_fcn_image_level_ade20k(cwd, ade20k_run):
    """FCN-R50 image-level (every pixel -> wall) on ADE20K
    (``reduce_zero_label``); then ``tools/test.py``. Overrides:
    ``model.pretrained=None``, 1 iteration, batch 2 (4 configured), logger
    interval 1."""
    work, train_records, val, log = ade20k_run
    assert 'ImageLevelPoison: poisoning 1 of 10 eligible images' in log
    assert SEG_BACKDOOR_KEYS['image_level'] <= set(val)
    assert 'PBA' not in val
    tested = run_test_tool(cwd, ADE20K, osp.join(work, 'iter_1.pth'),
                           'ade20k')
    assert SEG_BACKDOOR_KEYS['image_level'] <= set(tested)
    assert_same_metrics(tested, val, ['CBA', 'ASR'])


@pytest.mark.parametrize('config,part,label_dir', [
    (CITYSCAPES, None, 'gtFine/train/aachen'),
    (VOC, 0, 'SegmentationClass'),
    (VOC, 1, 'SegmentationClassAug'),
    (ADE20K, None, 'annotations/training'),
], ids=['cityscapes', 'voc-train', 'voc-aug', 'ade20k'])
def test_export_and_browse(cwd, config, part, label_dir):
    """``export_poisoned_dataset.py`` writes a copy in the same layout
    (label files in their own encoding), refuses to overwrite it, and
    ``browse_poisoned.py`` draws the poisoned sample. No override: these
    tools read the training set only."""
    name = f'{osp.basename(config)[:-3]}_{part}'
    out = cwd / 'export' / name
    part_args = [] if part is None else ['--part', part]
    proc = tool(cwd, 'misc/export_poisoned_dataset.py', config, out,
                *part_args)
    summary = json.loads(proc.stdout[proc.stdout.index('{'):])
    assert summary['num_poisoned'] == 1 and summary['num_samples'] == 10
    manifest = json.load(open(out / 'manifest.json'))
    [key] = manifest['poisoned']
    source_root = summary['source_data_root']
    stem = osp.splitext(osp.basename(key))[0]
    [label] = [n for n in os.listdir(out / label_dir)
               if n.startswith(stem.replace('_leftImg8bit', ''))]
    written = Image.open(out / label_dir / label)
    source = Image.open(osp.join(source_root, label_dir, label))
    assert written.mode == source.mode and written.size == source.size
    assert not np.array_equal(np.array(written), np.array(source))
    before = sorted(os.listdir(out))
    again = tool(cwd, 'misc/export_poisoned_dataset.py', config, out,
                 *part_args, check=False)
    assert again.returncode != 0
    assert 'FileExistsError' in again.output and 'already exists' in \
        again.output
    assert sorted(os.listdir(out)) == before
    grid = cwd / 'browse' / f'{name}.png'
    os.makedirs(grid.parent, exist_ok=True)
    proc = tool(cwd, 'analysis_tools/browse_poisoned.py', config, '--out',
                grid, '--num', '2', *part_args)
    assert '1 poisoned samples drawn' in proc.stdout
    assert osp.getsize(grid) > 0


# ---- adversarial training and robustness -----------------------------------


@pytest.fixture(scope='module')
def eroseg_at_run(cwd):
    return train(cwd, EROSEG_AT, 'eroseg_at', *SEG_OPTIONS, *BATCH_2)


def test_eroseg_at_voc12aug_trains_and_tests_robustness(cwd, eroseg_at_run):
    """EroSeg-AT (3 steps) of PSPNet-R50 on VOC 2012 + aug (mmseg's own
    dataset config): the hook adds the ``adv.*`` losses; validation reports
    mIoU; ``tools/test.py`` runs the config's ``RobustnessTestLoop``
    (PGD10, PGD20). Overrides: ``model.pretrained=None``, 1 iteration,
    batch 2 (4 configured), logger interval 1, and 1 step for each test
    attack (``test_cfg.attacks.PGD10.steps=1``, ``PGD20``: 30 PGD steps
    take ~4 minutes here)."""
    work, train_records, val, log = eroseg_at_run
    assert {'adv.decode.loss_ce', 'adv.aux.loss_ce'} <= set(train_records[0])
    assert {'mIoU', 'mAcc', 'aAcc'} <= set(val)
    tested = run_test_tool(cwd, EROSEG_AT, osp.join(work, 'iter_1.pth'),
                           'eroseg_at', 'test_cfg.attacks.PGD10.steps=1',
                           'test_cfg.attacks.PGD20.steps=1')
    for name in ('clean', 'PGD10', 'PGD20', 'worst'):
        assert 0 <= tested[f'{name}/mIoU'] <= 100
    assert tested['PGD10/steps'] == tested['PGD20/steps'] == 1
    assert tested['clean/mIoU'] == pytest.approx(val['mIoU'], abs=0.02)
    assert tested['worst/mIoU'] <= min(tested['PGD10/mIoU'],
                                       tested['PGD20/mIoU']) + 1e-6


def test_robustness_eval_on_the_trained_checkpoint(cwd, eroseg_at_run):
    """``robustness_eval.py`` with the AT config on its trained checkpoint,
    all four attacks. Overrides: the tool's own ``--steps 1 --max-images
    1``."""
    work = eroseg_at_run[0]
    out = cwd / 'robustness.json'
    proc = tool(cwd, 'analysis_tools/robustness_eval.py', EROSEG_AT,
                osp.join(work, 'iter_1.pth'), '--attacks', 'PGD', 'SegPGD',
                'CosPGD', 'EroSeg', '--steps', '1', '--max-images', '1',
                '--work-dir', cwd / 'work' / 'robustness', '--out', out)
    result = json.load(open(out))
    # VOC names its class 0 "background": EroSeg's default background
    assert result['attacks']['EroSeg']['background_classes'] == [0]
    metrics = result['metrics']
    for name in ('clean', 'PGD', 'SegPGD', 'CosPGD', 'EroSeg', 'worst'):
        assert 0 <= metrics[f'{name}/mIoU'] <= 100
        assert f'| {name} |' in proc.stdout
    assert metrics['EroSeg/steps'] == 1


# ---- clean-label video backdoor --------------------------------------------


@pytest.mark.parametrize('dataset', sorted(VIDEO_CONFIGS))
def test_i3d_clean_label_chain(cwd, dataset):
    """The whole I3D-R50 rawframe chain on UCF101 / HMDB51 at 64 x 224 x
    224: clean training, ``generate_trigger.py`` (20 px, the config's
    size), ``craft_poison.py`` (30 % of class 0), the clean-label victim
    (``PoisonedDataset`` + ``CleanLabelPoison`` reading the
    ``work_dirs/...`` paths the config names) with its backdoor
    validation, and ``tools/test.py`` reporting top1 / ASR. Overrides:
    ``load_from=None``, 1 epoch, batch 2 (8 configured), logger interval 1;
    the tools' ``--steps 2 --batch-size 1`` (trigger) and ``--steps 2``
    (enhancement)."""
    clean_config, victim_config = VIDEO_CONFIGS[dataset]
    work, train_records, val, _ = train(cwd, clean_config,
                                        f'{dataset}_clean', *VIDEO_OPTIONS)
    assert {'acc/top1', 'acc/top5'} <= set(val)
    clean_ckpt = osp.join(work, 'epoch_1.pth')
    attack_dir = f'work_dirs/cleanlabel_i3d_{dataset}'
    tool(cwd, 'video/generate_trigger.py', clean_config, clean_ckpt,
         '--target-class', 0, '--size', 20, '--steps', 2, '--batch-size', 1,
         '--out', f'{attack_dir}/trigger.npy')
    trigger = np.load(cwd / attack_dir / 'trigger.npy')
    assert trigger.shape == (64, 20, 20, 3) and trigger.dtype == np.uint8
    proc = tool(cwd, 'video/craft_poison.py', clean_config, clean_ckpt,
                '--trigger', f'{attack_dir}/trigger.npy', '--target-class',
                0, '--rate', 0.3, '--steps', 2, '--out',
                f'{attack_dir}/poison')
    assert '1 of 3 target-class videos poisoned' in proc.stdout
    work, train_records, val, log = train(cwd, victim_config,
                                          f'{dataset}_victim',
                                          *VIDEO_OPTIONS)
    assert 'CleanLabelPoison: 1 of 4 training videos replaced' in log
    assert {'top1', 'ASR', 'clean/top1', 'triggered/ASR'} <= set(val)
    assert val['clean/num_nontarget'] == 1
    tested = run_test_tool(cwd, victim_config,
                           osp.join(work, 'epoch_1.pth'), f'{dataset}_victim')
    assert_same_metrics(tested, val, ['top1', 'ASR'])
