"""Scene rendering of the embedded segmentation dataset: one sample from a
generator, and no OpenMMLab code imported."""
import numpy as np

from mmbackdoor.datasets.rendering import seg_scenes
from mmbackdoor.datasets.rendering.seg_scenes import (CLASSES, IGNORE_INDEX,
                                                      render_sample)
from mmbackdoor.testing.isolation import run_without


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
    out = run_without(
        seg_scenes.__file__, 'import numpy as np\n'
        'rng = np.random.default_rng(0)\n'
        'img, label = module.render_sample(rng, 32, 0.75)\n'
        'print(img.shape, label.shape)')
    assert out.split() == ['(32,', '32,', '3)', '(32,', '32)']


def test_person_scale_grows_the_persons_of_the_same_scenes():
    persons = {}
    for scale in (1.0, 2.0):
        maps = [
            render_sample(
                np.random.default_rng([0, 0, i]), 64, 0.75, person_scale=scale)
            [1] for i in range(20)
        ]
        persons[scale] = np.array([(m == CLASSES.index('person')).sum()
                                   for m in maps])
    default = [
        render_sample(np.random.default_rng([0, 0, i]), 64, 0.75)[1]
        for i in range(20)
    ]
    assert persons[1.0].tolist() == [
        (m == CLASSES.index('person')).sum() for m in default
    ]
    # the same scenes: a person wherever there was one, ~scale**2 the area
    assert ((persons[2.0] > 0) == (persons[1.0] > 0)).all()
    assert persons[2.0].sum() > 2.5 * persons[1.0].sum()
