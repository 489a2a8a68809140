"""The file format of a universal video trigger (:class:`UniversalTrigger`).

A trigger is stored losslessly as ``NAME.npy``, a ``uint8`` array
``T x s x s x C`` (patch ``t`` for frame ``t``; ``T = 1`` is static), with
its settings in ``NAME.json`` (``corner``, budget, progress of the
optimisation, ...) and a preview strip ``NAME.png``. Written by
:func:`save_trigger` (``tools/video/generate_trigger.py``), read by
:func:`load_trigger_array` / :func:`load_trigger_meta`.

Complete or not: the ``.npy`` is the commit point, renamed into place after
the ``.json`` and ``.png``; a reader needs it, and when the ``.json`` is
there its ``shape`` must be the ``.npy``'s (:func:`check_trigger_meta`). A
bare ``.npy`` without ``.json`` (made by hand) is a trigger with default
settings; :func:`save_trigger` never leaves one.
"""
import json
import os
import os.path as osp

import cv2
import numpy as np

from mmbackdoor.utils import atomic_files, recover_interrupted_files


def trigger_metadata_path(trigger_file: str) -> str:
    """The JSON written next to a trigger ``.npy`` (its settings)."""
    return osp.splitext(trigger_file)[0] + '.json'


def load_trigger_array(trigger_file: str) -> np.ndarray:
    """Load and validate a stored trigger.

    Args:
        trigger_file (str): ``.npy`` file, ``T x s x s x C`` ``uint8``.

    Returns:
        np.ndarray: The patches, ``T x s x s x C`` ``uint8``.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it is not a ``uint8`` array of square patches.
    """
    if not osp.isfile(trigger_file):
        raise FileNotFoundError(
            f'trigger_file {trigger_file!r} does not exist; create it with '
            'tools/video/generate_trigger.py')
    try:
        patches = np.load(trigger_file, allow_pickle=False)
    except ValueError as err:
        raise ValueError(
            f'trigger_file {trigger_file!r} is not a readable .npy array: '
            f'{err}') from err
    if (patches.dtype != np.uint8 or patches.ndim != 4
            or patches.shape[1] != patches.shape[2] or patches.shape[0] < 1):
        raise ValueError(
            f'trigger_file {trigger_file!r} must hold a uint8 array of shape '
            f'T x s x s x C (T >= 1), got {patches.dtype} {patches.shape}')
    return patches


def check_trigger_meta(trigger_file: str, patches: np.ndarray,
                       meta: dict) -> None:
    """Raise ``ValueError`` if the stored ``meta`` of ``trigger_file``
    records another ``shape`` than its ``patches`` (the ``.json`` of another
    trigger)."""
    shape = meta.get('shape')
    if shape is not None and list(shape) != list(patches.shape):
        raise ValueError(
            f'{trigger_metadata_path(trigger_file)} records shape {shape} '
            f'but {trigger_file!r} holds {list(patches.shape)}: the two do '
            'not belong together; regenerate the trigger')


def load_trigger_meta(trigger_file: str) -> dict:
    """The settings stored next to ``trigger_file`` (its ``.json``); an
    empty dict if there is none."""
    meta_file = trigger_metadata_path(trigger_file)
    if not osp.isfile(meta_file):
        return {}
    with open(meta_file) as f:
        return json.load(f)


def save_trigger(out_file: str, patches: np.ndarray, meta: dict) -> None:
    """Store a trigger losslessly: ``out_file`` (``.npy``), its settings
    next to it (``.json``, read by ``UniversalTrigger``) and a preview strip
    (``.png``, patch ``t`` left to right, enlarged).

    Crash-safe: the three files are written to temporary names and renamed
    into place in the order ``.png``, ``.json``, ``.npy``
    (:func:`mmbackdoor.utils.atomic_files`); the ``.npy``, which every
    reader needs, is the commit point, so a ``.npy`` is never next to a
    missing or half-written ``.json``. What a killed run left (temporary
    files, or a ``.png`` / ``.json`` whose ``.npy`` it had not renamed yet)
    is removed by the next call (:func:`mmbackdoor.utils
    .recover_interrupted_files`).

    Args:
        out_file (str): Path ending in ``.npy``; never overwritten.
        patches (np.ndarray): ``T x s x s x C`` ``uint8`` (RGB).
        meta (dict): JSON-serialisable settings (must include ``corner``).

    Raises:
        FileExistsError: If any of the three files exists.
    """
    if not out_file.endswith('.npy'):
        raise ValueError(f'the trigger file must end with .npy, got '
                         f'{out_file!r}')
    base = osp.splitext(out_file)[0]
    files = [out_file, base + '.json', base + '.png']
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    commit_order = files[::-1]  # the .npy last
    recover_interrupted_files(commit_order)
    existing = [f for f in files if osp.exists(f)]
    if existing:
        raise FileExistsError(f'{existing} already exist; triggers are never '
                              'overwritten: choose a new --out')
    scale = max(1, int(np.ceil(48 / patches.shape[1])))
    big = patches.repeat(scale, axis=1).repeat(scale, axis=2)
    gap = np.full((big.shape[1], 2, big.shape[3]), 255, np.uint8)
    strip = np.concatenate(
        [piece for patch in big for piece in (patch, gap)][:-1], axis=1)
    with atomic_files(commit_order) as (png_tmp, json_tmp, npy_tmp):
        with open(npy_tmp, 'wb') as f:  # a file: np.save would add .npy
            np.save(f, patches, allow_pickle=False)
        with open(json_tmp, 'w') as f:
            json.dump(dict(meta, shape=list(patches.shape)), f, indent=2)
        # encoded here: cv2.imwrite picks the format from the (temporary)
        # name
        ok, png = cv2.imencode('.png', strip[..., ::-1])
        if not ok:
            raise ValueError(f'cannot encode the preview of {out_file!r}')
        with open(png_tmp, 'wb') as f:
            f.write(png.tobytes())


def random_trigger(num_frames: int, size: int, seed: int,
                   channels: int = 3) -> np.ndarray:
    """A uniformly random (non-adversarial) trigger of the same form, the
    paper's control: ``T x s x s x C`` ``uint8`` drawn from ``seed``."""
    return np.random.default_rng(seed).integers(
        0, 256, (num_frames, size, size, channels), dtype=np.uint8)
