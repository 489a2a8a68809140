"""Deterministic poisoned-subset selection.

Whether a sample is poisoned is a pure function of ``(seed, sample key)``:
every key gets a pseudo-random score ``u = sha256(seed, key)`` in ``[0, 1)``
and the ``k = round(rate * n_eligible)`` eligible keys with the smallest scores
are poisoned. Consequences:

* the realised rate is exact up to rounding: ``|k / n - rate| <= 1 / (2 n)``;
* nothing depends on call order, dataloader workers, distributed ranks,
  resumption or the global RNG;
* subsets are nested: the 5 % subset is contained in the 10 % subset of the
  same seed, so a poison-rate sweep only adds samples.

A sample's key is its image path relative to the dataset's image directory
(``data_prefix['img_path']``), in POSIX form, so the same dataset in another
folder (e.g. an exported poisoned copy) has the same keys.
"""
import hashlib
import math
import os
import os.path as osp
from typing import Hashable, Iterable, List, Optional, Sequence

import numpy as np


def _digest(seed: int, key: Hashable, salt: str) -> bytes:
    text = f'{salt}\x1f{int(seed)}\x1f{key}'
    return hashlib.sha256(text.encode('utf-8')).digest()


def stable_uniform(seed: int, key: Hashable, salt: str = 'select') -> float:
    """A pseudo-random number in ``[0, 1)`` fixed by ``(seed, key, salt)``.

    Unlike ``hash()``, the value is the same in every process and Python
    version.

    Args:
        seed (int): Seed.
        key (Hashable): Sample identity; its ``str()`` is hashed.
        salt (str): Separates independent uses of the same ``(seed, key)``.
            Defaults to ``'select'``.

    Returns:
        float: ``int(sha256(...)[:8]) / 2**64``.
    """
    return int.from_bytes(_digest(seed, key, salt)[:8], 'big') / 2.0**64


def sample_rng(seed: int,
               key: Hashable,
               salt: str = 'rng') -> np.random.Generator:
    """A numpy generator seeded by ``(seed, key, salt)`` only.

    Args:
        seed (int): Seed.
        key (Hashable): Sample identity; its ``str()`` is hashed.
        salt (str): Separates independent uses. Defaults to ``'rng'``.

    Returns:
        np.random.Generator: A fresh generator.
    """
    return np.random.default_rng(
        int.from_bytes(_digest(seed, key, salt)[:16], 'big'))


def sample_key(img_path: str, img_dir: Optional[str]) -> str:
    """The identity of a sample: its image path relative to ``img_dir``.

    Args:
        img_path (str): Path of the sample's image (as in
            ``results['img_path']``).
        img_dir (str, optional): The dataset's image directory. If None or
            empty, the path itself (POSIX form) is the key.

    Returns:
        str: POSIX relative path.
    """
    rel = osp.relpath(img_path, img_dir) if img_dir else img_path
    return rel.replace(os.sep, '/')


def num_to_poison(rate: float, num_eligible: int) -> int:
    """``round(rate * num_eligible)``, halves rounded up.

    Args:
        rate (float): Poison rate in ``[0, 1]``.
        num_eligible (int): Number of eligible samples.

    Returns:
        int: Number of samples to poison.
    """
    return int(math.floor(rate * num_eligible + 0.5))


def select_poisoned(keys: Sequence[str],
                    rate: float,
                    seed: int,
                    eligible: Optional[Sequence[bool]] = None) -> List[str]:
    """Choose the poisoned subset: the ``round(rate * n)`` eligible keys with
    the smallest :func:`stable_uniform` scores.

    Args:
        keys (Sequence[str]): Identities of all samples (unique).
        rate (float): Fraction of eligible samples to poison, in ``[0, 1]``.
        seed (int): Selection seed.
        eligible (Sequence[bool], optional): Eligibility per key. Defaults to
            all eligible.

    Returns:
        list[str]: Sorted poisoned keys.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f'rate must be in [0, 1], got {rate}')
    if eligible is None:
        pool = list(keys)
    else:
        if len(eligible) != len(keys):
            raise ValueError(f'got {len(eligible)} eligibility flags for '
                             f'{len(keys)} keys')
        pool = [k for k, e in zip(keys, eligible) if e]
    k = num_to_poison(rate, len(pool))
    ranked = sorted(pool, key=lambda key: (stable_uniform(seed, key), key))
    return sorted(ranked[:k])


def keys_fingerprint(keys: Iterable[str]) -> str:
    """SHA-256 of the sorted sample keys: identifies a dataset split."""
    h = hashlib.sha256()
    for key in sorted(keys):
        h.update(key.encode('utf-8') + b'\n')
    return h.hexdigest()
