"""Deterministic poisoned-subset selection and its JSON manifest.

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
import json
import math
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Hashable, Iterable, List, Optional, Sequence

import numpy as np

#: ``format`` tag of manifests written by this module.
MANIFEST_FORMAT = 'mmbackdoor.poison_manifest/1'


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


@dataclass
class PoisonManifest:
    """The poisoned subset of a dataset, as written to / read from JSON.

    Args:
        attack (str): Name of the poisoning transform.
        params (dict): The transform's attack parameters that decide
            eligibility and labels (e.g. victim and target classes).
        seed (int): Selection seed.
        rate (float): Requested poison rate.
        classes (list[str]): The dataset's class names.
        num_samples (int): Number of samples in the dataset.
        keys_sha256 (str): :func:`keys_fingerprint` of all sample keys.
        num_eligible (int): Number of eligible samples.
        poisoned (list[str]): Sorted keys of the poisoned samples.
        extra (dict): Free-form information (e.g. PSNR / SSIM of an export).
    """

    attack: str
    params: Dict[str, Any]
    seed: int
    rate: float
    classes: List[str]
    num_samples: int
    keys_sha256: str
    num_eligible: int
    poisoned: List[str]
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def realised_rate(self) -> float:
        """``len(poisoned) / num_eligible`` (0 when nothing is eligible)."""
        if self.num_eligible == 0:
            return 0.0
        return len(self.poisoned) / self.num_eligible

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict, with ``format`` and ``realised_rate`` added."""
        out = dict(format=MANIFEST_FORMAT)
        out.update(asdict(self))
        out['realised_rate'] = self.realised_rate
        return out

    def dump(self, path: str) -> None:
        """Write the manifest as JSON (creating parent folders)."""
        parent = osp.dirname(osp.abspath(path))
        os.makedirs(parent, exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(self.to_dict(), f, indent=1)
            f.write('\n')

    @classmethod
    def load(cls, path: str) -> 'PoisonManifest':
        """Read a manifest written by :meth:`dump`.

        Raises:
            FileNotFoundError: If ``path`` does not exist.
            ValueError: If the file is not a manifest of this format.
        """
        if not osp.isfile(path):
            raise FileNotFoundError(f'manifest file not found: {path}')
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        if not isinstance(data, dict) or data.get('format') != MANIFEST_FORMAT:
            raise ValueError(f'{path} is not a poison manifest (expected '
                             f"format '{MANIFEST_FORMAT}')")
        data.pop('format')
        data.pop('realised_rate', None)
        return cls(**data)

    def check_matches(self,
                      *,
                      attack: str,
                      params: Dict[str, Any],
                      classes: Sequence[str],
                      keys: Sequence[str],
                      path: str = '<manifest>') -> None:
        """Raise ``ValueError`` unless the manifest belongs to this dataset
        and attack.

        Args:
            attack (str): Name of the poisoning transform using it.
            params (dict): That transform's attack parameters.
            classes (Sequence[str]): The dataset's class names.
            keys (Sequence[str]): The dataset's sample keys.
            path (str): Shown in messages. Defaults to ``'<manifest>'``.
        """
        problems = []
        if self.attack != attack:
            problems.append(f"it was made for {self.attack}, not {attack}")
        if self.params != params:
            problems.append(f'its attack parameters {self.params} differ '
                            f'from {params}')
        if list(self.classes) != list(classes):
            problems.append('its classes differ from the dataset\'s')
        if (self.num_samples != len(keys)
                or self.keys_sha256 != keys_fingerprint(keys)):
            problems.append(f'it lists another set of samples '
                            f'({self.num_samples} samples, fingerprint '
                            f'{self.keys_sha256[:12]}; the dataset has '
                            f'{len(keys)}, {keys_fingerprint(keys)[:12]})')
        if problems:
            raise ValueError(f'manifest={path!r} does not match this '
                             'dataset/attack: ' + '; '.join(problems))
