"""The one versioned JSON manifest format of mmbackdoor, for the poisoned
subset of a segmentation dataset (kind ``'subset'``, :class:`PoisonManifest`)
and for a folder of crafted poisoned video clips (kind ``'clips'``,
:func:`dump_clip_manifest` / :func:`load_clip_manifest`).

Every manifest is one JSON object that starts with::

    {"format": "mmbackdoor.manifest", "kind": "subset", "version": 2, ...}

and is written atomically (a temporary file renamed into place), so a reader
never sees half a manifest.
"""
import hashlib
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Sequence

import numpy as np

from mmbackdoor.utils.output_dir import atomic_files
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
    with atomic_files([path]) as (tmp, ):
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(data, f, indent=1)
            f.write('\n')
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


# --------------------------------------------------------------------------
# Kind 'clips': a folder of crafted poisoned video clips
# --------------------------------------------------------------------------
#: Body keys every clips manifest has, and their types.
CLIP_MANIFEST_KEYS = dict(
    target_class=int, clip_shape=(list, type(None)), videos=list)
#: Keys of the header every manifest starts with (never body keys).
MANIFEST_HEADER_KEYS = ('format', 'kind', 'version')


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes (hex), as the clips manifest records
    it."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def dump_clip_manifest(poison_dir: str, body: Dict[str, Any]) -> dict:
    """Write ``poison_dir/manifest.json``, a manifest of kind ``'clips'``
    (:func:`dump_manifest`); returns what was written.

    ``body`` holds at least :data:`CLIP_MANIFEST_KEYS`; each entry of
    ``videos`` has ``video`` (its key), ``file`` (relative to
    ``poison_dir``), ``frame_inds``, ``label`` and ``sha256``. Written by
    :func:`mmbackdoor.apis.clean_label.craft_poison`.
    """
    clash = sorted(set(body) & set(MANIFEST_HEADER_KEYS))
    if clash:
        raise ValueError(f'{clash} are header keys of every manifest; '
                         'choose other names')
    return dump_manifest(osp.join(poison_dir, MANIFEST_NAME), 'clips', body)


def load_clip_manifest(poison_dir: str, verify: bool = True) -> dict:
    """Read and validate a poison folder written by
    :func:`mmbackdoor.apis.clean_label.craft_poison`.

    Args:
        poison_dir (str): The folder.
        verify (bool): Also check every clip's ``.npy`` header (shape,
            ``uint8``) and SHA-256 against the manifest. Defaults to True.

    Returns:
        dict: The manifest's body (without ``format``, ``kind`` and
        ``version``).

    Raises:
        FileNotFoundError: If the folder, manifest or a clip is missing.
        ValueError: If the manifest is not a clips manifest of this version,
            or it or a clip is corrupt.
    """
    path = osp.join(poison_dir, MANIFEST_NAME)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'poison_dir {poison_dir!r} has no {MANIFEST_NAME}; create it '
            'with tools/video/craft_poison.py')
    manifest = read_manifest(path, 'clips')
    for name, kind in CLIP_MANIFEST_KEYS.items():
        if not isinstance(manifest.get(name), kind):
            raise ValueError(f'corrupt manifest {path!r}: missing or '
                             f'malformed key {name!r}')
    seen = set()
    for entry in manifest['videos']:
        if not (isinstance(entry, dict) and isinstance(entry.get('video'), str)
                and isinstance(entry.get('file'), str)
                and isinstance(entry.get('frame_inds'), list)
                and isinstance(entry.get('label'), int)):
            raise ValueError(
                f'corrupt manifest {path!r}: every video needs "video", '
                f'"file", "frame_inds" and "label"; got {entry!r}')
        if entry['video'] in seen:
            raise ValueError(f'corrupt manifest {path!r}: video '
                             f'{entry["video"]!r} listed twice')
        seen.add(entry['video'])
        if verify:
            _verify_clip(poison_dir, entry, manifest['clip_shape'])
    return manifest


def _verify_clip(poison_dir: str, entry: dict, clip_shape: list) -> None:
    """Check one clip's ``.npy`` header against ``clip_shape`` (``uint8``)
    and its SHA-256 against the entry's."""
    file = osp.join(poison_dir, entry['file'])
    if not osp.isfile(file):
        raise FileNotFoundError(
            f'poisoned clip {file!r} of video {entry["video"]!r} is missing')
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0
    }
    with open(file, 'rb') as f:
        try:
            reader = readers[np.lib.format.read_magic(f)]
            shape, _, dtype = reader(f)
        except (ValueError, KeyError) as err:
            raise ValueError(f'poisoned clip {file!r} is not a readable '
                             f'.npy file: {err!r}') from err
    if list(shape) != clip_shape or dtype != np.uint8:
        raise ValueError(
            f'poisoned clip {file!r} holds {dtype} {shape}; the manifest '
            f'says uint8 {tuple(clip_shape)}')
    if 'sha256' in entry and file_sha256(file) != entry['sha256']:
        raise ValueError(f'poisoned clip {file!r} does not match the SHA-256 '
                         'in the manifest (modified or corrupt)')


def load_clip(poison_dir: str, entry: dict) -> np.ndarray:
    """Load one stored poisoned clip (``F x H x W x C`` ``uint8``)."""
    return np.load(osp.join(poison_dir, entry['file']), allow_pickle=False)


def manifest_lookup(manifest: dict) -> Dict[str, dict]:
    """Manifest entries keyed by video identity."""
    return {entry['video']: entry for entry in manifest['videos']}
