"""Clip rendering of the embedded video dataset: motions only tell the
classes apart (first frame, pose offsets, hand-computed magnitudes, optical
flow), the catalogue's class sets, and no OpenMMLab code imported."""
import cv2
import numpy as np
import pytest

from mmbackdoor.datasets.rendering import motion_clips
from mmbackdoor.datasets.rendering.motion_clips import (MOTIONS,
                                                        SOURCE_CLASSES,
                                                        TARGET_CLASSES,
                                                        render_clip,
                                                        sample_clip_params)
from mmbackdoor.testing.isolation import run_without


def flow_signature(frames, step=3):
    """Scores of the eight target motions from Farneback optical flow: an
    affine flow model fitted on moving pixels gives translation, curl
    (clockwise on screen is positive, the y axis points down) and divergence,
    in pixels per ``step`` frames at the moving region's radius; ``None`` if
    nothing visibly moves."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    ys, xs = np.mgrid[0:gray[0].shape[0], 0:gray[0].shape[1]].astype(float)
    scores = []
    for t in range(0, len(gray) - step, step):
        flow = cv2.calcOpticalFlowFarneback(gray[t], gray[t + step], None, 0.5,
                                            3, 9, 3, 5, 1.1, 0)
        u, v = flow[..., 0].astype(float), flow[..., 1].astype(float)
        moving = np.hypot(u, v) > 0.5
        if moving.sum() < 10:
            continue
        x, y = xs[moving] - xs[moving].mean(), ys[moving] - ys[moving].mean()
        design = np.stack([np.ones_like(x), x, y], axis=1)
        (u0, ux, uy), (v0, vx, vy) = (
            np.linalg.lstsq(design, c[moving], rcond=None)[0] for c in (u, v))
        radius = np.sqrt((x**2 + y**2).mean())
        curl, div = (vx - uy) * radius, (ux + vy) * radius
        # move_left, move_right, move_up, move_down, rotate_cw, rotate_ccw,
        # grow, shrink (the order of TARGET_CLASSES)
        scores.append([-u0, u0, -v0, v0, curl, -curl, div, -div])
    return np.median(scores, axis=0) if scores else None


def test_first_frame_is_the_same_for_every_motion():
    """Appearance, pose and noise are drawn independently of the class, so a
    single first frame cannot tell the classes apart; later frames differ."""
    params = sample_clip_params(np.random.default_rng(7), 6, 48)
    clips = [render_clip(params, m).astype(int) for m in MOTIONS]
    assert all(np.array_equal(c[0], clips[0][0]) for c in clips)
    for i in range(len(clips)):
        for j in range(i + 1, len(clips)):
            assert np.abs(clips[i] - clips[j]).max() > 50


@pytest.mark.parametrize('motion', sorted(MOTIONS))
def test_motion_starts_at_rest_pose_and_moves(motion):
    magnitudes = dict(
        shift=10.,
        turn=1.,
        zoom=0.5,
        orbit_radius=5.,
        orbit_dir=0.3,
        orbit_turn=3.,
        amplitude=4.)
    pose = np.stack(MOTIONS[motion](np.linspace(0, 1, 5), magnitudes))
    np.testing.assert_allclose(pose[:, 0], 0, atol=1e-12)
    assert np.abs(pose[:, 1:]).max() > 0.1


def test_motion_magnitudes_hand_computed():
    m = dict(
        shift=10.,
        turn=1.,
        zoom=0.5,
        orbit_radius=5.,
        orbit_dir=0.,
        orbit_turn=np.pi,
        amplitude=4.)
    p = np.array([0.25, 1.])
    np.testing.assert_allclose(MOTIONS['move_left'](p, m)[0], [-2.5, -10])
    np.testing.assert_allclose(MOTIONS['move_up'](p, m)[1], [-2.5, -10])
    np.testing.assert_allclose(MOTIONS['rotate_ccw'](p, m)[2], [-0.25, -1])
    np.testing.assert_allclose(MOTIONS['shrink'](p, m)[3], [-0.125, -0.5])
    np.testing.assert_allclose(
        np.stack(MOTIONS['move_down_right'](p, m)[:2]),
        np.full((2, 2), [2.5, 10]) / np.sqrt(2))
    # Orbit centre 5 px to the right: clockwise on screen (y down) goes from
    # 9 o'clock over 12 o'clock (5 px right, 5 px up) to 3 o'clock.
    np.testing.assert_allclose(
        np.stack(MOTIONS['orbit_cw'](np.array([0.5, 1.]), m)[:2]),
        [[5, 10], [-5, 0]],
        atol=1e-12)
    np.testing.assert_allclose(
        MOTIONS['oscillate_horizontal'](p, m)[0], [4, 0], atol=1e-12)


def test_motion_is_what_optical_flow_sees():
    """Farneback flow on rendered clips recovers each target class (names
    match what is on screen) while the first frame says nothing."""
    hits = np.zeros(len(TARGET_CLASSES), dtype=int)
    per_class = 4
    for index in range(per_class * len(TARGET_CLASSES)):
        label = index % len(TARGET_CLASSES)
        params = sample_clip_params(np.random.default_rng([1, index]), 16, 64)
        signature = flow_signature(render_clip(params, TARGET_CLASSES[label]))
        hits[label] += int(signature is not None
                           and signature.argmax() == label)
    assert hits.sum() >= 0.9 * per_class * len(TARGET_CLASSES)
    assert hits.min() >= per_class - 1


def test_source_and_target_classes():
    assert set(TARGET_CLASSES).isdisjoint(SOURCE_CLASSES)
    assert len(TARGET_CLASSES) >= 5 and len(SOURCE_CLASSES) >= 5
    assert set(TARGET_CLASSES) | set(SOURCE_CLASSES) <= set(MOTIONS)


def test_renders_without_openmmlab():
    out = run_without(
        motion_clips.__file__, 'import numpy as np\n'
        'params = module.sample_clip_params(np.random.default_rng(0), 4, 16)\n'
        "print(module.render_clip(params, 'grow').shape)")
    assert out.split() == ['(4,', '16,', '16,', '3)']


def test_bilinear_sampling_matches_the_formula_point_by_point():
    """``_bilinear`` against the bilinear formula evaluated per point, for
    points inside, on the last row / column and outside the image (edge
    replication), in the broadcast shapes the renderer uses."""
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 255, size=(7, 9, 3)).astype(np.float32)
    x = np.array([[-2.0, 0.0, 3.25, 7.5, 8.0, 11.0]])
    y = np.array([[-1.0], [0.5], [2.75], [6.0], [9.5]])
    out = motion_clips._bilinear(img, x, y)
    assert out.shape == (5, 6, 3) and out.dtype == np.float64
    for i, yy in enumerate(y[:, 0]):
        for j, xx in enumerate(x[0]):
            cx, cy = min(max(xx, 0), 8), min(max(yy, 0), 6)
            x0, y0 = min(int(np.floor(cx)), 7), min(int(np.floor(cy)), 5)
            fx, fy = cx - x0, cy - y0
            pix = img.astype(np.float64)
            top = pix[y0, x0] * (1 - fx) + pix[y0, x0 + 1] * fx
            bottom = pix[y0 + 1, x0] * (1 - fx) + pix[y0 + 1, x0 + 1] * fx
            # the same operations in the same order: the same bits, which
            # keeps the generated datasets byte for byte
            np.testing.assert_array_equal(out[i, j],
                                          top * (1 - fy) + bottom * fy)
