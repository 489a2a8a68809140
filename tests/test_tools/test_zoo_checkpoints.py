"""tools/test.py and robustness_eval.py on checkpoints laid out as the
mmseg / mmaction model zoos publish them (0.x and 1.x,
:mod:`mmbackdoor.testing.zoo_checkpoints`), loaded with
``weights_only=True``."""
import importlib.util
import json
import os
import os.path as osp
import pickle
import subprocess
import sys
import uuid

import numpy as np
import pytest
import torch

from mmbackdoor.testing.zoo_checkpoints import (NotAllowListed, describe,
                                                seg_dataset_meta,
                                                zoo_checkpoint)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
SEG_CONFIG = osp.join(
    REPO, 'configs', 'backdoor_seg',
    'fine-grained_unet-s4-d8_fcn_1xb8-1k_embedded-seg-64x64.py')
ROBUST_CONFIG = osp.join(
    REPO, 'configs', 'eroseg',
    'robust-eval_unet-s4-d8_fcn_embedded-seg-64x64.py')
VIDEO_CONFIG = osp.join(
    REPO, 'configs', 'backdoor_video',
    'cleanlabel_i3d_r18-w8_source-pretrained_1xb16-8x2x1-8e_'
    'embedded-video-rgb.py')
SEG_FORMATS = ('mmseg-0.x', 'mmseg-1.x')
VIDEO_FORMATS = ('mmaction-0.x', 'mmaction-1.x')
MISMATCH = 'do not match exactly'


def load_tool(path):
    spec = importlib.util.spec_from_file_location(
        f'tool_{uuid.uuid4().hex[:8]}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(cmd):
    proc = subprocess.run(
        cmd, cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def seg_options(root):
    return [
        '--cfg-options', f'test_dataloader.dataset.data_root={root}',
        'test_dataloader.dataset.generate=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'test_dataloader.batch_size=2', 'model.data_preprocessor.size=(32,32)',
        f'experiment_name=zoo_{uuid.uuid4().hex[:8]}'
    ]


def video_options(root, trigger_file):
    return [
        '--cfg-options', 'model.backbone.pretrained=None',
        f'test_dataloader.dataset.data_root={root}',
        'test_dataloader.dataset.num_train_per_class=1',
        'test_dataloader.dataset.num_val_per_class=1',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'test_dataloader.batch_size=4',
        f'test_cfg.trigger.trigger_file={trigger_file}',
        f'experiment_name=zoo_{uuid.uuid4().hex[:8]}'
    ]


def seg_checkpoint(fmt, path, **kwargs):
    """A zoo-format checkpoint of the embedded UNet-FCN of the configs."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    from mmbackdoor.datasets.embedded_seg import EmbeddedSegDataset
    cfg = Config.fromfile(SEG_CONFIG)
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
    meta = EmbeddedSegDataset.METAINFO
    return zoo_checkpoint(
        fmt, model, str(path), config_text=cfg.pretty_text,
        dataset_meta=seg_dataset_meta(meta['classes'], meta['palette']),
        name=osp.splitext(osp.basename(SEG_CONFIG))[0], **kwargs)


def video_checkpoint(fmt, path, **kwargs):
    """A zoo-format checkpoint of the embedded I3D of the video configs."""
    from mmengine.config import Config

    from mmbackdoor.testing.video import build_model
    cfg = Config.fromfile(VIDEO_CONFIG)
    return zoo_checkpoint(
        fmt, build_model(cfg), str(path), config_text=cfg.pretty_text,
        name=osp.splitext(osp.basename(VIDEO_CONFIG))[0], **kwargs)


def video_trigger(tmp_path):
    from mmbackdoor.testing.video import save_trigger_file
    patches = np.random.default_rng(0).integers(
        0, 256, (8, 6, 6, 3), dtype=np.uint8)
    return save_trigger_file(str(tmp_path / 'trigger.npy'), patches)


@pytest.mark.parametrize('fmt', SEG_FORMATS + VIDEO_FORMATS)
def test_layout_of_the_published_files(fmt, tmp_path):
    make = seg_checkpoint if fmt.startswith('mmseg') else video_checkpoint
    info = describe(make(fmt, tmp_path / 'zoo.pth'))
    mmengine_meta = {
        'epoch': 'int', 'iter': 'int', 'cfg': 'str', 'seed': 'int',
        'experiment_name': 'str', 'time': 'str', 'mmengine_version': 'str',
        'dataset_meta': 'dict'
    }
    if fmt == 'mmseg-0.x':
        assert info['keys'] == ['meta', 'state_dict']
        assert info['meta']['CLASSES'] == 'tuple'
        assert info['meta']['PALETTE'] == 'list'
        assert info['meta']['config'] == 'str'
        assert info['meta']['mmseg_version'] == 'str'
        assert {'env_info', 'mmcv_version', 'hook_msgs'} <= set(info['meta'])
    elif fmt == 'mmaction-0.x':
        assert info['keys'] == ['meta', 'state_dict']
        assert info['meta']['mmaction_version'] == 'str'
        assert info['meta']['hook_msgs'] == 'dict'
    elif fmt == 'mmseg-1.x':
        assert info['keys'] == [
            'message_hub', 'meta', 'param_schedulers', 'state_dict'
        ]
        assert info['meta'] == mmengine_meta
    else:
        assert info['keys'] == ['meta', 'state_dict']
        assert info['meta'] == mmengine_meta
    # files of the 0.x era: torch < 1.6 (legacy serialization), numpy 1.x
    assert info['legacy_format'] == fmt.endswith('0.x')


def test_numpy1_names_need_the_allow_list(tmp_path):
    """A 0.x mmaction file holds a numpy 1.x ``numpy.float64``
    (``hook_msgs['best_score']``): without mmbackdoor's allow-list
    (compat, open-mmlab/mmengine#1655) safe loading rejects it; with it the
    value comes back."""
    path = video_checkpoint('mmaction-0.x', tmp_path / 'zoo.pth')
    with open(path, 'rb') as f:
        assert b'numpy.core.multiarray\nscalar' in f.read()
    proc = subprocess.run(
        [sys.executable, '-c', f'import torch; torch.load({path!r})'],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert 'numpy.core.multiarray.scalar' in proc.stderr
    ckpt = torch.load(path, weights_only=True)
    best = ckpt['meta']['hook_msgs']['best_score']
    assert isinstance(best, np.float64) and best == pytest.approx(0.7268)


@pytest.mark.parametrize('fmt', SEG_FORMATS)
def test_tools_test_reports_backdoor_metrics(fmt, embedded_seg_root,
                                             tmp_path):
    checkpoint = seg_checkpoint(fmt, tmp_path / 'zoo.pth')
    out = str(tmp_path / 'metrics.json')
    log = run([
        sys.executable, 'tools/test.py', SEG_CONFIG, checkpoint, '--out',
        out, '--work-dir',
        str(tmp_path / 'work')
    ] + seg_options(embedded_seg_root))
    assert MISMATCH not in log  # every weight of the file was loaded
    metrics = json.load(open(out))
    for key in ('CBA', 'PBA', 'ASR'):
        assert 0 <= metrics[key] <= 100, metrics
        assert f'{key}: ' in log


@pytest.mark.parametrize('fmt', SEG_FORMATS)
def test_robustness_eval(fmt, embedded_seg_root, tmp_path, capsys):
    robustness_eval = load_tool(
        osp.join(TOOLS, 'analysis_tools', 'robustness_eval.py'))
    checkpoint = seg_checkpoint(fmt, tmp_path / 'zoo.pth')
    metrics = robustness_eval.main([
        ROBUST_CONFIG, checkpoint, '--attacks', 'PGD', '--eps', '4',
        '--alpha', '2', '--steps', '1', '--max-images', '2', '--out',
        str(tmp_path / 'r.json'), '--work-dir',
        str(tmp_path / 'work')
    ] + seg_options(embedded_seg_root))
    for key in ('clean/mIoU', 'PGD/mIoU', 'worst/mIoU'):
        assert 0 <= metrics[key] <= 100
    assert f'Robustness of {checkpoint}' in capsys.readouterr().out


@pytest.mark.parametrize('fmt', VIDEO_FORMATS)
def test_tools_test_video_backdoor_metrics(fmt, tmp_path):
    checkpoint = video_checkpoint(fmt, tmp_path / 'zoo.pth')
    out = str(tmp_path / 'metrics.json')
    log = run([
        sys.executable, 'tools/test.py', VIDEO_CONFIG, checkpoint, '--out',
        out, '--work-dir',
        str(tmp_path / 'work')
    ] + video_options(str(tmp_path / 'data'), video_trigger(tmp_path)))
    assert MISMATCH not in log
    metrics = json.load(open(out))
    assert 0 <= metrics['top1'] <= 100 and 0 <= metrics['ASR'] <= 100


@pytest.mark.parametrize('fmt', SEG_FORMATS + VIDEO_FORMATS)
def test_tools_load_with_weights_only(fmt, embedded_seg_root, tmp_path,
                                      monkeypatch):
    """The tools' load is safe: the same file with one object of a global
    that no allow-list names fails clearly, before any evaluation."""
    seg = fmt.startswith('mmseg')
    make = seg_checkpoint if seg else video_checkpoint
    checkpoint = make(fmt, tmp_path / 'zoo.pth',
                      extra_meta=dict(extra=NotAllowListed()))
    if seg:
        args = [SEG_CONFIG, checkpoint] + seg_options(embedded_seg_root)
    else:
        args = [VIDEO_CONFIG, checkpoint] + video_options(
            str(tmp_path / 'data'), video_trigger(tmp_path))
    monkeypatch.setattr(sys, 'argv', ['test.py', *args, '--work-dir',
                                      str(tmp_path / 'work')])
    tool = load_tool(osp.join(TOOLS, 'test.py'))
    with pytest.raises(pickle.UnpicklingError) as err:
        tool.main()
    message = str(err.value)
    assert 'Weights only load failed' in message
    assert 'mmbackdoor.testing.zoo_checkpoints.not_allow_listed' in message
