"""The one policy for folders that tools write: a new or empty folder is
written; an existing non-empty one (or a file) is refused unless the caller
says ``overwrite``; a source dataset folder is never written into, nor a
folder that contains one."""
import os
import os.path as osp
import shutil
from typing import Sequence


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
        shutil.rmtree(out_dir)
