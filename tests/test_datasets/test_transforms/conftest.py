import pytest

from mmbackdoor.datasets.embedded_seg import generate_embedded_seg


@pytest.fixture(scope='session')
def seg_root(tmp_path_factory):
    """A small embedded segmentation dataset on disk (16 train, 6 val)."""
    return generate_embedded_seg(
        str(tmp_path_factory.mktemp('seg') / 'embedded_seg'),
        num_train=16, num_val=6, img_size=32)
