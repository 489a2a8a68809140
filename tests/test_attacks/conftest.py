"""Fixtures of the attack tests (helpers in
:mod:`mmbackdoor.testing.tiny_segmentor`)."""
import pytest
from mmbackdoor.testing.tiny_segmentor import build_segmentor, fit, make_batch


@pytest.fixture
def segmentor():
    return build_segmentor()


@pytest.fixture
def batch():
    return make_batch()


@pytest.fixture(scope='module')
def trained():
    """A segmentor fitted to :func:`make_batch` (and the batch)."""
    data = make_batch(num=4, seed=1)
    return fit(build_segmentor(), data), data
