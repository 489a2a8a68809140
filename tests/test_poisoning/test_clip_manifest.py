"""The manifest of a crafted poison folder (kind ``'clips'``): header,
body validation, clip headers and SHA-256."""
import json
import os.path as osp

import numpy as np
import pytest

from mmbackdoor.apis.clean_label import attack_dataset, craft_poison
from mmbackdoor.poisoning import (MANIFEST_FORMAT, MANIFEST_VERSION,
                                  dump_clip_manifest, dump_manifest,
                                  load_clip_manifest)
from mmbackdoor.testing.video import build_model, make_cfg


@pytest.fixture
def poison_dir(tmp_path):
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW')
    out = str(tmp_path / 'poison')
    craft_poison(build_model(cfg), attack_dataset(cfg), 0, out, rate=1.0,
                 steps=1, progress=False)
    return out


def edit_manifest(poison_dir, edit):
    path = osp.join(poison_dir, 'manifest.json')
    with open(path) as f:
        manifest = json.load(f)
    edit(manifest)
    with open(path, 'w') as f:
        json.dump(manifest, f)


@pytest.mark.parametrize('edit,error,match', [
    (lambda m: m.pop('videos'), ValueError, "malformed key 'videos'"),
    (lambda m: m.update(version=99), ValueError, 'has version 99'),
    (lambda m: m['videos'][0].pop('frame_inds'), ValueError,
     'every video needs'),
    (lambda m: m['videos'].append(dict(m['videos'][0])), ValueError,
     'listed twice'),
    (lambda m: m['videos'][0].update(file='clips/missing.npy'),
     FileNotFoundError, 'is missing'),
    (lambda m: m.update(clip_shape=[1, 2, 3, 3]), ValueError,
     'the manifest says'),
])
def test_manifest_validation(poison_dir, edit, error, match):
    load_clip_manifest(poison_dir)
    edit_manifest(poison_dir, edit)
    with pytest.raises(error, match=match):
        load_clip_manifest(poison_dir)


def test_manifest_missing_corrupt_or_tampered(poison_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match='craft_poison.py'):
        load_clip_manifest(str(tmp_path))
    manifest = load_clip_manifest(poison_dir)
    clip_file = osp.join(poison_dir, manifest['videos'][0]['file'])
    clip = np.load(clip_file)
    clip[0, 0, 0, 0] ^= 1
    np.save(clip_file, clip)
    with pytest.raises(ValueError, match='SHA-256'):
        load_clip_manifest(poison_dir)
    with open(clip_file, 'wb') as f:
        f.write(b'garbage')
    with pytest.raises(ValueError, match='not a readable .npy'):
        load_clip_manifest(poison_dir)
    with open(osp.join(poison_dir, 'manifest.json'), 'w') as f:
        f.write('{"videos": [')
    with pytest.raises(ValueError, match='corrupt manifest'):
        load_clip_manifest(poison_dir)


def test_manifest_has_the_common_header(poison_dir):
    with open(osp.join(poison_dir, 'manifest.json')) as f:
        written = json.load(f)
    assert (written['format'], written['kind'], written['version']) == (
        MANIFEST_FORMAT, 'clips', MANIFEST_VERSION)
    body = load_clip_manifest(poison_dir)
    assert not set(body) & {'format', 'kind', 'version'}
    assert body == {
        k: v
        for k, v in written.items() if k not in ('format', 'kind', 'version')
    }


@pytest.mark.parametrize('edit,match', [
    (lambda m: m.update(kind='subset'),
     "is a 'subset' manifest, expected a 'clips' one"),
    (lambda m: m.update(version=1), 'has version 1'),
    (lambda m: m.pop('version'), 'has version None'),
    (lambda m: m.update(format='something.else'),
     'is not an mmbackdoor manifest'),
    (lambda m: m.pop('format'), 'is not an mmbackdoor manifest'),
])
def test_manifest_of_another_kind_version_or_format_is_refused(
        poison_dir, edit, match):
    edit_manifest(poison_dir, edit)
    with pytest.raises(ValueError, match=match):
        load_clip_manifest(poison_dir)


def test_manifest_of_the_old_private_scheme_is_refused(poison_dir):
    """Poison folders of the earlier layout (``"version": 1``, no header)
    must be crafted again."""
    def old(manifest):
        for key in ('format', 'kind'):
            manifest.pop(key)
        manifest['version'] = 1

    edit_manifest(poison_dir, old)
    with pytest.raises(ValueError, match='not an mmbackdoor manifest'):
        load_clip_manifest(poison_dir)


def test_subset_manifest_is_not_a_poison_folder(tmp_path):
    dump_manifest(str(tmp_path / 'manifest.json'), 'subset', dict(a=1))
    with pytest.raises(ValueError, match="expected a 'clips' one"):
        load_clip_manifest(str(tmp_path))
    with pytest.raises(ValueError, match='header keys'):
        dump_clip_manifest(str(tmp_path), dict(kind='subset', videos=[]))
