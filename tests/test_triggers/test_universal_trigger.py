"""UniversalTrigger: per-frame pasting, build-time checks, and the trigger
pixels as the recognizer finally sees them (packed 2D and 3D inputs)."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from mmbackdoor.attacks.video import (clip_view, paste_patches,
                                      patches_to_tensor)
from mmbackdoor.registry import TRIGGERS
from mmbackdoor.triggers import UniversalTrigger
from mmbackdoor.triggers.universal_trigger import corner_slices


def save(tmp_path, patches, name='trigger.npy', meta=None):
    path = str(tmp_path / name)
    np.save(path, patches)
    if meta is not None:
        with open(osp.splitext(path)[0] + '.json', 'w') as f:
            json.dump(meta, f)
    return path


def ramp(num_frames, size, channels=3):
    """Patches whose value encodes (frame, row, col, channel)."""
    values = np.arange(num_frames * size * size * channels) % 251
    return values.reshape(num_frames, size, size, channels).astype(np.uint8)


def test_patch_t_lands_on_frame_t(tmp_path):
    patches = ramp(3, 2)
    trigger = TRIGGERS.build(
        dict(type='UniversalTrigger', trigger_file=save(tmp_path, patches),
             clip_len=3))
    frames = np.full((3, 5, 6, 3), 7, np.uint8)
    out = trigger.apply_clip(frames)
    for t in range(3):
        np.testing.assert_array_equal(out[t, 3:, 4:], patches[t])
    untouched = np.ones((3, 5, 6), bool)
    untouched[:, 3:, 4:] = False
    assert (out[untouched] == 7).all()
    assert (frames == 7).all(), 'the input must not be modified'


@pytest.mark.parametrize('corner,rows,cols', [('tl', (0, 2), (0, 2)),
                                              ('tr', (0, 2), (4, 6)),
                                              ('bl', (3, 5), (0, 2)),
                                              ('br', (3, 5), (4, 6))])
def test_corners_and_mask(tmp_path, corner, rows, cols):
    trigger = UniversalTrigger(save(tmp_path, ramp(1, 2)), corner=corner)
    mask = trigger.mask((5, 6, 3))
    expected = np.zeros((5, 6), bool)
    expected[rows[0]:rows[1], cols[0]:cols[1]] = True
    np.testing.assert_array_equal(mask, expected)
    assert corner_slices(5, 6, 2, corner) == (slice(*rows), slice(*cols))


def test_static_trigger_fits_any_clip_and_single_images(tmp_path):
    patches = ramp(1, 3)
    trigger = UniversalTrigger(save(tmp_path, patches), clip_len=8)
    out = trigger.apply_clip(np.zeros((8, 4, 4, 3), np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 1:, 1:], np.broadcast_to(
        patches.astype(np.float32), (8, 3, 3, 3)))
    np.testing.assert_array_equal(
        trigger.apply(np.zeros((4, 4, 3), np.uint8))[1:, 1:], patches[0])


def test_bad_inputs_fail_at_build_time(tmp_path):
    per_frame = save(tmp_path, ramp(4, 2))
    with pytest.raises(ValueError, match='clip_len=8.*allowed clip_len: 4'):
        UniversalTrigger(per_frame, clip_len=8)
    with pytest.raises(ValueError, match='corner must be one of'):
        UniversalTrigger(per_frame, corner='center')
    with pytest.raises(FileNotFoundError, match='generate_trigger'):
        UniversalTrigger(str(tmp_path / 'missing.npy'))
    with pytest.raises(ValueError, match='uint8 array of shape'):
        UniversalTrigger(save(tmp_path, ramp(2, 2).astype(float), 'f.npy'))
    with pytest.raises(ValueError, match='uint8 array of shape'):
        UniversalTrigger(save(tmp_path, np.zeros((2, 2, 3, 3), np.uint8),
                              'rect.npy'))
    with pytest.raises(ValueError, match='not a readable'):
        bad = tmp_path / 'bad.npy'
        bad.write_bytes(b'not numpy')
        UniversalTrigger(str(bad))


def test_corner_comes_from_the_generator_json(tmp_path):
    path = save(tmp_path, ramp(1, 2), meta=dict(corner='tl'))
    assert UniversalTrigger(path).corner == 'tl'
    with pytest.raises(ValueError, match="optimised for corner 'tl'"):
        UniversalTrigger(path, corner='br')


def test_runtime_mismatch_is_explained(tmp_path):
    trigger = UniversalTrigger(save(tmp_path, ramp(4, 3)))
    with pytest.raises(ValueError, match='clip has 3 frames'):
        trigger.apply_clip(np.zeros((3, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='larger than the frame 2x8'):
        trigger.apply_clip(np.zeros((4, 2, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='apply_clip'):
        trigger.apply(np.zeros((8, 8, 3), np.uint8))


def test_repr(tmp_path):
    path = save(tmp_path, ramp(2, 2))
    assert repr(UniversalTrigger(path, 'tr', 2)) == (
        f"UniversalTrigger(trigger_file='{path}', corner='tr', clip_len=2)")


def test_tensor_paste_matches_apply_clip(tmp_path, fmt):
    """The differentiable paste used for optimisation equals the numpy one
    used in pipelines, in both packed layouts."""
    clip_len = 4 if fmt == 'NCTHW' else 1
    patches = ramp(clip_len, 3)
    trigger = UniversalTrigger(save(tmp_path, patches))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2 * clip_len, 9, 7, 3), dtype=np.uint8)
    expected = np.concatenate([
        trigger.apply_clip(frames[i:i + clip_len])
        for i in range(0, len(frames), clip_len)
    ])
    if fmt == 'NCTHW':  # 2 views x C x T x H x W
        packed = torch.from_numpy(frames).view(2, clip_len, 9, 7, 3).permute(
            0, 4, 1, 2, 3)
    else:  # M x C x H x W
        packed = torch.from_numpy(frames).permute(0, 3, 1, 2)
    pasted = paste_patches(packed[None].float(), patches_to_tensor(patches),
                           'br', fmt)[0]
    got = clip_view(pasted[None], fmt)[0].flatten(0, 1).permute(0, 2, 3, 1)
    np.testing.assert_array_equal(got.numpy().astype(np.uint8), expected)


@pytest.mark.parametrize('multi_view', [False, True])
def test_trigger_intact_in_packed_input(tmp_path, fmt, multi_view):
    """ApplyTrigger before FormatShape: every clip of every crop carries the
    exact patches in the packed model input (3D: N x C x T x H x W per view,
    2D: frames x C x H x W), also with multi-clip / three-crop testing."""
    from mmbackdoor.testing.video import CLIP_LEN, CROP, write_rawframes
    init_default_scope('mmaction')
    write_rawframes(str(tmp_path), 'val', 1)
    clip_len = CLIP_LEN if fmt == 'NCTHW' else 1
    num_clips = 2 if multi_view else 1
    if fmt == 'NCHW':
        num_clips *= 3
    patches = ramp(clip_len, 5)
    trigger_file = save(tmp_path, patches)
    crop = (dict(type='ThreeCrop', crop_size=CROP) if multi_view else dict(
        type='CenterCrop', crop_size=CROP))
    pipeline = Compose([
        dict(type='SampleFrames', clip_len=clip_len, num_clips=num_clips,
             test_mode=True),
        dict(type='RawFrameDecode'),
        dict(type='Resize', scale=(-1, CROP)), crop,
        dict(type='ApplyTrigger',
             trigger=dict(type='UniversalTrigger', trigger_file=trigger_file,
                          clip_len=clip_len)),
        dict(type='FormatShape', input_format=fmt),
        dict(type='PackActionInputs')
    ])
    packed = pipeline(
        dict(frame_dir=str(tmp_path / 'frames' / 'val_c1_0'),
             total_frames=10, label=1, start_index=1,
             filename_tmpl='img_{:05d}.png', modality='RGB'))['inputs']
    clips = clip_view(packed[None], fmt)[0]  # N x T x C x H x W
    num_crops = 3 if multi_view else 1
    assert clips.shape[:2] == (num_crops * num_clips, clip_len)
    h, w = clips.shape[-2:]
    expected = torch.from_numpy(patches).permute(0, 3, 1, 2)
    for clip in clips:
        assert torch.equal(clip[..., h - 5:, w - 5:], expected.expand(
            clip_len, -1, -1, -1).to(clip.dtype))
