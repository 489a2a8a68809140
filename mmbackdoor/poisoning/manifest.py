"""The one versioned JSON manifest format of mmbackdoor, for the poisoned
subset of a segmentation dataset (kind ``'subset'``, :class:`PoisonManifest`)
and for a folder of crafted poisoned video clips (kind ``'clips'``).

Every manifest is one JSON object that starts with::

    {"format": "mmbackdoor.manifest", "kind": "subset", "version": 2, ...}

and is written atomically (a temporary file renamed into place), so a reader
never sees half a manifest.
"""
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Sequence

from .selection import keys_fingerprint

#: ``format`` of every manifest, its ``version`` and the known ``kind``s.
MANIFEST_FORMAT = 'mmbackdoor.manifest'
MANIFEST_VERSION = 2
MANIFEST_KINDS = ('subset', 'clips')
#: File name of a manifest inside the folder it describes.
MANIFEST_NAME = 'manifest.json'


def _check_kind(kind: str) -> None:
    if kind not in MANIFEST_KINDS:
        raise ValueError(f'kind must be one of {MANIFEST_KINDS}, got '
                         f'{kind!r}')


def dump_manifest(path: str, kind: str, body: Dict[str, Any]) -> dict:
    """Write ``body`` as a manifest of ``kind`` to ``path`` (atomically,
    creating parent folders); returns what was written."""
    _check_kind(kind)
    data = dict(format=MANIFEST_FORMAT, kind=kind, version=MANIFEST_VERSION)
    data.update(body)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)
    return data


def read_manifest(path: str, kind: str) -> Dict[str, Any]:
    """Read a manifest of ``kind``; returns its body (without ``format``,
    ``kind`` and ``version``).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not JSON, not a manifest, of another kind
            or of another version.
    """
    _check_kind(kind)
    if not osp.isfile(path):
        raise FileNotFoundError(f'manifest file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'corrupt manifest {path!r}: {err}') from err
    if not isinstance(data, dict) or data.get('format') != MANIFEST_FORMAT:
        raise ValueError(f'{path} is not an mmbackdoor manifest (expected '
                         f'"format": "{MANIFEST_FORMAT}")')
    if data.get('kind') != kind:
        raise ValueError(f'{path} is a {data.get("kind")!r} manifest, '
                         f'expected a {kind!r} one')
    if data.get('version') != MANIFEST_VERSION:
        raise ValueError(f'manifest {path!r} has version '
                         f'{data.get("version")!r}; this mmbackdoor reads '
                         f'version {MANIFEST_VERSION}: recreate it')
    for key in ('format', 'kind', 'version'):
        data.pop(key)
    return data


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
        """The manifest's fields with ``realised_rate`` added."""
        return dict(asdict(self), realised_rate=self.realised_rate)

    def dump(self, path: str) -> None:
        """Write the manifest (kind ``'subset'``, :func:`dump_manifest`)."""
        dump_manifest(path, 'subset', self.to_dict())

    @classmethod
    def load(cls, path: str) -> 'PoisonManifest':
        """Read a manifest written by :meth:`dump`.

        Raises:
            FileNotFoundError: If ``path`` does not exist.
            ValueError: If the file is not a subset manifest of this
                version.
        """
        data = read_manifest(path, 'subset')
        data.pop('realised_rate', None)
        try:
            return cls(**data)
        except TypeError as err:
            raise ValueError(f'corrupt manifest {path!r}: {err}') from err

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
