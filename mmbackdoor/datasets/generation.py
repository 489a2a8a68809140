"""Safe, idempotent generation of the embedded datasets into ``data_root``.

The embedded datasets (:mod:`~mmbackdoor.datasets.embedded_seg`,
:mod:`~mmbackdoor.datasets.embedded_video`) are generated on first use. Each
generator only renders its files; this module owns what they share:

* the generator arguments are stored in ``data_root/meta.json``, written
  last;
* an existing ``data_root`` is reused only if it holds a dataset generated
  with the same arguments, and refused otherwise;
* the files are written into a temporary sibling folder that is renamed
  into place (:func:`mmbackdoor.utils.output_dir.temp_sibling_dir` and
  :func:`~mmbackdoor.utils.output_dir.move_into_place`, the machinery of
  every crash-safe writer), so concurrent callers (DDP ranks, parallel jobs)
  and interrupted runs never leave a partial ``data_root``; the temporary
  folders of killed runs are removed by the next one. Hence ``meta.json``
  in ``data_root`` marks a complete dataset;
* the digests that tell whether two machines generated the same files
  (:func:`file_digests`, :func:`dataset_digest`).
"""
import hashlib
import json
import os
import os.path as osp
from typing import Callable, Dict, Optional

from mmengine.logging import print_log

from mmbackdoor.utils.output_dir import move_into_place, temp_sibling_dir

META_FILE = 'meta.json'


class _Missing:
    """Stands for a key that one of two compared metas lacks."""

    def __repr__(self) -> str:
        return '<missing>'


_MISSING = _Missing()


def read_meta(data_root: str) -> Optional[dict]:
    """The generator arguments stored in ``data_root``.

    Args:
        data_root (str): Dataset folder.

    Returns:
        dict | None: The content of ``data_root/meta.json``, or None if there
        is none (no complete generated dataset).
    """
    path = osp.join(data_root, META_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def matches_existing(data_root: str, meta: dict, what: str) -> bool:
    """Whether ``data_root`` already holds the dataset described by ``meta``.

    Args:
        data_root (str): Dataset folder.
        meta (dict): Generator arguments of the requested dataset (the
            content of its ``meta.json``).
        what (str): Name of the dataset kind for error messages, e.g.
            ``'embedded video dataset'``.

    Returns:
        bool: True if ``data_root`` holds a dataset generated with ``meta``;
        False if it does not exist or is an empty folder (it may be
        generated).

    Raises:
        FileExistsError: ``data_root`` holds something else: no
            ``meta.json``, or one with other arguments (the message names
            each differing key with its stored and requested value).
    """
    stored = read_meta(data_root)
    if stored is None:
        if not osp.lexists(data_root) or (osp.isdir(data_root)
                                          and not osp.islink(data_root)
                                          and not os.listdir(data_root)):
            return False
        raise FileExistsError(
            f'data_root {data_root!r} exists but holds no complete {what} '
            f'(no {META_FILE}); remove it, use another data_root or pass '
            'overwrite=True')
    keys = list(meta) + [k for k in stored if k not in meta]
    differing = {
        k: (stored.get(k, _MISSING), meta.get(k, _MISSING))
        for k in keys if stored.get(k, _MISSING) != meta.get(k, _MISSING)
    }
    if differing:
        details = ', '.join(f'{k}: stored {old!r} != requested {new!r}'
                            for k, (old, new) in differing.items())
        raise FileExistsError(
            f'the {what} in data_root {data_root!r} was generated with other '
            f'arguments ({details}); use another data_root, the stored '
            'arguments, or pass overwrite=True')
    return True


def generate_atomically(data_root: str,
                        meta: dict,
                        write_fn: Callable[[str, dict], None],
                        what: str,
                        overwrite: bool = False) -> str:
    """Generate a dataset into ``data_root`` unless it is already there.

    ``write_fn(folder, meta)`` writes every file of the dataset into the new,
    empty ``folder``, a temporary sibling of ``data_root``; then ``meta`` is
    written to ``folder/meta.json`` and ``folder`` is renamed to
    ``data_root``. If another process renamed its copy into place first, that
    copy is kept when it was generated with the same ``meta`` (so concurrent
    callers with equal arguments all succeed). The temporary folder is
    removed in every case, also when ``write_fn`` raises; those that killed
    processes left are removed before writing.

    Args:
        data_root (str): Dataset folder to create. Its parent folders are
            created if needed.
        meta (dict): JSON-serialisable generator arguments; stored as
            ``meta.json`` and compared with the stored ones of an existing
            ``data_root``.
        write_fn (Callable[[str, dict], None]): Writes the dataset described
            by ``meta`` into a folder.
        what (str): Name of the dataset kind for messages, e.g.
            ``'embedded video dataset'``.
        overwrite (bool): Replace an existing ``data_root`` whatever it
            holds. Without it, a dataset generated with ``meta`` is kept as
            is (nothing is written) and any other content raises. Defaults to
            False.

    Returns:
        str: ``data_root``.

    Raises:
        FileExistsError: ``overwrite`` is False and ``data_root`` holds
            something other than the dataset of ``meta`` (see
            :func:`matches_existing`).
    """
    if not overwrite and matches_existing(data_root, meta, what):
        return data_root
    with temp_sibling_dir(data_root) as tmp:
        print_log(
            f'Generating the {what} in {data_root} ({meta})',
            logger='current')
        write_fn(tmp, meta)
        with open(osp.join(tmp, META_FILE), 'w') as f:
            json.dump(meta, f, indent=2)
        try:
            move_into_place(tmp, data_root, replace=overwrite)
        except FileExistsError:
            # Another process renamed its copy into place first.
            if not matches_existing(data_root, meta, what):
                raise
    return data_root


def file_digests(data_root: str) -> Dict[str, str]:
    """Relative path -> sha256 (hex) of every file under ``data_root``."""
    digests = {}
    for folder, _, files in os.walk(data_root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                digests[osp.relpath(path, data_root)] = hashlib.sha256(
                    f.read()).hexdigest()
    return digests


def dataset_digest(data_root: str) -> str:
    """One sha256 over every file of ``data_root``: the same as
    ``find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum`` in
    ``data_root`` prints, so machines without this package can compare."""
    listing = ''.join(
        f'{digest}  ./{path}\n'
        for path, digest in sorted(file_digests(data_root).items()))
    return hashlib.sha256(listing.encode()).hexdigest()
