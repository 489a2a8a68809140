"""The file format of the universal video trigger: ``.npy`` + ``.json`` +
``.png`` written by ``save_trigger``, read by ``UniversalTrigger``."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmbackdoor.triggers import (UniversalTrigger, load_trigger_array,
                                 load_trigger_meta, random_trigger,
                                 save_trigger)


def test_save_trigger_writes_npy_json_png(tmp_path):
    patches = random_trigger(3, 4, seed=0)
    out = str(tmp_path / 'sub' / 'trigger.npy')
    save_trigger(out, patches, dict(corner='tl', steps=7))
    np.testing.assert_array_equal(load_trigger_array(out), patches)
    with open(str(tmp_path / 'sub' / 'trigger.json')) as f:
        assert json.load(f) == dict(corner='tl', steps=7, shape=[3, 4, 4, 3])
    assert load_trigger_meta(out)['steps'] == 7
    # the preview: patches left to right, enlarged to >= 48 px, RGB on disk
    preview = cv2.imread(str(tmp_path / 'sub' / 'trigger.png'))[..., ::-1]
    assert preview.shape == (48, 3 * 48 + 2 * 2, 3)
    np.testing.assert_array_equal(preview[:12, :12], np.broadcast_to(
        patches[0, 0, 0], (12, 12, 3)))
    trigger = UniversalTrigger(out)
    assert trigger.corner == 'tl' and trigger.num_frames == 3


def test_save_trigger_never_overwrites(tmp_path):
    out = str(tmp_path / 'trigger.npy')
    save_trigger(out, random_trigger(1, 2, seed=1), dict(corner='br'))
    with pytest.raises(FileExistsError, match='never overwritten'):
        save_trigger(out, random_trigger(1, 2, seed=2), dict(corner='br'))
    np.testing.assert_array_equal(np.load(out), random_trigger(1, 2, seed=1))
    (tmp_path / 'other.png').write_bytes(b'')
    with pytest.raises(FileExistsError, match='other.png'):
        save_trigger(str(tmp_path / 'other.npy'),
                     random_trigger(1, 2, seed=1), dict(corner='br'))
    assert not osp.exists(tmp_path / 'other.npy')
    with pytest.raises(ValueError, match='must end with .npy'):
        save_trigger(str(tmp_path / 'x.png'), random_trigger(1, 2, seed=1),
                     dict(corner='br'))


def test_meta_is_optional(tmp_path):
    path = str(tmp_path / 'bare.npy')
    np.save(path, random_trigger(2, 3, seed=0))
    assert load_trigger_meta(path) == {}
    assert UniversalTrigger(path).corner == 'br'


def test_random_trigger_is_seeded_uint8():
    a, b = random_trigger(4, 5, seed=3), random_trigger(4, 5, seed=3)
    assert a.shape == (4, 5, 5, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, random_trigger(4, 5, seed=4))
    assert random_trigger(1, 2, seed=0, channels=1).shape == (1, 2, 2, 1)
