"""The versioned manifest format (``dump_manifest`` / ``read_manifest``)
and the segmentation subset manifest (kind ``'subset'``)."""
import json

import pytest

from mmbackdoor.poisoning.manifest import (PoisonManifest, dump_manifest,
                                           read_manifest)
from mmbackdoor.poisoning.selection import keys_fingerprint, select_poisoned

KEYS = [f'city_{i // 10}/img_{i:04d}.png' for i in range(200)]


def _manifest(**overrides):
    fields = dict(
        attack='FineGrainedPoison',
        params=dict(victim_classes=[5], target_class=1),
        seed=0,
        rate=0.1,
        classes=['a', 'b'],
        num_samples=len(KEYS),
        keys_sha256=keys_fingerprint(KEYS),
        num_eligible=100,
        poisoned=select_poisoned(KEYS, 0.1, 0))
    fields.update(overrides)
    return PoisonManifest(**fields)


def test_manifest_roundtrip(tmp_path):
    path = str(tmp_path / 'sub' / 'manifest.json')
    manifest = _manifest()
    manifest.dump(path)
    with open(path) as f:
        raw = json.load(f)
    assert (raw['format'], raw['kind'], raw['version']) == (
        'mmbackdoor.manifest', 'subset', 2)
    assert raw['realised_rate'] == 0.2  # 20 poisoned of 100 eligible
    assert PoisonManifest.load(path) == manifest


def test_manifest_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='manifest'):
        PoisonManifest.load(str(tmp_path / 'missing.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"poisoned": []}')
    with pytest.raises(ValueError, match='not an mmbackdoor manifest'):
        PoisonManifest.load(str(bad))


def test_manifest_check_matches_names_every_problem():
    manifest = _manifest()
    manifest.check_matches(
        attack='FineGrainedPoison',
        params=dict(victim_classes=[5], target_class=1),
        classes=['a', 'b'],
        keys=KEYS)
    with pytest.raises(ValueError) as err:
        manifest.check_matches(
            attack='ImageLevelPoison',
            params=dict(target_class=0),
            classes=['a', 'c'],
            keys=KEYS[:-1],
            path='m.json')
    message = str(err.value)
    for part in ("manifest='m.json'", 'ImageLevelPoison', 'attack parameters',
                 'classes differ', 'another set of samples'):
        assert part in message


def test_read_manifest_checks_format_kind_and_version(tmp_path):
    path = str(tmp_path / 'm.json')
    written = dump_manifest(path, 'subset', dict(a=1))
    assert written == dict(format='mmbackdoor.manifest', kind='subset',
                           version=2, a=1)
    assert read_manifest(path, 'subset') == dict(a=1)
    assert not (tmp_path / 'm.json.tmp').exists()  # renamed into place
    with pytest.raises(ValueError, match="a 'subset' manifest, expected a "
                       "'clips' one"):
        read_manifest(path, 'clips')
    with pytest.raises(ValueError, match="kind must be one of"):
        dump_manifest(path, 'other', {})
    for edit, message in [
        (dict(version=1), 'has version 1; this mmbackdoor reads version 2'),
        (dict(format='mmbackdoor.poison_manifest/1'),
         'not an mmbackdoor manifest'),
    ]:
        with open(path, 'w') as f:
            json.dump(dict(written, **edit), f)
        with pytest.raises(ValueError, match=message):
            read_manifest(path, 'subset')
    with open(path, 'w') as f:
        f.write('{"format": ')
    with pytest.raises(ValueError, match='corrupt manifest'):
        read_manifest(path, 'subset')
    with open(path, 'w') as f:
        json.dump(dict(written, unknown_field=1), f)
    with pytest.raises(ValueError, match='corrupt manifest'):
        PoisonManifest.load(path)
