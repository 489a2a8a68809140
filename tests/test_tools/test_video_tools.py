"""tools/video/generate_trigger.py and craft_poison.py, and the whole chain
(clean model -> trigger -> poison -> victim -> one backdoor test run)."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmbackdoor.engine.runner  # noqa: F401
from mmbackdoor.datasets.transforms import CleanLabelPoison
from mmbackdoor.poisoning import load_clip_manifest
from mmbackdoor.testing.crash import kill, start_hanging, wait_hanging
from mmbackdoor.testing.video import (NUM_CLASSES, build_model, make_cfg,
                                      save_checkpoint)
from mmbackdoor.testing.video_files import (use_attack_files,
                                            use_video_files, write_videos)
from mmbackdoor.triggers import UniversalTrigger

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools', 'video')
VIDEO_CONFIGS = osp.join(REPO, 'configs', 'backdoor_video')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def clean(tmp_path):
    """A dumped tiny I3D-style config and a checkpoint."""
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW')
    config = str(tmp_path / 'clean.py')
    cfg.dump(config)
    return config, save_checkpoint(build_model(cfg), str(tmp_path / 'c.pth'))


def test_generate_trigger_writes_npy_json_png(clean, tmp_path):
    config, checkpoint = clean
    out = str(tmp_path / 'trig' / 'trigger.npy')
    args = [config, checkpoint, '--target-class', '1', '--size', '5',
            '--corner', 'tl', '--steps', '3', '--batch-size', '2',
            '--loss', 'ce_minus_pred', '--log-interval', '2', '--out', out]
    tool = load_tool('generate_trigger')
    tool.main(args)
    trigger = np.load(out)
    assert trigger.shape == (4, 5, 5, 3) and trigger.dtype == np.uint8
    with open(out[:-4] + '.json') as f:
        meta = json.load(f)
    assert meta['corner'] == 'tl' and meta['target_class'] == 1
    assert meta['loss'] == 'ce_minus_pred' and meta['shape'] == [4, 5, 5, 3]
    assert meta['steps'] == 3 and meta['batch_size'] == 2
    # progress every 2 steps: windows [1, 2] and [3]
    progress = meta['progress']
    assert progress['interval'] == 2 and progress['step'] == [2, 3]
    assert all(0 <= v <= 100 for v in progress['success'])
    assert len(progress['loss']) == 2
    assert osp.getsize(out[:-4] + '.png') > 0
    with pytest.raises(FileExistsError, match='never overwritten'):
        tool.main(args)
    np.testing.assert_array_equal(np.load(out), trigger)


def test_generate_trigger_killed_mid_write_leaves_nothing_and_reruns(
        clean, tmp_path):
    """The tool, a real process, is killed (SIGKILL) while it writes the
    trigger: too fast to catch by polling, it runs with ``cv2.imencode``
    (the preview, encoded after the ``.npy`` and ``.json`` were written to
    temporary names) hanging (:mod:`mmbackdoor.testing.crash`). Only hidden
    temporary files exist then, which ``UniversalTrigger`` never reads; a
    rerun with the same arguments removes them and writes the trigger."""
    config, checkpoint = clean
    folder = tmp_path / 'trig'
    out = str(folder / 'trigger.npy')
    args = [config, checkpoint, '--target-class', '1', '--size', '5',
            '--corner', 'tl', '--steps', '2', '--batch-size', '2', '--out',
            out]
    marker = str(tmp_path / 'hanging')
    proc = start_hanging(osp.join(TOOLS, 'generate_trigger.py'), args,
                         'cv2.imencode', marker)
    try:
        wait_hanging(proc, marker)
        names = sorted(os.listdir(folder))
        assert [n.split('.tmp-')[0] for n in names] == [
            '.trigger.json', '.trigger.npy'
        ]
    finally:
        kill(proc)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        UniversalTrigger(out)
    load_tool('generate_trigger').main(args)
    assert sorted(os.listdir(folder)) == [
        'trigger.json', 'trigger.npy', 'trigger.png'
    ]
    trigger = UniversalTrigger(out)
    assert trigger.corner == 'tl' and trigger.patches.shape == (4, 5, 5, 3)


def test_generate_trigger_controls_and_errors(clean, tmp_path):
    config, checkpoint = clean
    tool = load_tool('generate_trigger')
    out = str(tmp_path / 'random.npy')
    tool.main([config, checkpoint, '--target-class', '0', '--size', '3',
               '--random', '--static', '--out', out])
    assert np.load(out).shape == (1, 3, 3, 3)
    with pytest.raises(ValueError, match='target_class must be an int'):
        tool.main([config, checkpoint, '--target-class', str(NUM_CLASSES),
                   '--size', '3', '--out', str(tmp_path / 'x.npy')])
    assert not osp.exists(tmp_path / 'x.npy')
    with pytest.raises(SystemExit):
        tool.parse_args([config, checkpoint, '--target-class', '0', '--size',
                         '3', '--log-interval', '0', '--out', out])


def test_generate_trigger_defaults_are_the_studied_budget():
    args = load_tool('generate_trigger').parse_args(
        ['c.py', 'c.pth', '--target-class', '0', '--size', '3', '--out',
         'x.npy'])
    assert (args.steps, args.batch_size) == (1500, 16)


def craft_args(config, checkpoint, trigger, out, rate='0.67'):
    return [config, checkpoint, '--trigger', trigger, '--target-class', '0',
            '--rate', rate, '--steps', '2', '--out', out]


def test_craft_poison_is_identical_across_processes(clean, tmp_path):
    config, checkpoint = clean
    trigger = str(tmp_path / 'trigger.npy')
    load_tool('generate_trigger').main([
        config, checkpoint, '--target-class', '0', '--size', '4', '--steps',
        '2', '--out', trigger
    ])
    here, there = str(tmp_path / 'p1'), str(tmp_path / 'p2')
    load_tool('craft_poison').main(craft_args(config, checkpoint, trigger,
                                              here))
    env = dict(os.environ, PYTHONHASHSEED='123', OMP_NUM_THREADS='1')
    subprocess.run(
        [sys.executable, osp.join(TOOLS, 'craft_poison.py')] +
        craft_args(config, checkpoint, trigger, there),
        check=True, env=env, capture_output=True)
    manifests = []
    for folder in (here, there):
        with open(osp.join(folder, 'manifest.json')) as f:
            manifests.append(json.load(f))
    assert len(manifests[0]['videos']) == 2
    assert manifests[0]['videos'] == manifests[1]['videos']  # incl. SHA-256
    with pytest.raises(FileExistsError, match='--overwrite'):
        load_tool('craft_poison').main(
            craft_args(config, checkpoint, trigger, here))
    with pytest.raises(ValueError, match=r'rate must be in \[0, 1\]'):
        load_tool('craft_poison').main(
            craft_args(config, checkpoint, trigger, str(tmp_path / 'p3'),
                       rate='1.5'))
    assert not osp.exists(tmp_path / 'p3')


def test_craft_poison_overwrite_flag(clean, tmp_path):
    """``--overwrite`` replaces a non-empty poison folder; without it the
    folder is refused and left as it was."""
    config, checkpoint = clean
    trigger = str(tmp_path / 'trigger.npy')
    load_tool('generate_trigger').main([
        config, checkpoint, '--target-class', '0', '--size', '4', '--steps',
        '1', '--batch-size', '2', '--out', trigger
    ])
    tool = load_tool('craft_poison')
    out = str(tmp_path / 'poison')
    tool.main(craft_args(config, checkpoint, trigger, out, rate='1.0'))
    manifest_file = osp.join(out, 'manifest.json')
    with open(manifest_file) as f:
        first = json.load(f)
    open(osp.join(out, 'stale.txt'), 'w').close()
    args = craft_args(config, checkpoint, trigger, out, rate='0.34')
    assert tool.parse_args(args).overwrite is False
    with pytest.raises(FileExistsError, match='--overwrite'):
        tool.main(args)
    with open(manifest_file) as f:
        assert json.load(f) == first
    tool.main(args + ['--overwrite'])
    with open(manifest_file) as f:
        second = json.load(f)
    assert len(first['videos']) == 3 and len(second['videos']) == 1
    assert second['rate'] == 0.34 and second['kind'] == 'clips'
    assert sorted(os.listdir(out)) == ['clips', 'manifest.json']


def test_craft_poison_killed_mid_write_leaves_nothing_and_reruns(
        clean, tmp_path):
    """The tool, a real process, is killed (SIGKILL) after it stored the
    first of three clips: too fast to catch by polling, it runs with
    ``numpy.save`` hanging after its first call
    (:mod:`mmbackdoor.testing.crash`). The clips go to a hidden temporary
    folder; ``OUT`` (an existing empty folder, which the policy accepts)
    stays empty, so ``load_clip_manifest`` and ``CleanLabelPoison`` refuse
    it. A rerun with the same arguments removes the leftover and writes the
    complete folder."""
    config, checkpoint = clean
    trigger = str(tmp_path / 'trigger.npy')
    load_tool('generate_trigger').main([
        config, checkpoint, '--target-class', '0', '--size', '4', '--random',
        '--out', trigger
    ])
    out = tmp_path / 'poison'
    out.mkdir()
    args = craft_args(config, checkpoint, trigger, str(out), rate='1.0')
    marker = str(tmp_path / 'hanging')
    proc = start_hanging(osp.join(TOOLS, 'craft_poison.py'), args,
                         'numpy.save', marker)
    try:
        wait_hanging(proc, marker)
        temps = [n for n in os.listdir(tmp_path) if '.tmp-' in n]
        assert len(temps) == 1 and temps[0].startswith('.poison.tmp-')
        assert sorted(os.listdir(tmp_path / temps[0])) == ['clips']
        assert os.listdir(tmp_path / temps[0] / 'clips') == ['00000.npy']
    finally:
        kill(proc)
    assert os.listdir(out) == []
    with pytest.raises(FileNotFoundError, match='has no manifest.json'):
        load_clip_manifest(str(out))
    with pytest.raises(FileNotFoundError, match='has no manifest.json'):
        CleanLabelPoison(poison_dir=str(out))
    load_tool('craft_poison').main(args)
    assert not [n for n in os.listdir(tmp_path) if '.tmp-' in n]
    assert sorted(os.listdir(out)) == ['clips', 'manifest.json']
    assert len(load_clip_manifest(str(out))['videos']) == 3
    assert len(CleanLabelPoison(poison_dir=str(out)).entries) == 3


@pytest.mark.slow
def test_whole_chain_in_real_runners(tmp_path):
    """Clean training, trigger, crafting, poisoned training through a config
    (PoisonedDataset + CleanLabelPoison), and one BackdoorTestLoop run."""
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW', per_class=4)
    cfg.train_cfg.max_epochs = 2
    cfg.work_dir = str(tmp_path / 'clean')
    runner = Runner.from_cfg(cfg)
    runner.train()
    clean_ckpt = osp.join(cfg.work_dir, 'epoch_2.pth')
    config = str(tmp_path / 'clean.py')
    cfg.dump(config)
    trigger = str(tmp_path / 'trigger.npy')
    load_tool('generate_trigger').main([
        config, clean_ckpt, '--target-class', '0', '--size', '6', '--steps',
        '5', '--batch-size', '4', '--out', trigger
    ])
    poison = str(tmp_path / 'poison')
    load_tool('craft_poison').main(
        craft_args(config, clean_ckpt, trigger, poison, rate='0.5'))
    victim = cfg.copy()
    dataset = victim.train_dataloader.dataset
    dataset.pipeline.insert(-2, dict(type='CleanLabelPoison',
                                     poison_dir=poison))
    victim.train_dataloader.dataset = dict(type='PoisonedDataset',
                                           dataset=dataset)
    victim.test_cfg = dict(
        type='BackdoorTestLoop',
        trigger=dict(type='UniversalTrigger', trigger_file=trigger,
                     clip_len=4),
        summary=[('top1', 'clean/top1'), ('ASR', 'triggered/ASR')])
    victim.work_dir = str(tmp_path / 'victim')
    runner = Runner.from_cfg(victim)
    runner.train()
    metrics = runner.test()
    assert 0 <= metrics['ASR'] <= 100 and 0 <= metrics['top1'] <= 100
    assert metrics['clean/num_nontarget'] == 2 * (NUM_CLASSES - 1)


def run_tool(script, *args):
    """Run ``tools/<script>`` as a user does (a new process, the repository
    on the path); returns its output."""
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   [REPO, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', script),
                           *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def video_file_config(name, files, out, poison_dir=None, trigger_file=None):
    """The shipped config ``name`` (``Config.fromfile``) on the files of
    :func:`write_videos`, dumped to ``out``. Overridden, and nothing else:
    the data paths (and a victim's ``poison_dir`` / ``trigger_file``),
    batch size 2 with no workers, one epoch, and no pretrained weights
    (``load_from``: a download)."""
    cfg = use_video_files(Config.fromfile(osp.join(VIDEO_CONFIGS, name)),
                          files, batch_size=2)
    cfg.load_from = None
    cfg.train_cfg.max_epochs = 1
    if poison_dir is not None:
        use_attack_files(cfg, poison_dir, trigger_file)
    cfg.dump(out)
    return out


@pytest.mark.slow
def test_chain_on_video_files_with_the_real_i3d_configs(tmp_path):
    """The clean-label chain on real ``.avi`` files (MJPG, 2 classes, 2
    training + 1 validation videos each, :func:`write_videos`) with the
    real I3D-R50 UCF101 video configs -- 64-frame clips at 224 x 224,
    ``VideoDataset`` + decord -- and the real tools, each a new process
    except the two video tools (their ``main``): ``tools/train.py`` (clean,
    one epoch = 2 iterations) -> ``generate_trigger.py`` (2 steps of batch
    1, 20 px) -> ``craft_poison.py`` (1 of the 2 target videos, 1 PGD step)
    -> ``tools/train.py`` (victim, 2 iterations, the poisoned video's clip
    swapped in) -> ``tools/test.py`` (clean + triggered pass: top1, ASR).

    Overridden in both configs (:func:`video_file_config`): data paths, the
    trigger / poison paths, batch size 2 without dataloader workers,
    ``max_epochs=1``, ``load_from=None`` (the Kinetics-400 weights are a
    download); clip length, resolution and model are the configs'. One
    training iteration (2 clips of 64 x 224 x 224) takes ~18 s with one
    thread (3.7 GB peak), the whole test ~145 s, so the real model fits."""
    files = write_videos(str(tmp_path / 'ucf101'), per_class=(2, 1),
                         num_classes=2)
    clean = video_file_config(
        'i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-rgb.py', files,
        str(tmp_path / 'clean.py'))
    work = tmp_path / 'work'
    run_tool('train.py', clean, '--work-dir', str(work / 'clean'))
    checkpoint = str(work / 'clean' / 'epoch_1.pth')
    trigger = str(tmp_path / 'trigger' / 'trigger.npy')
    load_tool('generate_trigger').main([
        clean, checkpoint, '--target-class', '0', '--size', '20', '--steps',
        '2', '--batch-size', '1', '--out', trigger
    ])
    assert np.load(trigger).shape == (64, 20, 20, 3)
    poison = str(tmp_path / 'poison')
    load_tool('craft_poison').main([
        clean, checkpoint, '--trigger', trigger, '--target-class', '0',
        '--rate', '0.5', '--steps', '1', '--out', poison
    ])
    manifest = load_clip_manifest(poison)
    keys = [v['video'] for v in manifest['videos']]  # the file's key
    assert len(keys) == 1 and keys[0] in {
        f'ApplyEyeMakeup/v_ApplyEyeMakeup_g0{g}_c01.avi' for g in (1, 2)
    }
    assert manifest['clip_shape'] == [64, 224, 224, 3]
    victim = video_file_config(
        'cleanlabel_i3d_k400-pretrained-r50_8xb8-64x1x1-40e_ucf101-video-'
        'rgb.py', files, str(tmp_path / 'victim.py'), poison_dir=poison,
        trigger_file=trigger)
    log = run_tool('train.py', victim, '--work-dir', str(work / 'victim'))
    assert 'CleanLabelPoison: 1 of 4 training videos replaced' in log
    metrics_file = str(tmp_path / 'metrics.json')
    run_tool('test.py', victim, str(work / 'victim' / 'epoch_1.pth'),
             '--work-dir', str(work / 'victim_test'), '--out', metrics_file)
    with open(metrics_file) as f:
        metrics = json.load(f)
    assert 0 <= metrics['top1'] <= 100 and 0 <= metrics['ASR'] <= 100
    assert metrics['triggered/num_nontarget'] == 1  # the class-1 video
