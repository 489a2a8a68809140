"""Clean-label video backdoor (Zhao et al., CVPR 2020), the attacker's side:
the clean training set as the attacker reads it, and crafting the poison.

"Clean-Label Backdoor Attacks on Video Recognition Models". The chain is

1. :func:`~mmbackdoor.attacks.video.optimize_universal_trigger` -- a
   universal adversarial patch per frame, optimised on a clean recognizer
   so that non-target clips carrying it are classified as the target class
   (stored with :func:`~mmbackdoor.triggers.save_trigger`);
2. :func:`~mmbackdoor.attacks.video.enhance_clips` -- untargeted PGD on
   target-class clips, which removes their "natural" target features so
   that a model trained on them has to rely on the trigger;
3. :func:`craft_poison` -- picks a seeded fraction of the target-class
   training videos, enhances them, pastes the trigger and stores each clip
   losslessly with a JSON manifest (kind ``'clips'``,
   :func:`~mmbackdoor.poisoning.load_clip_manifest`) that
   :class:`~mmbackdoor.datasets.transforms.CleanLabelPoison` reads at
   training time. Labels never change.

:func:`attack_dataset` and :func:`endless_batches` read the clean training
set as the attacker does. The victim's and the evaluation's configs, and the
chain as one recipe, are :mod:`mmbackdoor.apis.video_backdoor`. Needs
mmaction.
"""
import copy
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence

import numpy as np
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import Tensor, nn
from torch.utils.data import DataLoader, Subset

from mmbackdoor.attacks.video import (batch_inputs, check_target_class,
                                      clip_view, enhance_clips,
                                      paste_patches, patches_to_tensor,
                                      unpack_frames)
from mmbackdoor.poisoning import (dataset_root, dump_clip_manifest,
                                  file_sha256, load_clip, sample_key,
                                  select_poisoned, video_path)
from mmbackdoor.poisoning.manifest import MANIFEST_HEADER_KEYS
from mmbackdoor.utils import (atomic_output_dir, dataset_cfg_with_pipeline,
                              type_name)

__all__ = [
    'CRAFT_META_KEYS', 'PIPELINES', 'attack_dataset', 'check_target_class',
    'check_trigger_fits', 'class_indices', 'craft_poison', 'endless_batches'
]

#: Meta keys :func:`attack_dataset` adds to ``PackActionInputs``.
CRAFT_META_KEYS = ('frame_dir', 'filename', 'frame_inds')
#: Pipelines :func:`attack_dataset` can take from a config.
PIPELINES = ('val', 'test', 'train')


# --------------------------------------------------------------------------
# The clean training set, read as the attacker does
# --------------------------------------------------------------------------
def attack_dataset(cfg: Config, pipeline: str = 'val'):
    """The clean training set of ``cfg`` loaded with another pipeline.

    The attacker optimises on training videos but reads them like the
    evaluation does (``pipeline='val'``: one deterministic clip, centre
    crop), or with the training augmentation (``'train'``). The pipeline's
    ``PackActionInputs`` also packs :data:`CRAFT_META_KEYS`.

    Args:
        cfg (Config): A clean mmaction config.
        pipeline (str): Which dataloader's pipeline: one of
            :data:`PIPELINES`. Defaults to ``'val'``.

    Returns:
        BaseActionDataset: The fully initialised dataset.
    """
    if pipeline not in PIPELINES:
        raise ValueError(
            f'pipeline must be one of {PIPELINES}, got {pipeline!r}')
    # below RepeatDataset, PoisonedDataset and similar wrappers
    dataset_cfg = dataset_cfg_with_pipeline(
        copy.deepcopy(cfg.train_dataloader.dataset))
    steps = copy.deepcopy(
        dataset_cfg_with_pipeline(
            cfg[f'{pipeline}_dataloader'].dataset)['pipeline'])
    pack = steps[-1] if steps else {}
    if type_name(pack.get('type')) != 'PackActionInputs':
        raise ValueError(f'the {pipeline} pipeline must end with '
                         'PackActionInputs')
    pack['meta_keys'] = tuple(pack.get('meta_keys', ('img_shape', ))) + \
        CRAFT_META_KEYS
    dataset_cfg.pipeline = steps
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmaction')):
        dataset = DATASETS.build(dataset_cfg)
    dataset.full_init()
    return dataset


def endless_batches(dataset, indices: Sequence[int], batch_size: int,
                    seed: int, num_workers: int = 0) -> Iterator[dict]:
    """Shuffled, endless, seeded batches of ``dataset[indices]``.

    ``torch.utils.data.Subset`` rather than ``BaseDataset.get_subset``:
    mmengine 0.10.7's ``_copy_without_annotation(memo=dict())`` shares its
    deepcopy memo between calls, so a second subset of the same process can
    receive stale objects (a transform replaced by an old dataset).
    """
    if not indices:
        raise ValueError('no videos to draw batches from')
    loader = Runner.build_dataloader(
        dict(
            dataset=Subset(dataset, list(indices)),
            sampler=dict(type='InfiniteSampler', shuffle=True, seed=seed),
            batch_size=batch_size,
            num_workers=num_workers,
            collate_fn=dict(type='pseudo_collate')),
        seed=seed)
    return iter(loader)


def _labels_of(dataset) -> List[int]:
    labels = []
    for i in range(len(dataset)):
        label = dataset.get_data_info(i)['label']
        if not isinstance(label, (int, np.integer)):
            raise ValueError('clean-label poisoning needs single-label '
                             f'datasets; video {i} has label {label!r}')
        labels.append(int(label))
    return labels


def class_indices(dataset, target_class: int,
                  same: bool = True) -> List[int]:
    """Indices of the dataset's videos of (``same=True``) or not of
    ``target_class``."""
    return [
        i for i, label in enumerate(_labels_of(dataset))
        if (label == target_class) == same
    ]


# --------------------------------------------------------------------------
# Crafting the poison folder
# --------------------------------------------------------------------------
def check_trigger_fits(trigger, sample_inputs: Tensor,
                       format_shape: str) -> None:
    """Raise if ``trigger`` does not fit the clips of one packed sample
    (frame count, size, channels), before anything is written."""
    clips = clip_view(sample_inputs[None], format_shape)
    clip_len, channels, height, width = clips.shape[2:]
    trigger.check_fits((height, width, channels))
    if trigger.num_frames not in (1, clip_len):
        raise ValueError(
            f'the trigger {trigger.trigger_file!r} has {trigger.num_frames} '
            f'per-frame patches but the pipeline yields clips of {clip_len} '
            'frames')


def _write_clips(model: nn.Module, dataset, indices: List[int], trigger,
                 out_dir: str, root: str, eps: float, step_size: float,
                 steps: int, batch_size: int, num_workers: int,
                 progress: bool) -> List[dict]:
    """Enhance, trigger and save the clips of ``dataset[indices]``; return
    their manifest entries."""
    format_shape = model.data_preprocessor.format_shape
    device = next(model.parameters()).device
    patches = None if trigger is None else patches_to_tensor(
        trigger.patches).to(device)
    loader = DataLoader(
        Subset(dataset, indices),
        batch_size=batch_size,
        num_workers=num_workers,
        shuffle=False,
        collate_fn=pseudo_collate)
    videos = []
    bar = ProgressBar(len(indices)) if progress and indices else None
    for batch in loader:
        adv = enhance_clips(model, batch_inputs(batch, device),
                            batch['data_samples'], eps, step_size, steps)
        if patches is not None:
            adv = paste_patches(adv, patches, trigger.corner, format_shape)
        for sample, data_sample in zip(adv, batch['data_samples']):
            meta = data_sample.metainfo
            if 'frame_inds' not in meta:
                raise KeyError('the crafting pipeline must pack "frame_inds" '
                               '(PackActionInputs meta_keys)')
            name = f'clips/{len(videos):05d}.npy'
            np.save(
                osp.join(out_dir, name),
                unpack_frames(sample, format_shape),
                allow_pickle=False)
            videos.append(
                dict(
                    video=sample_key(video_path(meta), root),
                    label=int(data_sample.gt_label.item()),
                    frame_inds=[int(i) for i in meta['frame_inds']],
                    file=name,
                    sha256=file_sha256(osp.join(out_dir, name))))
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.file.write('\n')
    return videos


def craft_poison(model: nn.Module,
                 dataset,
                 target_class: int,
                 out_dir: str,
                 trigger=None,
                 rate: float = 0.3,
                 eps: float = 8.0,
                 step_size: float = 1.0,
                 steps: int = 10,
                 seed: int = 0,
                 batch_size: int = 4,
                 num_workers: int = 0,
                 extra: Optional[dict] = None,
                 progress: bool = True,
                 overwrite: bool = False) -> dict:
    """Craft and store the poisoned target-class clips (Zhao et al., 2020).

    Selects ``round(rate * n)`` of the ``n`` target-class videos with
    :func:`~mmbackdoor.poisoning.selection.select_poisoned` (a pure function
    of the seed and the videos' paths relative to the data prefix),
    runs :func:`enhance_clips` on the clip the dataset's (deterministic)
    pipeline yields for each, pastes ``trigger``, and saves every clip as a
    ``uint8`` ``.npy`` (``F x H x W x C``, the ``results['imgs']`` layout)
    under ``out_dir/clips/`` plus ``out_dir/manifest.json`` (kind
    ``'clips'``, :func:`~mmbackdoor.poisoning.dump_clip_manifest`).
    Crash-safe: the clips and then the manifest are written into a temporary
    sibling folder that is renamed to ``out_dir`` at the end
    (:func:`mmbackdoor.utils.atomic_output_dir`), so ``out_dir`` never
    exists half-written (a killed run leaves it as it was; the next run
    removes the killed run's temporary folder). ``out_dir`` is checked only
    after the other arguments passed their checks, and with ``overwrite``
    replaced only once the new folder is complete.

    Args:
        model (nn.Module): The clean recognizer (unwrapped).
        dataset: The clean training set, with a deterministic pipeline that
            yields the clips to store (e.g. the val pipeline) and ends with
            ``PackActionInputs`` whose ``meta_keys`` include ``frame_dir`` or
            ``filename`` and ``frame_inds``.
        target_class (int): The target class.
        out_dir (str): New (or empty) folder; never inside (or around) the
            dataset (the policy of
            :func:`mmbackdoor.utils.check_output_dir`).
        trigger (UniversalTrigger, optional): Pasted after enhancement;
            None stores enhanced clips without a trigger. Defaults to None.
        rate (float): Fraction of target-class videos. Defaults to 0.3.
        eps (float): PGD budget in intensity levels. Defaults to 8.
        step_size (float): PGD step in intensity levels. Defaults to 1.
        steps (int): PGD steps; 0 disables enhancement. Defaults to 10.
        seed (int): Selection seed. Defaults to 0.
        batch_size (int): Clips per PGD batch. Defaults to 4.
        num_workers (int): Data loading workers. Defaults to 0.
        extra (dict, optional): More entries for the manifest (config,
            checkpoint, ...). Defaults to None.
        progress (bool): Show a progress bar. Defaults to True.
        overwrite (bool): Replace a non-empty ``out_dir`` (its contents are
            removed once the new folder is complete) instead of refusing.
            Defaults to False.

    Returns:
        dict: The manifest's body, as
        :func:`~mmbackdoor.poisoning.load_clip_manifest` returns it.
    """
    if not 0 <= rate <= 1:
        raise ValueError(f'rate must be in [0, 1], got {rate!r}')
    if eps < 0 or step_size <= 0 or steps < 0:
        raise ValueError('need eps >= 0, step_size > 0 and steps >= 0, got '
                         f'eps={eps}, step_size={step_size}, steps={steps}')
    reserved = sorted(set(extra or {}) & set(MANIFEST_HEADER_KEYS))
    if reserved:
        raise ValueError(f'extra must not set {reserved}: they are header '
                         'keys of every manifest')
    check_target_class(model, target_class)
    root = dataset_root(dataset)
    targets = class_indices(dataset, target_class)
    if not targets:
        raise ValueError(f'the dataset has no video of target_class '
                         f'{target_class}')
    keys = [
        sample_key(video_path(dataset.get_data_info(i)), root)
        for i in targets
    ]
    chosen = set(select_poisoned(keys, rate, seed))
    indices = [i for i, k in zip(targets, keys) if k in chosen]
    format_shape = model.data_preprocessor.format_shape
    if trigger is not None and indices:
        check_trigger_fits(trigger, dataset[indices[0]]['inputs'],
                           format_shape)
    with atomic_output_dir(
            out_dir, [root, getattr(dataset, 'data_root', '')],
            overwrite=overwrite) as tmp:
        os.makedirs(osp.join(tmp, 'clips'))
        videos = _write_clips(model, dataset, indices, trigger, tmp, root,
                              eps, step_size, steps, batch_size, num_workers,
                              progress)
        clip_shape = None if not videos else list(
            load_clip(tmp, videos[0]).shape)
        manifest = dict(
            attack='clean_label_video',
            target_class=target_class,
            rate=rate,
            seed=seed,
            eps=eps,
            step_size=step_size,
            steps=steps,
            format_shape=format_shape,
            num_target_videos=len(targets),
            clip_shape=clip_shape,
            trigger=None if trigger is None else dict(
                file=osp.abspath(trigger.trigger_file),
                sha256=file_sha256(trigger.trigger_file),
                corner=trigger.corner,
                num_frames=trigger.num_frames,
                size=trigger.size),
            videos=videos)
        manifest.update(extra or {})
        dump_clip_manifest(tmp, manifest)
    return manifest
