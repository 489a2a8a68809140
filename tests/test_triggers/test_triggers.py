"""Tests of the segmentation triggers (hand-computed values, invariants)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mmbackdoor.triggers  # noqa: F401  (registers the triggers)
from mmbackdoor.datasets.transforms.apply_trigger import build_trigger
from mmbackdoor.triggers import (BaseTrigger, BlendTrigger, LineTrigger,
                                 PatchTrigger)


def test_line_trigger_hand_computed():
    img = np.full((6, 4, 3), 100, np.uint8)
    out = build_trigger(
        dict(type='LineTrigger', height=2, alpha=0.5, value=(0, 0, 255)))(
            img)
    # (1 - 0.5) * 100 + 0.5 * v, rounded: 50 for v = 0, 177.5 -> 178.
    assert out[:2].tolist() == [[[50, 50, 178]] * 4] * 2
    assert (out[2:] == 100).all()
    assert (img == 100).all(), 'apply must not modify its input'


def test_line_trigger_bottom_relative_height():
    trigger = LineTrigger(height=0.25, position='bottom')
    mask = trigger.mask((8, 5))
    assert mask[6:].all() and not mask[:6].any()  # round(0.25 * 8) = 2 rows
    out = trigger(np.full((8, 5), 200, np.uint8))  # grayscale works too
    assert (out[6:] == 0).all() and (out[:6] == 200).all()


def test_patch_trigger_corners_and_patterns():
    img = np.zeros((10, 12, 3), np.uint8)
    solid = PatchTrigger(
        size=3, location='top_right', pattern='solid', value=255, margin=1)
    out = solid(img)
    assert (out[1:4, 8:11] == 255).all()
    assert out.sum() == 9 * 3 * 255
    board = PatchTrigger(size=(2, 4), location='bottom_left', cell=1)(img)
    assert board[8:10, 0:4, 0].tolist() == [[0, 255, 0, 255], [255, 0, 255, 0]]
    center = PatchTrigger(size=4, location='center', pattern='solid')
    assert np.argwhere(center.mask((10, 12))).min(0).tolist() == [3, 4]


def test_patch_trigger_random_location_is_a_function_of_seed_and_key():
    trigger = PatchTrigger(size=4, location='random', seed=3)
    a1, a2 = trigger.mask((32, 32), 'a.png'), trigger.mask((32, 32), 'a.png')
    assert (a1 == a2).all() and a1.sum() == 16
    others = {trigger.mask((32, 32), f'{i}.png').argmax() for i in range(20)}
    assert len(others) > 1
    other_seed = PatchTrigger(size=4, location='random', seed=4)
    assert any((other_seed.mask((32, 32), f'{i}.png') != trigger.mask((
        32, 32), f'{i}.png')).any() for i in range(5))


def test_noise_patterns_are_seeded():
    img = np.zeros((8, 8, 3), np.uint8)
    assert (PatchTrigger(size=4, pattern='noise', seed=1)(img) == PatchTrigger(
        size=4, pattern='noise', seed=1)(img)).all()
    assert (BlendTrigger(alpha=1.0, seed=1)(img)
            != BlendTrigger(alpha=1.0, seed=2)(img)).any()


def test_image_patterns(tmp_path):
    import mmcv
    pattern = np.zeros((4, 4, 3), np.uint8)
    pattern[..., 2] = 200
    path = str(tmp_path / 'pattern.png')
    mmcv.imwrite(pattern, path)
    img = np.full((8, 8, 3), 100, np.uint8)
    blended = BlendTrigger(pattern='image', pattern_file=path, alpha=0.5)(img)
    assert blended[0, 0].tolist() == [50, 50, 150]
    patch = PatchTrigger(
        size=2, pattern='image', pattern_file=path, location='top_left')(
            img)
    assert patch[0, 0].tolist() == [0, 0, 200]
    assert patch[3, 3].tolist() == [100, 100, 100]


@pytest.mark.parametrize('cfg, error, match', [
    # wrong values: ValueError, naming the key and the allowed values
    (dict(type='LineTrigger', height=0), ValueError, 'height must be >= 1'),
    (dict(type='LineTrigger', height=1.5), ValueError,
     r'height as a fraction .* \(0, 1\]'),
    (dict(type='LineTrigger', alpha=0.0), ValueError, r'alpha .*\(0, 1\]'),
    (dict(type='LineTrigger', value=300), ValueError,
     r'value must lie in \[0, 255\]'),
    (dict(type='LineTrigger', value=float('nan')), ValueError, 'value'),
    (dict(type='LineTrigger', value=()), ValueError, 'value must be'),
    (dict(type='LineTrigger', position='left'), ValueError,
     r"position must be one of \('top', 'bottom'\)"),
    (dict(type='PatchTrigger', location='middle'), ValueError,
     "location must be one of .*'top_left'"),
    (dict(type='PatchTrigger', pattern='stripes'), ValueError,
     "pattern must be one of .*'solid'"),
    (dict(type='PatchTrigger', size=(1, 2, 3)), ValueError, 'size'),
    (dict(type='PatchTrigger', cell=0), ValueError, 'cell must be an int >='),
    (dict(type='PatchTrigger', margin=-1), ValueError,
     'margin must be an int >= 0'),
    (dict(type='PatchTrigger', pattern='solid', pattern_file='x.png'),
     ValueError, 'pattern_file'),
    (dict(type='PatchTrigger', pattern='image', pattern_file=''), ValueError,
     'pattern_file'),
    (dict(type='BlendTrigger', pattern='image',
          pattern_file='/nonexistent/trigger.png'), FileNotFoundError,
     'pattern_file'),
    # wrong types: TypeError, naming the key and the allowed values
    (dict(type='LineTrigger', height='8'), TypeError, 'height must be an int'),
    (dict(type='LineTrigger', alpha='1'), TypeError, 'alpha must be a float'),
    (dict(type='LineTrigger', value='black'), TypeError,
     'value must be a number or a sequence'),
    (dict(type='LineTrigger', value=None), TypeError, 'value'),
    (dict(type='LineTrigger', value=[0, 'x', 0]), TypeError, 'value'),
    (dict(type='LineTrigger', position=1), TypeError,
     "position must be a str, one of \\('top', 'bottom'\\)"),
    (dict(type='PatchTrigger', location=None), TypeError, 'location'),
    (dict(type='PatchTrigger', pattern=0), TypeError, 'pattern'),
    (dict(type='PatchTrigger', size='big'), TypeError, 'size'),
    (dict(type='PatchTrigger', cell=2.0), TypeError, 'cell must be an int'),
    (dict(type='PatchTrigger', margin=True), TypeError, 'margin'),
    (dict(type='BlendTrigger', pattern='image', pattern_file=3), TypeError,
     'pattern_file'),
    (dict(type='BlendTrigger', pattern=None), TypeError, 'pattern'),
])
def test_bad_arguments_name_the_key(cfg, error, match):
    with pytest.raises(error, match=match):
        build_trigger(cfg)


def test_values_as_numpy_are_accepted():
    img = np.zeros((2, 2, 3), np.uint8)
    out = LineTrigger(height=1, value=np.array([1, 2, 3]))(img)
    assert out[0, 0].tolist() == [1, 2, 3]
    assert LineTrigger(height=1, value=np.uint8(7))(img)[0, 0].tolist() == \
        [7] * 3


def test_trigger_larger_than_image_names_the_key():
    with pytest.raises(ValueError, match='height=10'):
        LineTrigger(height=10).check_fits((8, 8, 3))
    with pytest.raises(ValueError, match='size=9'):
        PatchTrigger(size=9)(np.zeros((8, 16, 3), np.uint8))
    with pytest.raises(ValueError, match='margin=2'):
        PatchTrigger(size=6, margin=2).mask((8, 8))


def test_apply_clip_applies_per_frame_with_the_same_key():
    trigger = PatchTrigger(size=2, location='random', pattern='solid')
    clip = np.random.default_rng(0).integers(0, 255, (3, 8, 8, 3), np.uint8)
    out = trigger.apply_clip(clip, key='v.mp4')
    assert out.shape == clip.shape and out.dtype == clip.dtype
    for t in range(3):
        assert (out[t] == trigger.apply(clip[t], 'v.mp4')).all()
    with pytest.raises(ValueError, match='T x H x W x C'):
        trigger.apply_clip(clip[0])


def test_repr_shows_every_argument():
    assert repr(PatchTrigger(size=0.1, location='random', seed=5)) == (
        "PatchTrigger(size=0.1, location='random', pattern='checkerboard', "
        'value=255, cell=2, pattern_file=None, margin=0, alpha=1.0, seed=5, '
        "channel_order='bgr')")
    assert repr(BlendTrigger()) == (
        "BlendTrigger(pattern='noise', pattern_file=None, alpha=0.1, seed=0, "
        "channel_order='bgr')")


RED_BGR, RED_RGB = [0, 0, 255], [255, 0, 0]


@pytest.fixture
def red_files(tmp_path):
    """A red pattern image, a grey mmseg image and a two-frame grey video
    (raw frames), all real files."""
    import mmcv
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 2] = 255  # mmcv.imwrite takes BGR: this file is red
    grey = np.full((8, 8, 3), 100, np.uint8)
    mmcv.imwrite(red, str(tmp_path / 'red.png'))
    mmcv.imwrite(grey, str(tmp_path / 'img.png'))
    for i in (1, 2):
        mmcv.imwrite(grey, str(tmp_path / 'video' / f'img_{i:05d}.png'))
    return tmp_path


def _load_seg_image(path):
    """``results`` after mmseg's ``LoadImageFromFile`` (BGR)."""
    from mmengine.registry import TRANSFORMS, DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        load = TRANSFORMS.build(dict(type='LoadImageFromFile'))
    return load(dict(img_path=str(path)))


def _load_video_frames(frame_dir):
    """``results`` after mmaction's ``RawFrameDecode`` (RGB)."""
    pytest.importorskip('mmaction')
    from mmaction.registry import TRANSFORMS
    decode = TRANSFORMS.build(dict(type='RawFrameDecode'))
    return decode(
        dict(frame_dir=str(frame_dir), filename_tmpl='img_{:05}.png',
             frame_inds=np.array([1, 2]), modality='RGB', clip_len=2))


def test_channel_order_contract_on_a_bgr_image(red_files):
    """mmseg: the loader yields BGR; a per-channel ``value`` is written as
    given (BGR), and the pattern file's red comes out red."""
    from mmbackdoor.datasets.transforms import ApplyTrigger
    results = _load_seg_image(red_files / 'img.png')
    assert results['img'][0, 0].tolist() == [100, 100, 100]
    line = ApplyTrigger(dict(type='LineTrigger', height=1, value=RED_BGR))
    assert line(dict(results))['img'][0, 0].tolist() == RED_BGR
    patch = ApplyTrigger(
        dict(type='PatchTrigger', size=2, location='top_left',
             pattern='image', pattern_file=str(red_files / 'red.png')))
    assert patch(dict(results))['img'][0, 0].tolist() == RED_BGR
    # the same file as the loader reads it: what a red pixel is here
    assert _load_seg_image(red_files / 'red.png')['img'][0, 0].tolist() == \
        RED_BGR


def test_channel_order_contract_on_rgb_video_frames(red_files):
    """mmaction: the decoder yields RGB frames; a per-channel ``value`` is
    written as given (so red is given as RGB), and ``channel_order='rgb'``
    reads the pattern file so its red comes out red on every frame."""
    from mmbackdoor.datasets.transforms import ApplyTrigger
    results = _load_video_frames(red_files / 'video')
    assert [f[0, 0].tolist() for f in results['imgs']] == [[100] * 3] * 2
    line = ApplyTrigger(dict(type='LineTrigger', height=1, value=RED_RGB))
    assert [f[0, 0].tolist() for f in line(dict(results))['imgs']] == \
        [RED_RGB] * 2
    patch = ApplyTrigger(
        dict(type='PatchTrigger', size=2, location='top_left',
             pattern='image', pattern_file=str(red_files / 'red.png'),
             channel_order='rgb'))
    assert [f[0, 0].tolist() for f in patch(dict(results))['imgs']] == \
        [RED_RGB] * 2
    blend = BlendTrigger(pattern='image', alpha=1.0, channel_order='rgb',
                         pattern_file=str(red_files / 'red.png'))
    assert blend.apply_clip(np.stack(results['imgs']))[:, 0, 0].tolist() \
        == [RED_RGB] * 2
    # without it the file would be read as BGR: red lands as blue
    wrong = PatchTrigger(size=2, location='top_left', pattern='image',
                         pattern_file=str(red_files / 'red.png'))
    assert wrong(results['imgs'][0])[0, 0].tolist() == RED_BGR


@pytest.mark.parametrize('channel_order, error', [('RGB', ValueError),
                                                  ('hsv', ValueError),
                                                  (None, TypeError)])
def test_channel_order_is_checked(channel_order, error):
    for kind in ('PatchTrigger', 'BlendTrigger'):
        with pytest.raises(error, match='channel_order'):
            build_trigger(dict(type=kind, channel_order=channel_order))


def test_base_trigger_is_abstract():
    with pytest.raises(TypeError):
        BaseTrigger()


triggers = st.sampled_from([
    LineTrigger(height=3, alpha=0.08),
    LineTrigger(height=0.2, position='bottom', value=255),
    PatchTrigger(size=4, location='random', pattern='noise'),
    PatchTrigger(size=0.3, location='center', alpha=0.5),
    BlendTrigger(alpha=0.2),
])


@settings(max_examples=60, deadline=None)
@given(
    trigger=triggers,
    h=st.integers(8, 40),
    w=st.integers(8, 40),
    channels=st.sampled_from([None, 1, 3]),
    dtype=st.sampled_from([np.uint8, np.float32]),
    seed=st.integers(0, 2**16),
    key=st.text(min_size=1, max_size=8))
def test_trigger_invariants(trigger, h, w, channels, dtype, seed, key):
    shape = (h, w) if channels is None else (h, w, channels)
    img = np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)
    before = img.copy()
    out = trigger.apply(img, key)
    assert out.shape == img.shape and out.dtype == img.dtype
    assert (img == before).all()
    mask = trigger.mask(shape, key)
    assert mask.shape == (h, w) and mask.dtype == bool and mask.any()
    # Pixels outside the mask never change.
    assert (out[~mask] == img[~mask]).all()
    assert (out >= 0).all() and (out <= 255).all()
