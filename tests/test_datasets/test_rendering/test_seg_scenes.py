"""Scene rendering of the embedded segmentation dataset: one sample from a
generator, and no OpenMMLab code imported."""
import subprocess
import sys

import numpy as np

from mmbackdoor.datasets.rendering import seg_scenes
from mmbackdoor.datasets.rendering.seg_scenes import (CLASSES, IGNORE_INDEX,
                                                      render_sample)

#: Run alone, with the OpenMMLab packages and torch made unimportable.
STANDALONE = """
import importlib.util, sys
import numpy as np
for name in ('mmaction', 'mmseg', 'mmengine', 'mmcv', 'torch'):
    sys.modules[name] = None
spec = importlib.util.spec_from_file_location('seg_scenes', sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
img, label_map = module.render_sample(np.random.default_rng(0), 32, 0.75)
print(img.shape, label_map.shape)
"""


def test_sample_is_a_function_of_the_generator():
    img, label_map = render_sample(np.random.default_rng([3, 0, 1]), 40, 0.75)
    assert img.shape == (40, 40, 3) and img.dtype == np.uint8
    assert label_map.shape == (40, 40) and label_map.dtype == np.uint8
    assert set(np.unique(label_map).tolist()) <= \
        set(range(len(CLASSES))) | {IGNORE_INDEX}
    again = render_sample(np.random.default_rng([3, 0, 1]), 40, 0.75)
    np.testing.assert_array_equal(again[0], img)
    np.testing.assert_array_equal(again[1], label_map)
    other = render_sample(np.random.default_rng([3, 0, 2]), 40, 0.75)
    assert not np.array_equal(other[0], img)


def test_renders_without_openmmlab():
    out = subprocess.run([sys.executable, '-c', STANDALONE,
                          seg_scenes.__file__],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ['(32,', '32,', '3)', '(32,', '32)']
