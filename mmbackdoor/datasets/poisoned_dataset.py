"""Dataset wrapper that fixes the poisoned subset when the dataset is built."""
import copy
from typing import Any, List, Union

from mmengine.dataset import BaseDataset
from mmengine.registry import DATASETS

from mmbackdoor.utils import (dataset_with_pipeline, is_poison_transform,
                              iter_transforms)
from .data_check import check_dataset_files


def find_poison_transforms(dataset: Any) -> List[Any]:
    """The poisoning transforms (:func:`~mmbackdoor.utils.is_poison_transform`)
    in the pipeline of ``dataset`` or of the dataset it wraps, nested ones
    included."""
    return [
        t for t in iter_transforms(dataset_with_pipeline(dataset).pipeline)
        if is_poison_transform(t)
    ]


@DATASETS.register_module()
class PoisonedDataset:
    """Wrap a dataset whose pipeline poisons samples, and fix the poisoned
    subset when the dataset is built.

    Like mmdet's ``MultiImageMixDataset`` gives its mixing transforms access
    to the dataset, this wrapper hands the inner dataset to every poisoning
    transform in its pipeline (``ImageLevelPoison``, ``FineGrainedPoison``;
    any transform with a ``bind_dataset`` method). Each one then validates
    its classes, trigger and manifest against the dataset and chooses its
    subset as a pure function of ``(seed, sample key)``, so bad settings fail
    at build time and the subset is the same in every epoch, worker, rank
    and resumed run. Indexing, length and metainfo are the inner dataset's.

    A dataset config of a real dataset (Cityscapes, ADE20K, Pascal VOC,
    ``RawframeDataset``, ``VideoDataset``) is checked before it is built: a
    missing or empty ``data_root`` / ``data_prefix`` folder / ``ann_file``
    raises ``FileNotFoundError`` with the path, its config key and the
    expected layout (:func:`~mmbackdoor.datasets.check_dataset_files`).

    Args:
        dataset (dict | BaseDataset): The dataset (config or instance).

    Examples:
        >>> train_dataloader = dict(dataset=dict(
        ...     type='PoisonedDataset',
        ...     dataset=dict(type='CityscapesDataset', ...,
        ...                  pipeline=[..., dict(type='FineGrainedPoison',
        ...                                      ...), ...])))
    """

    def __init__(self, dataset: Union[dict, BaseDataset]) -> None:
        if isinstance(dataset, dict):
            check_dataset_files(dataset, 'PoisonedDataset.dataset')
            dataset = DATASETS.build(copy.deepcopy(dataset))
        self.dataset = dataset
        if hasattr(dataset, 'full_init'):
            dataset.full_init()
        self.poison_transforms = find_poison_transforms(dataset)
        if not self.poison_transforms:
            raise ValueError(
                'PoisonedDataset: the pipeline of the wrapped '
                f'{type(dataset).__name__} has no poisoning transform '
                '(ImageLevelPoison, FineGrainedPoison)')
        self.manifests = [
            t.bind_dataset(dataset) for t in self.poison_transforms
        ]

    @property
    def metainfo(self) -> dict:
        """The inner dataset's metainfo."""
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        """No-op: the inner dataset is fully initialised in ``__init__``.
        Present because ``ConcatDataset`` calls it on its parts."""

    def get_data_info(self, idx: int) -> dict:
        """The inner dataset's data info of ``idx``."""
        return self.dataset.get_data_info(idx)

    def __getitem__(self, idx: int) -> Any:
        return self.dataset[idx]

    def __len__(self) -> int:
        return len(self.dataset)
