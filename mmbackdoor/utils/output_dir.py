"""The one policy for folders that tools write, and the one way they are
written so that an interrupted run never leaves a half-written result.

Policy (:func:`check_output_dir`): a new or empty folder is written; an
existing non-empty one (or a file) is refused unless the caller says
``overwrite``; a source dataset folder is never written into, nor a folder
that contains one.

Crash safety: a result is written into a hidden temporary sibling
(:func:`temp_sibling`, ``.NAME.tmp-HOST-PID-UUID``) and renamed into place
when it is complete (:func:`atomic_output_dir` for folders,
:func:`atomic_files` for a set of files whose last one is the commit
point). A run killed half-way (``kill -9``) therefore leaves only its
temporary sibling, never the final path; the next run removes the siblings
that dead processes of this host left (:func:`remove_stale_siblings`) and
is not blocked by them.
"""
import errno
import os
import os.path as osp
import re
import shutil
import socket
import uuid
from contextlib import contextmanager
from typing import Iterator, List, Sequence

#: Kinds of temporary siblings: a result being written, a replaced one.
SIBLING_KINDS = ('tmp', 'old')


def _check_output_dir(out_dir: str, sources: Sequence[str],
                      overwrite: bool) -> bool:
    """Raise unless ``out_dir`` may be written; True if it is non-empty
    (so ``overwrite`` replaces it)."""
    out = osp.realpath(out_dir)
    for src in filter(None, sources):
        src_real = osp.realpath(src)
        if out == src_real or out.startswith(src_real + os.sep) \
                or src_real.startswith(out + os.sep):
            raise ValueError(
                f'{out_dir!r} overlaps the source folder {src!r}; source '
                'data is never written: choose another output folder')
    if osp.isfile(out_dir) or osp.islink(out_dir) and not osp.isdir(out_dir):
        raise FileExistsError(f'{out_dir!r} is a file, not a folder')
    if osp.isdir(out_dir) and os.listdir(out_dir):
        if not overwrite:
            raise FileExistsError(
                f'{out_dir!r} already exists and is not empty; nothing is '
                'overwritten unless asked (overwrite=True / --overwrite): '
                'choose a new folder')
        return True
    return False


def check_output_dir(out_dir: str,
                     sources: Sequence[str] = (),
                     overwrite: bool = False) -> None:
    """Check (and with ``overwrite`` clear) ``out_dir`` before writing.

    Args:
        out_dir (str): Where a tool will write.
        sources (Sequence[str]): Folders of the clean data it reads.
        overwrite (bool): Remove an existing non-empty ``out_dir`` instead
            of refusing.

    Raises:
        ValueError: If ``out_dir`` is, lies inside or contains a source.
        FileExistsError: If ``out_dir`` is a file, or a non-empty folder
            and ``overwrite`` is False.
    """
    if _check_output_dir(out_dir, sources, overwrite):
        shutil.rmtree(out_dir)


# --------------------------------------------------------------------------
# Temporary siblings
# --------------------------------------------------------------------------
def _host() -> str:
    return re.sub(r'[^A-Za-z0-9_.]', '_', socket.gethostname()) or 'host'


def temp_sibling(path: str, kind: str = 'tmp') -> str:
    """A new hidden sibling name of ``path``:
    ``.NAME.KIND-HOST-PID-UUID`` (not created).

    Args:
        path (str): The final path.
        kind (str): One of :data:`SIBLING_KINDS`. Defaults to ``'tmp'``.
    """
    if kind not in SIBLING_KINDS:
        raise ValueError(f'kind must be one of {SIBLING_KINDS}, got {kind!r}')
    parent, name = osp.split(osp.abspath(path))
    return osp.join(parent,
                    f'.{name}.{kind}-{_host()}-{os.getpid()}-'
                    f'{uuid.uuid4().hex}')


def _pid_alive(pid: int) -> bool:
    if os.name == 'nt':  # os.kill(pid, 0) would terminate it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _siblings(path: str, kind: str) -> List[tuple]:
    """``(pid, sibling)`` of the temporary siblings of ``path`` of ``kind``
    that processes of this host wrote."""
    parent, name = osp.split(osp.abspath(path))
    pattern = re.compile(
        re.escape(f'.{name}.{kind}-{_host()}-') + r'(\d+)-[0-9a-f]{32}$')
    try:
        entries = os.listdir(parent)
    except FileNotFoundError:
        return []
    return [(int(match.group(1)), osp.join(parent, entry))
            for entry in sorted(entries)
            for match in [pattern.match(entry)] if match]


def stale_siblings(path: str, kind: str = 'tmp') -> List[str]:
    """The temporary siblings of ``path`` (:func:`temp_sibling`) of ``kind``
    whose process is gone: written on this host by a process id that no
    longer runs. Siblings of live processes and of other hosts (a shared
    file system) are never listed."""
    return [
        sibling for pid, sibling in _siblings(path, kind)
        if pid != os.getpid() and not _pid_alive(pid)
    ]


def _remove(path: str) -> None:
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif osp.lexists(path):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def remove_stale_siblings(path: str) -> List[str]:
    """Remove the temporary siblings of ``path`` that dead processes left
    (:func:`stale_siblings`, every kind); returns what was removed."""
    removed = [p for kind in SIBLING_KINDS for p in stale_siblings(path, kind)]
    for sibling in removed:
        _remove(sibling)
    return removed


# --------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------
@contextmanager
def temp_sibling_dir(path: str) -> Iterator[str]:
    """A new empty temporary sibling folder of ``path``, removed on exit
    (whatever happened; after a successful :func:`move_into_place` it is
    gone already). Creates the parent folders of ``path`` and first removes
    the stale siblings of ``path`` (:func:`remove_stale_siblings`).

    Not ``mkdtemp``: the folder becomes ``path`` and keeps the umask's
    permissions.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    remove_stale_siblings(path)
    tmp = temp_sibling(path)
    os.mkdir(tmp)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def move_into_place(src: str, dst: str, replace: bool = False) -> None:
    """Rename the folder ``src`` to ``dst`` in one step.

    ``dst`` may be missing or an empty folder (replaced). With ``replace``,
    an existing ``dst`` is first renamed to a temporary sibling (kind
    ``'old'``) and removed once ``src`` is in place.

    Raises:
        FileExistsError: If ``dst`` is a non-empty folder (another process
            wrote it meanwhile) and ``replace`` is False.
    """
    if replace and osp.lexists(dst):
        old = temp_sibling(dst, 'old')
        os.rename(dst, old)
        os.rename(src, dst)
        _remove(old)
        return
    try:
        os.rename(src, dst)
    except OSError as err:
        if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        if osp.isdir(dst) and not osp.islink(dst) and not os.listdir(dst):
            os.rmdir(dst)  # where rename does not replace an empty folder
            os.rename(src, dst)
            return
        raise FileExistsError(
            err.errno, f'{dst!r} was written by another process meanwhile',
            dst) from err


@contextmanager
def atomic_output_dir(out_dir: str,
                      sources: Sequence[str] = (),
                      overwrite: bool = False) -> Iterator[str]:
    """Write a tool's output folder crash-safely.

    Checks ``out_dir`` with the policy of :func:`check_output_dir` (nothing
    is removed yet), yields a new temporary sibling folder to write into and,
    when the block ends without an error, renames it to ``out_dir``
    (:func:`move_into_place`; an existing empty ``out_dir`` is replaced, and
    with ``overwrite`` a non-empty one only now). ``out_dir`` thus never
    exists half-written: a run that fails or is killed leaves it as it was
    (the temporary sibling of a killed run is removed by the next one).
    If ``out_dir`` is a symbolic link to an empty folder, its target is
    written. The parent folder of ``out_dir`` must be writable, and
    ``out_dir`` no mount point (it could not be replaced).

    Args:
        out_dir (str): The final folder.
        sources (Sequence[str]): Folders of the clean data the tool reads.
        overwrite (bool): Replace a non-empty ``out_dir``.

    Yields:
        str: The temporary folder, a sibling of ``out_dir``.

    Raises:
        ValueError: If ``out_dir`` overlaps a source or is a mount point.
        FileExistsError: If ``out_dir`` is a file, or a non-empty folder
            (before or after writing) and ``overwrite`` is False.
    """
    _check_output_dir(out_dir, sources, overwrite)
    target = osp.realpath(out_dir)
    if osp.ismount(target):
        raise ValueError(
            f'{out_dir!r} is a mount point: the result is written next to '
            'it and renamed into place, which a mount point does not allow; '
            'choose a folder inside it')
    with temp_sibling_dir(target) as tmp:
        yield tmp
        move_into_place(tmp, target, replace=overwrite)


# --------------------------------------------------------------------------
# Sets of files
# --------------------------------------------------------------------------
def recover_interrupted_files(paths: Sequence[str]) -> List[str]:
    """Undo the renames of an :func:`atomic_files` commit that a killed
    process did not finish; returns the removed final files.

    The commit renames ``paths`` in order, the last one is the commit point.
    If that one is missing but a dead process's temporary sibling of it is
    still there, that process was killed before its commit point: each
    other file of ``paths`` that exists while such a process's sibling of it
    does not was renamed by it and is removed (before the sibling of the commit
    point, so that an interrupted recovery is recovered again). Then the
    stale siblings of every path are removed.
    """
    removed = []
    last = paths[-1]
    dead = {
        pid
        for pid, sibling in _siblings(last, 'tmp')
        if sibling in stale_siblings(last)
    }
    if dead and not osp.lexists(last):
        for path in paths[:-1]:
            own = {pid for pid, _ in _siblings(path, 'tmp')}
            if osp.lexists(path) and dead - own:
                os.remove(path)
                removed.append(path)
    for path in paths:
        remove_stale_siblings(path)
    return removed


@contextmanager
def atomic_files(paths: Sequence[str]) -> Iterator[List[str]]:
    """Write several files as one result.

    Yields one temporary sibling path per path (nothing created); when the
    block ends without an error, each written one is renamed to its path
    (``os.replace``), in order: the last path is the commit point, renamed
    after all others, so a reader that needs it never accepts an incomplete
    set. The temporary files are removed in every case. Callers first call
    :func:`recover_interrupted_files`.

    Args:
        paths (Sequence[str]): The final files, the commit point last.

    Yields:
        list[str]: Temporary paths, in the order of ``paths``.
    """
    if not paths:
        raise ValueError('atomic_files needs at least one path')
    tmps = [temp_sibling(path) for path in paths]
    try:
        yield tmps
        missing = [p for t, p in zip(tmps, paths) if not osp.isfile(t)]
        if missing:
            raise FileNotFoundError(f'nothing was written for {missing}')
        for tmp, path in zip(tmps, paths):
            os.replace(tmp, path)
    finally:
        for tmp in tmps:
            _remove(tmp)
