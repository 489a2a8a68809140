"""mmbackdoor.utils.output_dir: the output-folder policy and the crash-safe
writing machinery (temporary siblings renamed into place)."""
import os
import os.path as osp
import subprocess
import sys
import uuid

import pytest

from mmbackdoor.utils import (atomic_files, atomic_output_dir,
                              recover_interrupted_files)
from mmbackdoor.utils.output_dir import (_host, move_into_place,
                                         remove_stale_siblings,
                                         stale_siblings, temp_sibling)


def siblings(parent):
    return sorted(n for n in os.listdir(parent)
                  if '.tmp-' in n or '.old-' in n)


def dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', ''])
    proc.wait()
    return proc.pid


def sibling_of(path, pid, kind='tmp', host=None):
    parent, name = osp.split(str(path))
    return osp.join(parent, f'.{name}.{kind}-{host or _host()}-{pid}-'
                    f'{uuid.uuid4().hex}')


def test_new_folder_appears_only_when_complete(tmp_path):
    out = tmp_path / 'a' / 'out'
    with atomic_output_dir(str(out)) as tmp:
        assert osp.dirname(tmp) == str(out.parent)
        assert osp.basename(tmp).startswith('.out.tmp-')
        (tmp_path / 'a' / osp.basename(tmp) / 'f.txt').write_text('x')
        assert not out.exists()
    assert (out / 'f.txt').read_text() == 'x'
    assert siblings(tmp_path / 'a') == []


def test_failure_leaves_the_target_as_it_was(tmp_path):
    out = tmp_path / 'out'
    with pytest.raises(KeyError):
        with atomic_output_dir(str(out)) as tmp:
            open(osp.join(tmp, 'half'), 'w').close()
            raise KeyError('boom')
    assert not out.exists() and siblings(tmp_path) == []
    old = tmp_path / 'old'
    old.mkdir()
    (old / 'kept.txt').write_text('kept')
    with pytest.raises(KeyError):
        with atomic_output_dir(str(old), overwrite=True):
            assert (old / 'kept.txt').exists(), 'replaced only at the end'
            raise KeyError('boom')
    assert (old / 'kept.txt').read_text() == 'kept'
    with atomic_output_dir(str(old), overwrite=True) as tmp:
        open(osp.join(tmp, 'new.txt'), 'w').close()
    assert os.listdir(old) == ['new.txt'] and siblings(tmp_path) == []


def test_policy_empty_folder_symlink_and_refusals(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with atomic_output_dir(str(empty)) as tmp:
        open(osp.join(tmp, 'f'), 'w').close()
    assert os.listdir(empty) == ['f']
    with pytest.raises(FileExistsError, match='not empty'):
        with atomic_output_dir(str(empty)):
            pytest.fail('a non-empty folder must be refused before writing')
    (tmp_path / 'file').write_text('')
    with pytest.raises(FileExistsError, match='is a file'):
        with atomic_output_dir(str(tmp_path / 'file')):
            pass
    src = tmp_path / 'src'
    src.mkdir()
    with pytest.raises(ValueError, match='overlaps the source'):
        with atomic_output_dir(str(src / 'out'), [str(src)]):
            pass
    # a link to an empty folder: the target is written, the link kept
    real = tmp_path / 'disk' / 'real'
    real.mkdir(parents=True)
    link = tmp_path / 'link'
    link.symlink_to(real)
    with atomic_output_dir(str(link)) as tmp:
        assert osp.dirname(tmp) == str(real.parent)
        open(osp.join(tmp, 'f'), 'w').close()
    assert link.is_symlink() and os.listdir(real) == ['f']


def test_a_mount_point_is_refused_before_writing(tmp_path, monkeypatch):
    mount = tmp_path / 'volume'
    mount.mkdir()
    monkeypatch.setattr(osp, 'ismount', lambda path: path == str(mount))
    with pytest.raises(ValueError, match='mount point.*inside it'):
        with atomic_output_dir(str(mount)):
            pytest.fail('refused before writing')
    assert siblings(tmp_path) == []
    with atomic_output_dir(str(mount / 'run')) as tmp:
        open(osp.join(tmp, 'f'), 'w').close()
    assert os.listdir(mount / 'run') == ['f']


def test_a_folder_written_meanwhile_is_not_replaced(tmp_path):
    out = tmp_path / 'out'
    with pytest.raises(FileExistsError, match='another process'):
        with atomic_output_dir(str(out)) as tmp:
            open(osp.join(tmp, 'mine'), 'w').close()
            out.mkdir()
            (out / 'theirs').write_text('')
    assert os.listdir(out) == ['theirs'] and siblings(tmp_path) == []
    src = tmp_path / 'src'
    src.mkdir()
    move_into_place(str(src), str(out), replace=True)
    assert not src.exists() and os.listdir(out) == []


def test_only_stale_siblings_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / 'out'
    dead = sibling_of(out, dead_pid())
    old = sibling_of(out, dead_pid(), kind='old')
    alive = sibling_of(out, os.getppid())
    other_host = sibling_of(out, dead_pid(), host='elsewhere')
    foreign = str(tmp_path / '.out.tmp-crashed')
    other_name = sibling_of(tmp_path / 'other', dead_pid())
    for path in (dead, old, alive, other_host, foreign, other_name):
        os.mkdir(path)
        open(osp.join(path, 'partial'), 'w').close()
    assert stale_siblings(str(out)) == [dead]
    assert remove_stale_siblings(str(out)) == [dead, old]
    with atomic_output_dir(str(out)) as tmp:
        assert osp.isdir(tmp)
    assert sorted(osp.join(str(tmp_path), n) for n in siblings(tmp_path)) \
        == sorted([alive, other_host, foreign, other_name])
    assert temp_sibling(str(out)) != temp_sibling(str(out))


def test_atomic_files_commit_point_last(tmp_path, monkeypatch):
    paths = [str(tmp_path / n) for n in ('a.png', 'a.json', 'a.npy')]
    order = []
    real_replace = os.replace

    def replace(src, dst):
        order.append(osp.basename(dst))
        real_replace(src, dst)

    with atomic_files(paths) as tmps:
        for tmp in tmps:
            open(tmp, 'w').close()
        assert not any(osp.exists(p) for p in paths)
        monkeypatch.setattr(os, 'replace', replace)
    monkeypatch.undo()
    assert order == ['a.png', 'a.json', 'a.npy']
    assert siblings(tmp_path) == []
    with pytest.raises(FileNotFoundError, match='nothing was written'):
        with atomic_files([str(tmp_path / 'b.json'),
                           str(tmp_path / 'b.npy')]) as tmps:
            open(tmps[0], 'w').close()
    assert not osp.exists(tmp_path / 'b.json') and siblings(tmp_path) == []


def test_recover_interrupted_files(tmp_path):
    png, meta, npy = (str(tmp_path / n) for n in ('t.png', 't.json', 't.npy'))
    # killed between the renames: its .npy sibling is still there
    pid = dead_pid()
    for path in (png, meta, sibling_of(npy, pid)):
        open(path, 'w').close()
    assert recover_interrupted_files([png, meta, npy]) == [png, meta]
    assert os.listdir(tmp_path) == []
    # killed while writing (its own .png sibling there): the .png found is
    # not its, and a file without a dead writer's sibling is never touched
    pid = dead_pid()
    for path in (png, sibling_of(png, pid), sibling_of(npy, pid)):
        open(path, 'w').close()
    assert recover_interrupted_files([png, meta, npy]) == []
    assert os.listdir(tmp_path) == ['t.png']
    assert recover_interrupted_files([png, meta, npy]) == []
    assert os.listdir(tmp_path) == ['t.png']
