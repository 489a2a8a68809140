"""Fail early, and readably, when a real dataset is not where its config
says.

mmseg's and mmaction's datasets report missing files from deep inside
the loaders, without the config key or the layout: a missing or empty
Cityscapes ``data_root`` fails in mmengine's local file backend with
``No such file or directory: '<root>/leftImg8bit/train'``, an empty image
folder (or an empty ``ann_file``) with ``ValueError: need at least one
array to concatenate`` in ``BaseDataset._serialize_data``, and a
``RawframeDataset`` whose frame folder is missing builds and fails only when
the first sample is decoded, in a dataloader worker.
:func:`check_dataset_files` looks at a dataset *config*
before it is built -- ``data_root``, the ``data_prefix`` folders, the
``ann_file`` and the first sample they name -- and raises one
``FileNotFoundError`` naming every missing or empty path, the config key it
comes from and the layout the dataset type expects (see
``docs/data_preparation.md``).

Only the dataset types of :data:`DATASET_LAYOUTS` (the real datasets our
configs use) are checked; others (the embedded datasets, which generate
their files, or a user's own type) pass untouched, and so do paths on a
non-local storage backend (``s3://...``, ``backend_args`` of another
backend than ``'local'``).
"""
import os
import os.path as osp
from typing import Iterable, List, Optional

from mmbackdoor.utils import type_name

DOCS = 'docs/data_preparation.md'

# The folder tree each known dataset type expects, with the config's default
# paths (mmseg's / mmaction's base configs and ours).
DATASET_LAYOUTS = {
    'CityscapesDataset':
    """\
data/cityscapes/                 <- data_root
├── leftImg8bit/                 <- data_prefix.img_path: leftImg8bit/train
│   ├── train/<city>/<city>_<seq>_<frame>_leftImg8bit.png
│   └── val/<city>/...
└── gtFine/                      <- data_prefix.seg_map_path: gtFine/train
    ├── train/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png
    └── val/<city>/...
(*_gtFine_labelTrainIds.png are made from the *_gtFine_polygons.json by
 python tools/dataset_converters/cityscapes.py data/cityscapes --nproc 8)""",
    'ADE20KDataset':
    """\
data/ade/ADEChallengeData2016/   <- data_root
├── images/                      <- data_prefix.img_path: images/training
│   ├── training/ADE_train_00000001.jpg ...
│   └── validation/ADE_val_00000001.jpg ...
└── annotations/                 <- data_prefix.seg_map_path
    ├── training/ADE_train_00000001.png ...
    └── validation/ADE_val_00000001.png ...""",
    'PascalVOCDataset':
    """\
data/VOCdevkit/VOC2012/          <- data_root
├── JPEGImages/<id>.jpg          <- data_prefix.img_path
├── SegmentationClass/<id>.png   <- data_prefix.seg_map_path (VOC train/val)
├── SegmentationClassAug/<id>.png  <- data_prefix.seg_map_path (SBD aug)
└── ImageSets/Segmentation/      <- ann_file: one <id> a line
    ├── train.txt, val.txt
    └── aug.txt, trainaug.txt
(SegmentationClassAug/, aug.txt and trainaug.txt are made from SBD by
 python tools/dataset_converters/voc_aug.py data/VOCdevkit \\
     data/VOCdevkit/VOCaug --nproc 8)""",
    'RawframeDataset':
    """\
data/ucf101/                     (HMDB51: data/hmdb51/, hmdb51_* lists)
├── ucf101_train_split_1_rawframes.txt   <- ann_file (splits 1, 2, 3),
├── ucf101_val_split_1_rawframes.txt        '<class>/<video> <frames> <label>'
└── rawframes/                   <- data_prefix.img
    └── <class>/<video>/         e.g. ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01
        ├── img_00001.jpg        <- filename_tmpl 'img_{:05}.jpg', from 1
        └── ...
(made by mmaction's tools/data/build_rawframes.py and build_file_list.py)""",
    'VideoDataset':
    """\
data/ucf101/                     (HMDB51: data/hmdb51/, hmdb51_* lists)
├── ucf101_train_split_1_videos.txt   <- ann_file (splits 1, 2, 3),
├── ucf101_val_split_1_videos.txt        '<class>/<video>.avi <label>'
└── videos/                      <- data_prefix.video
    └── <class>/<video>.avi    e.g. ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi
(the lists: mmaction's tools/data/build_file_list.py ... --format videos)""",
}

# What each type reads: its data_prefix keys (image / label folders for
# segmentation, the frame or video folder for recognition), whether it
# needs an ann_file, and its default file suffixes.
_SEG = dict(kind='seg', prefix_keys=('img_path', 'seg_map_path'))
_SPECS = {
    'CityscapesDataset':
    dict(_SEG, img_suffix='_leftImg8bit.png',
         seg_map_suffix='_gtFine_labelTrainIds.png',
         seg_map_hint="made by mmseg's tools/dataset_converters/"
         'cityscapes.py'),
    'ADE20KDataset':
    dict(_SEG, img_suffix='.jpg', seg_map_suffix='.png'),
    'PascalVOCDataset':
    dict(_SEG, img_suffix='.jpg', seg_map_suffix='.png',
         seg_map_hint="SegmentationClassAug: made by mmseg's "
         'tools/dataset_converters/voc_aug.py'),
    'RawframeDataset':
    dict(kind='rawframes', prefix_keys=('img', ), needs_ann_file=True),
    'VideoDataset':
    dict(kind='videos', prefix_keys=('video', ), needs_ann_file=True),
}


def _is_remote(path: str) -> bool:
    return '://' in path


def _join(root: str, path: str) -> str:
    """Join as mmengine's ``BaseDataset._join_prefix`` does."""
    if root and not osp.isabs(path):
        return osp.join(root, path)
    return path


def _shown(path: str) -> str:
    shown = repr(path)
    if not osp.isabs(path):
        shown += f' (resolved: {osp.abspath(path)})'
    return shown


def _dir_problem(path: str) -> Optional[str]:
    if not osp.exists(path):
        return f'{_shown(path)} does not exist'
    if not osp.isdir(path):
        return f'{_shown(path)} is not a folder'
    with os.scandir(path) as entries:
        if next(entries, None) is None:
            return f'{_shown(path)} is empty'
    return None


def _file_problem(path: str) -> Optional[str]:
    if not osp.exists(path):
        return f'{_shown(path)} does not exist'
    if not osp.isfile(path):
        return f'{_shown(path)} is not a file'
    if osp.getsize(path) == 0:
        return f'{_shown(path)} is empty'
    return None


def _first_line(path: str) -> str:
    with open(path) as f:
        return next((line.strip() for line in f if line.strip()), '')


def _first_file(folder: str, suffix: str) -> Optional[str]:
    """The first file under ``folder`` (recursively) ending in ``suffix``,
    relative to ``folder``."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(suffix):
                return osp.relpath(osp.join(dirpath, name), folder)
    return None


def _check_samples(cfg: dict, spec: dict, key: str, prefixes: dict,
                   ann_file: str) -> List[str]:
    """Problems with the first sample the ann_file / folders name: the
    ann_file can list what is not there, a label folder can lack the
    converted maps."""
    problems = []
    kind = spec['kind']
    if kind == 'seg':
        img_dir = prefixes.get('img_path')
        seg_dir = prefixes.get('seg_map_path')
        img_suffix = cfg.get('img_suffix', spec['img_suffix'])
        seg_suffix = cfg.get('seg_map_suffix', spec['seg_map_suffix'])
        if img_dir is None:
            return problems
        if ann_file and not osp.isdir(ann_file):
            name = _first_line(ann_file)  # BaseSegDataset adds the suffix
            img = osp.join(img_dir, name + img_suffix)
            if not osp.isfile(img):
                problems.append(
                    f'{key}.ann_file lists {name!r}, but its image '
                    f'{_shown(img)} does not exist')
        else:
            rel = _first_file(img_dir, img_suffix)
            if rel is None:
                problems.append(
                    f'{key}.data_prefix.img_path: no *{img_suffix} file '
                    f'under {_shown(img_dir)}')
                return problems
            name = rel[:-len(img_suffix)]
        if seg_dir is not None:
            seg = osp.join(seg_dir, name + seg_suffix)
            if not osp.isfile(seg):
                hint = spec.get('seg_map_hint')
                problems.append(
                    f'{key}.data_prefix.seg_map_path: the label map '
                    f'{_shown(seg)} of the first image does not exist' +
                    (f' ({hint})' if hint else ''))
        return problems
    # rawframes / videos: the first video of the list
    line = _first_line(ann_file)
    delimiter = cfg.get('delimiter', ' ') if kind == 'videos' else None
    entry = line.split(delimiter)[0]
    folder = next(iter(prefixes.values()), None)
    path = _join(folder, entry) if folder else entry
    if kind == 'videos':
        if not osp.isfile(path):
            problems.append(f'{key}.ann_file lists {entry!r}, but '
                            f'{_shown(path)} does not exist')
    elif not osp.isdir(path):
        problems.append(f'{key}.ann_file lists {entry!r}, but its frame '
                        f'folder {_shown(path)} does not exist')
    elif (cfg.get('modality', 'RGB') == 'RGB'
          and not cfg.get('with_offset', False)):
        tmpl = cfg.get('filename_tmpl', 'img_{:05}.jpg')
        frame = osp.join(path, tmpl.format(cfg.get('start_index', 1)))
        if not osp.isfile(frame):
            problems.append(
                f'{key}: the first frame {_shown(frame)} of {entry!r} does '
                f'not exist (filename_tmpl={tmpl!r})')
    return problems


def dataset_file_problems(cfg: dict, key: str = 'dataset') -> List[str]:
    """The missing or empty paths of the dataset config ``cfg`` (one of the
    types of :data:`DATASET_LAYOUTS`; ``[]`` for any other type), each named
    with the config key ``key.<field>`` it comes from."""
    spec = _SPECS.get(type_name(cfg.get('type')))
    backend = (cfg.get('backend_args') or {}).get('backend', 'local')
    if spec is None or backend != 'local':
        return []
    data_root = cfg.get('data_root') or ''
    if _is_remote(data_root):
        return []
    if data_root:
        problem = _dir_problem(data_root)
        if problem:  # everything else is below it
            return [f'{key}.data_root: {problem}']
    problems = []
    prefixes = {}
    for name, prefix in (cfg.get('data_prefix') or {}).items():
        if name not in spec['prefix_keys'] or prefix is None:
            continue
        path = _join(data_root, prefix) if prefix else data_root
        if not path or _is_remote(path):
            continue
        prefixes[name] = path
        problem = _dir_problem(path)
        if problem:
            problems.append(f'{key}.data_prefix.{name}: {problem}')
    ann_file = cfg.get('ann_file') or ''
    if ann_file:
        ann_file = _join(data_root, ann_file)
        # mmseg reads the folders when ann_file is a folder (or empty)
        if not (spec['kind'] == 'seg' and osp.isdir(ann_file)):
            problem = _file_problem(ann_file)
            if problem:
                problems.append(f'{key}.ann_file: {problem}')
    elif spec.get('needs_ann_file'):
        problems.append(f'{key}.ann_file: not set')
    if not problems:
        problems = _check_samples(cfg, spec, key, prefixes, ann_file)
    return problems


def _report(failures: List[tuple]) -> str:
    """The error message of ``(cfg, key, problems)`` triples: the problems
    of each dataset, then the expected layout of each type once."""
    lines = []
    names = []
    for cfg, key, problems in failures:
        name = type_name(cfg.get('type'))
        names += [name] if name not in names else []
        lines.append(
            f'{name} ({key}): the dataset is not where the config says:')
        lines += [f'  - {problem}' for problem in problems]
    for name in names:
        lines += [
            f'Expected layout of a {name} (paths as in the configs; point '
            'data_root / data_prefix / ann_file at your copy, e.g. with '
            '--cfg-options):', DATASET_LAYOUTS[name]
        ]
    lines.append(f'How to download and convert the datasets: {DOCS} in the '
                 'mmbackdoor repository.')
    return '\n'.join(lines)


def _walk(cfg: dict, key: str):
    """``(config, key)`` of ``cfg`` and every dataset config in it: below
    wrappers (``dataset=``) and the parts of a ``ConcatDataset``
    (``datasets=``)."""
    if not isinstance(cfg, dict):
        return
    yield cfg, key
    if isinstance(cfg.get('dataset'), dict):
        yield from _walk(cfg['dataset'], f'{key}.dataset')
    for i, part in enumerate(cfg.get('datasets') or ()):
        yield from _walk(part, f'{key}.datasets[{i}]')


def _failures(cfg: dict, key: str) -> List[tuple]:
    return [(part, part_key, problems)
            for part, part_key in _walk(cfg, key)
            for problems in [dataset_file_problems(part, part_key)]
            if problems]


def check_dataset_files(cfg: dict, key: str = 'dataset') -> None:
    """Check, before it is built, that the files the dataset config ``cfg``
    reads are there (see the module's docstring); the datasets it wraps and
    the parts of a ``ConcatDataset`` included.

    Args:
        cfg (dict): A dataset config. Types other than those of
            :data:`DATASET_LAYOUTS` are not checked.
        key (str): The config key of ``cfg``, for the message
            (e.g. ``'train_dataloader.dataset'``).

    Raises:
        FileNotFoundError: If ``data_root``, a ``data_prefix`` folder or the
            ``ann_file`` is missing or empty, or the first sample they name
            is missing; the message names each path, its config key and the
            expected layout.
    """
    failures = _failures(cfg, key)
    if failures:
        raise FileNotFoundError(_report(failures))


def check_dataloader_files(
    cfg: dict,
    loaders: Iterable[str] = ('train_dataloader', 'val_dataloader',
                              'test_dataloader')
) -> None:
    """:func:`check_dataset_files` for the datasets of the dataloaders
    ``loaders`` of the full config ``cfg`` (those it has), all problems in
    one error.

    Raises:
        FileNotFoundError: See :func:`check_dataset_files`.
    """
    failures = [
        failure for loader in loaders
        for failure in _failures((cfg.get(loader) or {}).get('dataset'),
                                 f'{loader}.dataset')
    ]
    if failures:
        raise FileNotFoundError(_report(failures))
