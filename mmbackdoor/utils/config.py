"""One rule each for walking dataset configs / datasets and naming
registered types."""
from typing import Any, Iterator, List, Union

from mmengine.registry import TRANSFORMS


def type_name(type_value: Any) -> str:
    """The registered name of a config's ``type`` without its scope:
    ``'mmseg.PackSegInputs'`` and the class ``PackSegInputs`` both give
    ``'PackSegInputs'``."""
    if isinstance(type_value, str):
        return type_value.split('.')[-1]
    return getattr(type_value, '__name__', str(type_value))


def dataset_cfg_with_pipeline(dataset_cfg: dict) -> dict:
    """The dataset config that owns the pipeline, below wrappers such as
    ``RepeatDataset`` or ``PoisonedDataset`` (the same object, not a copy).

    Raises:
        ValueError: If no config on the way down has a ``pipeline``
            (e.g. a ``ConcatDataset``: see :func:`dataset_cfgs`).
    """
    cfg = dataset_cfg
    while 'pipeline' not in cfg and 'dataset' in cfg:
        cfg = cfg['dataset']
    if 'pipeline' not in cfg:
        raise ValueError(
            f"expected a dataset config with a pipeline, got type="
            f"{dataset_cfg.get('type')!r}; take the parts of a "
            'ConcatDataset one at a time')
    return cfg


def dataset_cfgs(dataset_cfg: dict) -> List[dict]:
    """The pipeline-owning dataset configs of ``dataset_cfg``: one, or one
    per part of a ``ConcatDataset`` (``datasets=[...]``)."""
    cfg = dataset_cfg
    while 'datasets' not in cfg and 'pipeline' not in cfg and 'dataset' in cfg:
        cfg = cfg['dataset']
    if 'datasets' in cfg:
        return [
            part for sub in cfg['datasets'] for part in dataset_cfgs(sub)
        ]
    return [dataset_cfg_with_pipeline(cfg)]


def dataset_with_pipeline(dataset: Any) -> Any:
    """The built dataset that owns the pipeline and the data list, below
    wrappers such as ``RepeatDataset``.

    Raises:
        TypeError: If there is none (e.g. a ``ConcatDataset``).
    """
    while not hasattr(dataset, 'pipeline') and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    if not hasattr(dataset, 'pipeline'):
        raise TypeError(
            f'{type(dataset).__name__} has no pipeline; wrap each dataset of '
            'a ConcatDataset in PoisonedDataset separately')
    return dataset


def iter_transforms(transform: Any) -> Iterator[Any]:
    """``transform`` and every transform nested in it (``Compose``,
    ``RandomChoice``, ``RandomApply``, ``KeyMapper``, ...; built objects or
    configs), depth first."""
    yield transform
    children = transform.get('transforms') if isinstance(
        transform, dict) else getattr(transform, 'transforms', None)
    if isinstance(children, dict):
        children = [children]
    for child in children or ():
        yield from iter_transforms(child)


def is_poison_transform(transform: Union[dict, Any]) -> bool:
    """The one rule for a poisoning transform: its class binds itself to
    the dataset it poisons (``bind_dataset``, as ``BasePoison`` and its
    subclasses do). ``transform`` is a built transform or its config (the
    type is looked up in mmengine's root ``TRANSFORMS``)."""
    if isinstance(transform, dict):
        cls = transform.get('type')
        if isinstance(cls, str):
            cls = TRANSFORMS.get(cls)
        return isinstance(cls, type) and hasattr(cls, 'bind_dataset')
    return hasattr(transform, 'bind_dataset')
