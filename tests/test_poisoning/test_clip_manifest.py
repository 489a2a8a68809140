"""The manifest of a crafted poison folder (kind ``'clips'``): header,
body validation, clip headers and SHA-256."""
import json
import os.path as osp

import numpy as np
import pytest

from mmbackdoor.apis.clean_label import attack_dataset, craft_poison
from mmbackdoor.poisoning import load_clip_manifest
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
