"""Fixtures shared by the whole test suite."""
import pytest

from mmbackdoor.utils import is_installed


@pytest.fixture(scope='session')
def embedded_seg_root(tmp_path_factory):
    """A small embedded segmentation dataset on disk: seed 0, 16 train and 6
    val images of 32x32 (generated once per session)."""
    if not is_installed('mmseg'):
        pytest.skip('mmseg is not installed')
    from mmbackdoor.testing.seg import small_embedded_seg
    return small_embedded_seg(
        str(tmp_path_factory.mktemp('seg') / 'embedded_seg'))


@pytest.fixture(params=['NCTHW', 'NCHW'])
def fmt(request):
    """Packed layout of a video recognizer: 3D (I3D-style) or 2D
    (TSN-style); helpers in :mod:`mmbackdoor.testing.video`."""
    return request.param


@pytest.fixture
def video_setup(tmp_path, fmt):
    """``(cfg, model, dataset)``: a tiny video config of layout ``fmt``, its
    seeded recognizer and its clean training set read as the attacker does
    (:func:`mmbackdoor.testing.video.attack_setup`)."""
    if not is_installed('mmaction'):
        pytest.skip('mmaction is not installed')
    from mmbackdoor.testing.video import attack_setup
    return attack_setup(str(tmp_path / 'data'), fmt)
