"""Common machinery of the segmentation poisoning transforms."""
import copy
import os
from abc import abstractmethod
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadAnnotations as MMCVLoadAnnotations
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from PIL import Image

from mmbackdoor.poisoning.manifest import PoisonManifest
from mmbackdoor.poisoning.selection import (keys_fingerprint, sample_key,
                                            select_poisoned)
from mmbackdoor.triggers import BaseTrigger
from mmbackdoor.utils import dataset_with_pipeline, iter_transforms
from .apply_trigger import build_trigger, trigger_key


class BasePoison(BaseTransform):
    """Base of the poisoning transforms: trigger + selection + relabelling.

    A sample is poisoned iff its key (image path relative to the dataset's
    image folder, see :mod:`mmbackdoor.poisoning.selection`) is in the
    poisoned subset. The subset is fixed once, when the dataset is built
    (:meth:`bind_dataset`, called by
    :class:`mmbackdoor.poisoning.PoisonedDataset`): either read from
    ``manifest`` or computed from ``(seed, key)`` as the ``round(rate *
    n_eligible)`` eligible keys with the smallest hash scores. It is thus the
    same in every epoch, dataloader worker, distributed rank and resumed run.

    With ``mode='bernoulli'`` (the original authors' code), each fetch of an
    eligible sample is poisoned with probability ``rate`` drawn from numpy's
    global RNG instead; no binding is needed, but the subset changes from
    epoch to epoch and the realised rate is only ``rate`` in expectation.

    Subclasses define eligibility and the new label map.

    Args:
        trigger (dict | BaseTrigger): Trigger config (registry ``TRIGGERS``)
            or instance.
        rate (float, optional): Fraction of eligible images poisoned, in
            ``[0, 1]``. Required unless ``manifest`` is given; if both are
            given they must agree.
        seed (int, optional): Selection seed. Defaults to the manifest's
            seed, else 0.
        manifest (str, optional): JSON manifest to read the subset from.
        save_manifest (str, optional): Where to write the computed subset
            (by the main process).
        mode (str): ``'subset'`` or ``'bernoulli'``. Defaults to
            ``'subset'``.
        ignore_index (int): Label of ignored pixels, never relabelled.
            Defaults to 255.
    """

    MODES = ('subset', 'bernoulli')
    #: Whether eligibility depends on the label map (loaded when binding).
    needs_labels = False

    def __init__(self,
                 trigger: Union[dict, BaseTrigger],
                 rate: Optional[float] = None,
                 seed: Optional[int] = None,
                 manifest: Optional[str] = None,
                 save_manifest: Optional[str] = None,
                 mode: str = 'subset',
                 ignore_index: int = 255) -> None:
        self.trigger = build_trigger(trigger)
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got {mode!r}')
        if rate is not None and (isinstance(rate, bool)
                                 or not isinstance(rate, Real)
                                 or not 0.0 <= rate <= 1.0):
            raise ValueError(f'rate must be a number in [0, 1], got {rate!r}')
        if seed is not None and (not isinstance(seed, Integral)
                                 or isinstance(seed, bool)):
            raise TypeError(f'seed must be an int, got {seed!r}')
        self._manifest: Optional[PoisonManifest] = None
        if manifest is not None:
            if mode != 'subset':
                raise ValueError("manifest is only used with mode='subset'")
            try:
                self._manifest = PoisonManifest.load(manifest)
            except (FileNotFoundError, ValueError) as err:
                raise type(err)(f'manifest={manifest!r}: {err}') from err
            for arg, value in (('rate', rate), ('seed', seed)):
                stored = getattr(self._manifest, arg)
                if value is not None and value != stored:
                    raise ValueError(
                        f'{arg}={value!r} disagrees with manifest={manifest!r}'
                        f' ({arg}={stored!r})')
            rate, seed = self._manifest.rate, self._manifest.seed
        elif rate is None:
            raise ValueError('rate is required unless manifest is given')
        if save_manifest is not None and manifest is not None:
            raise ValueError('give manifest (read) or save_manifest (write), '
                             'not both')
        if not isinstance(ignore_index, Integral):
            raise TypeError(
                f'ignore_index must be an int, got {ignore_index!r}')
        self.rate = float(rate)
        self.seed = 0 if seed is None else int(seed)
        self.manifest = manifest
        self.save_manifest = save_manifest
        self.mode = mode
        self.ignore_index = int(ignore_index)
        self._poisoned: Optional[frozenset] = None
        self._img_dir: Optional[str] = None
        #: The manifest of the bound dataset (read or computed).
        self.bound_manifest: Optional[PoisonManifest] = None

    # ------------------------------------------------------------------
    # attack-specific parts
    # ------------------------------------------------------------------
    @abstractmethod
    def resolve_classes(self, classes: Sequence[str]) -> None:
        """Resolve class names to indices and validate them against the
        dataset's ``classes`` (raises ``ValueError`` naming the key)."""

    @abstractmethod
    def attack_params(self) -> Dict[str, Any]:
        """JSON-serialisable parameters recorded in (and checked against) a
        manifest."""

    @abstractmethod
    def relabel(self, label: np.ndarray) -> np.ndarray:
        """The poisoned label map (new array, same shape and dtype)."""

    def is_eligible(self, label: np.ndarray) -> bool:
        """Whether an image with this label map may be poisoned."""
        return True

    # ------------------------------------------------------------------
    # selection
    # ------------------------------------------------------------------
    def bind_dataset(self, dataset: Any) -> Optional[PoisonManifest]:
        """Fix the poisoned subset for ``dataset`` and validate the settings
        against it.

        Resolves class names, checks that the trigger fits every image,
        computes eligibility (loading the label maps with the pipeline's own
        ``LoadAnnotations`` when it depends on them), then reads
        ``manifest`` (checked to belong to this dataset and attack) or
        selects the subset and writes ``save_manifest``.

        Args:
            dataset (BaseDataset): The dataset whose pipeline holds this
                transform (wrappers such as ``RepeatDataset`` are unwrapped).

        Returns:
            PoisonManifest | None: The subset, also kept as
            :attr:`bound_manifest` (None in ``'bernoulli'`` mode, which only
            resolves the classes).
        """
        inner = dataset_with_pipeline(dataset)
        classes = list(inner.metainfo.get('classes') or ())
        if not classes:
            raise ValueError(f'{type(inner).__name__} has no classes in its '
                             'metainfo; poisoning needs them')
        self.resolve_classes(classes)
        if self.mode == 'bernoulli':
            return None
        infos = [inner.get_data_info(i) for i in range(len(inner))]
        img_dir = inner.data_prefix.get('img_path') or inner.data_root
        keys = [sample_key(info['img_path'], img_dir) for info in infos]
        if len(set(keys)) != len(keys):
            raise ValueError('the dataset lists some images twice; sample '
                             'keys must be unique')
        self._check_trigger_fits(infos)
        name = type(self).__name__
        if self._manifest is not None:
            self._manifest.check_matches(
                attack=name,
                params=self.attack_params(),
                classes=classes,
                keys=keys,
                path=self.manifest)
            manifest = self._manifest
        else:
            eligible = (
                self._eligibility(inner, infos)
                if self.needs_labels else [True] * len(keys))
            manifest = PoisonManifest(
                attack=name,
                params=self.attack_params(),
                seed=self.seed,
                rate=self.rate,
                classes=classes,
                num_samples=len(keys),
                keys_sha256=keys_fingerprint(keys),
                num_eligible=int(sum(eligible)),
                poisoned=select_poisoned(keys, self.rate, self.seed, eligible),
                extra=dict(trigger=repr(self.trigger)))
            if self.save_manifest is not None and is_main_process():
                manifest.dump(self.save_manifest)
        self._poisoned = frozenset(manifest.poisoned)
        self._img_dir = img_dir
        self.bound_manifest = manifest
        print_log(
            f'{name}: poisoning {len(manifest.poisoned)} of '
            f'{manifest.num_eligible} eligible images ({manifest.num_samples}'
            f' in total; requested rate {self.rate:.4f}, realised '
            f'{manifest.realised_rate:.4f})',
            logger='current')
        return manifest

    def _check_trigger_fits(self, infos: List[dict]) -> None:
        """Raise (naming the trigger's key) if the trigger is larger than
        some image; reads only image headers."""
        sizes = set()
        for info in infos:
            with Image.open(info['img_path']) as im:
                sizes.add((im.height, im.width))
        for h, w in sorted(sizes):
            try:
                self.trigger.check_fits((h, w))
            except ValueError as err:
                raise ValueError(f'trigger={self.trigger!r}: {err}') from err

    def _eligibility(self, dataset: Any, infos: List[dict]) -> List[bool]:
        """Eligibility of every sample, from its label map loaded by the
        pipeline's ``LoadAnnotations`` (so ``reduce_zero_label`` and
        ``label_map`` apply exactly as in training), in input order."""
        loaders = [
            t for t in iter_transforms(dataset.pipeline)
            if isinstance(t, MMCVLoadAnnotations)
        ]
        if not loaders:
            raise ValueError(
                f'{type(self).__name__} needs the label maps to find '
                'eligible images, but the pipeline has no LoadAnnotations')
        loader = loaders[0]

        def eligible(info: dict) -> bool:
            results = loader(copy.deepcopy(info))
            return bool(self.is_eligible(results['gt_seg_map']))

        # Label decoding releases the GIL: a thread pool scans in parallel.
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as ex:
            return list(ex.map(eligible, infos))

    def _is_poisoned(self, results: Dict) -> bool:
        if self.mode == 'bernoulli':
            label = results.get('gt_seg_map')
            eligible = (self.is_eligible(label) if self.needs_labels else True)
            return bool(eligible and np.random.rand() < self.rate)
        if self._poisoned is None:
            raise RuntimeError(
                f'{type(self).__name__} has no poisoned subset yet: wrap the '
                "dataset in dict(type='PoisonedDataset', dataset=...) so the "
                "subset is fixed when the dataset is built, or use "
                "mode='bernoulli'")
        return sample_key(results['img_path'], self._img_dir) in self._poisoned

    # ------------------------------------------------------------------
    # transform
    # ------------------------------------------------------------------
    def transform(self, results: Dict) -> Dict:
        """Flag the sample; if poisoned, stamp the trigger and relabel every
        map in ``results['seg_fields']``."""
        poisoned = self._is_poisoned(results)
        results['poisoned'] = poisoned
        if poisoned:
            results['img'] = self.trigger.apply(results['img'],
                                                trigger_key(results))
            for field in results.get('seg_fields', []):
                results[field] = self.relabel(results[field])
        return results

    def _repr_common(self) -> str:
        return (f'trigger={self.trigger!r}, rate={self.rate!r}, '
                f'seed={self.seed}, manifest={self.manifest!r}, '
                f'save_manifest={self.save_manifest!r}, mode={self.mode!r}, '
                f'ignore_index={self.ignore_index}')
