"""The shared generation helper of the embedded datasets: meta.json, reuse of
matching data, refusal of anything else, atomic rename, lost races and
overwrite."""
import json
import os
import os.path as osp

import pytest

from mmbackdoor.datasets import generation
from mmbackdoor.datasets.generation import (META_FILE, generate_atomically,
                                            matches_existing, read_meta)

WHAT = 'test dataset'
META = dict(format_version=1, seed=0, sizes=dict(train=2, val=1))


def write_samples(folder, meta):
    """A tiny generator: one file per sample holding the seed and index."""
    assert os.listdir(folder) == []  # a new, empty folder...
    assert osp.basename(folder).startswith('.')  # ... beside data_root
    for split, n in meta['sizes'].items():
        os.makedirs(osp.join(folder, split))
        for i in range(n):
            with open(osp.join(folder, split, f'{i}.txt'), 'w') as f:
                f.write(f"{meta.get('seed')} {i}")


def contents(root):
    """Relative path -> text of every file under ``root``."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = osp.join(folder, name)
            with open(path) as f:
                files[osp.relpath(path, root)] = f.read()
    return files


def leftovers(parent):
    """Temporary siblings that generation left behind."""
    return [n for n in os.listdir(parent) if '.tmp-' in n or '.old-' in n]


def test_writes_samples_then_meta_and_reuses_them(tmp_path):
    root = str(tmp_path / 'a' / 'b' / 'data')
    assert read_meta(root) is None
    assert not matches_existing(root, META, WHAT)
    assert generate_atomically(root, META, write_samples, WHAT) == root
    assert read_meta(root) == META
    assert contents(root) == {
        'train/0.txt': '0 0',
        'train/1.txt': '0 1',
        'val/0.txt': '0 0',
        META_FILE: json.dumps(META, indent=2)
    }
    assert matches_existing(root, META, WHAT)

    def fail(folder, meta):
        raise AssertionError('complete data must not be rewritten')

    stamp = os.stat(osp.join(root, META_FILE)).st_mtime_ns
    assert generate_atomically(root, META, fail, WHAT) == root
    assert os.stat(osp.join(root, META_FILE)).st_mtime_ns == stamp
    assert leftovers(osp.dirname(root)) == []


def test_failed_write_leaves_nothing(tmp_path):

    def write_then_fail(folder, meta):
        write_samples(folder, meta)
        raise RuntimeError('interrupted')

    with pytest.raises(RuntimeError, match='interrupted'):
        generate_atomically(str(tmp_path / 'data'), META, write_then_fail,
                            WHAT)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('stored, message', [
    (dict(META, seed=1), 'seed: stored 1 != requested 0'),
    (dict(META, sizes=dict(train=3, val=1)),
     "sizes: stored {'train': 3, 'val': 1} != requested "
     "{'train': 2, 'val': 1}"),
    ({k: v
      for k, v in META.items() if k != 'seed'},
     'seed: stored <missing> != requested 0'),
    (dict(META, extra=True), 'extra: stored True != requested <missing>'),
])
def test_other_arguments_are_refused_naming_the_key(tmp_path, stored,
                                                    message):
    root = generate_atomically(
        str(tmp_path / 'data'), stored, write_samples, WHAT)
    before = contents(root)
    with pytest.raises(FileExistsError) as info:
        generate_atomically(root, META, write_samples, WHAT)
    assert message in str(info.value)
    assert WHAT in str(info.value) and 'overwrite=True' in str(info.value)
    assert contents(root) == before
    assert leftovers(tmp_path) == []


def test_foreign_content_is_refused_and_empty_folder_filled(tmp_path):
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('mine')
    a_file = tmp_path / 'a_file'
    a_file.write_text('mine')
    for root in (foreign, a_file):
        with pytest.raises(FileExistsError, match=f'no {META_FILE}'):
            generate_atomically(str(root), META, write_samples, WHAT)
    assert os.listdir(foreign) == ['notes.txt']
    assert a_file.read_text() == 'mine'
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert not matches_existing(str(empty), META, WHAT)
    generate_atomically(str(empty), META, write_samples, WHAT)
    assert read_meta(str(empty)) == META
    assert leftovers(tmp_path) == []


def test_lost_race_with_the_same_arguments_keeps_the_winner(tmp_path):
    """Another rank renames its complete copy into place while this one
    writes: this call succeeds, keeps the winner and cleans up."""
    root = str(tmp_path / 'data')

    def write_while_other_rank_wins(folder, meta):
        generate_atomically(root, meta, write_samples, WHAT)
        with open(osp.join(root, 'winner'), 'w') as f:
            f.write('other rank')
        write_samples(folder, meta)

    generate_atomically(root, META, write_while_other_rank_wins, WHAT)
    with open(osp.join(root, 'winner')) as f:
        assert f.read() == 'other rank'
    assert read_meta(root) == META
    assert leftovers(tmp_path) == []


def test_lost_race_with_other_arguments_is_refused(tmp_path):
    root = str(tmp_path / 'data')

    def write_while_other_seed_wins(folder, meta):
        generate_atomically(root, dict(meta, seed=7), write_samples, WHAT)
        write_samples(folder, meta)

    with pytest.raises(FileExistsError, match='seed: stored 7 != requested 0'):
        generate_atomically(root, META, write_while_other_seed_wins, WHAT)
    assert read_meta(root) == dict(META, seed=7)
    assert leftovers(tmp_path) == []


def test_rename_errors_other_than_a_lost_race_propagate(
        tmp_path, monkeypatch):
    root = str(tmp_path / 'data')

    def rename(src, dst):
        raise PermissionError(13, 'Permission denied', dst)

    monkeypatch.setattr(generation.os, 'rename', rename)
    with pytest.raises(PermissionError):
        generate_atomically(root, META, write_samples, WHAT)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('old', ['dataset', 'foreign', 'file'])
def test_overwrite_swaps_the_old_folder_out(tmp_path, old):
    root = str(tmp_path / 'data')
    if old == 'dataset':
        generate_atomically(root, dict(META, seed=1), write_samples, WHAT)
    elif old == 'foreign':
        os.makedirs(osp.join(root, 'sub'))
        with open(osp.join(root, 'sub', 'notes.txt'), 'w') as f:
            f.write('mine')
    else:
        with open(root, 'w') as f:
            f.write('mine')
    generate_atomically(root, META, write_samples, WHAT, overwrite=True)
    reference = generate_atomically(
        str(tmp_path / 'ref'), META, write_samples, WHAT)
    assert contents(root) == contents(reference)
    assert leftovers(tmp_path) == []
