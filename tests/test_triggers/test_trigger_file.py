"""The file format of the universal video trigger: ``.npy`` + ``.json`` +
``.png`` written by ``save_trigger``, read by ``UniversalTrigger``."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmbackdoor.testing.crash import kill, start_hanging, wait_hanging
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


def test_killed_between_the_renames_is_no_trigger_and_recovered(tmp_path):
    """A real process is killed (SIGKILL) in the narrowest window: after
    ``save_trigger`` renamed the ``.png`` and the ``.json`` into place,
    before the ``.npy``, the commit point (``os.replace`` hangs after the
    ``.json``'s rename, :mod:`mmbackdoor.testing.crash`). No reader accepts
    the ``.json`` without its ``.npy``; the next ``save_trigger`` of the
    same file recognises the dead writer's leftovers, removes them and
    writes the trigger."""
    out = str(tmp_path / 'out' / 't.npy')
    script = tmp_path / 'save.py'
    script.write_text(
        'import sys\n'
        'from mmbackdoor.triggers import random_trigger, save_trigger\n'
        "save_trigger(sys.argv[1], random_trigger(2, 3, seed=0), "
        "dict(corner='tl'))\n")
    marker = str(tmp_path / 'hanging')
    proc = start_hanging(str(script), [out], 'os.replace', marker,
                         match='t.json')
    try:
        wait_hanging(proc, marker)
        names = sorted(os.listdir(tmp_path / 'out'))
        assert names[0].startswith('.t.npy.tmp-')
        assert names[1:] == ['t.json', 't.png']
    finally:
        kill(proc)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        UniversalTrigger(out)
    save_trigger(out, random_trigger(2, 3, seed=1), dict(corner='br'))
    assert sorted(os.listdir(tmp_path / 'out')) == ['t.json', 't.npy', 't.png']
    trigger = UniversalTrigger(out)
    assert trigger.corner == 'br'
    np.testing.assert_array_equal(trigger.patches, random_trigger(2, 3, 1))


def test_a_json_of_another_trigger_is_refused(tmp_path):
    out = str(tmp_path / 't.npy')
    save_trigger(out, random_trigger(2, 3, seed=0), dict(corner='tl'))
    np.save(out, random_trigger(1, 3, seed=0))  # replaced by hand
    with pytest.raises(ValueError, match=r'records shape \[2, 3, 3, 3\]'):
        UniversalTrigger(out)


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
