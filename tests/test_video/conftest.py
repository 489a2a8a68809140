"""Fixtures of the video-backdoor tests (helpers: video_backdoor_helpers)."""
import pytest


@pytest.fixture(params=['NCTHW', 'NCHW'])
def fmt(request):
    """Packed layout: 3D (I3D-style) or 2D (TSN-style) recognizers."""
    return request.param
