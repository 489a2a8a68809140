"""Robustness-evaluation settings shared by ``robustness_eval.py`` and the
demo: the attacks of one budget, EroSeg's background classes."""
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.registry import DATASETS

from mmbackdoor.registry import ATTACKS


def background_classes(cfg: Config) -> List[int]:
    """Indices of the classes named ``background`` (any case) in the test
    dataset of ``cfg`` (its class ``METAINFO`` updated by the config's
    ``metainfo``).

    Raises:
        ValueError: If the dataset type is not registered.
    """
    dataset = cfg.test_dataloader.dataset
    with DATASETS.switch_scope_and_registry(
            cfg.get('default_scope')) as registry:
        dataset_cls = registry.get(dataset.type)
    if dataset_cls is None:
        raise ValueError(f'dataset type {dataset.type!r} is not registered; '
                         'give the background classes explicitly')
    metainfo = dict(getattr(dataset_cls, 'METAINFO', {}))
    metainfo.update(dataset.get('metainfo') or {})
    return [
        i for i, name in enumerate(metainfo.get('classes', ()))
        if name.lower() == 'background'
    ]


def robustness_attacks(cfg: Config,
                       names: Sequence[str],
                       budget: dict,
                       background: Optional[List[int]] = None
                       ) -> Dict[str, dict]:
    """One attack config per name, all with ``budget`` (``eps``, ``alpha``,
    ``steps``, ...), for ``RobustnessTestLoop(attacks=...)``. EroSeg gets
    ``background`` or else :func:`background_classes` of ``cfg``.

    Raises:
        ValueError: If a name is not a registered attack.
    """
    unknown = [name for name in names if name not in ATTACKS.module_dict]
    if unknown:
        raise ValueError(f'attacks: unknown {unknown}; registered: '
                         f'{sorted(ATTACKS.module_dict)}')
    attacks = {name: dict(type=name, **budget) for name in names}
    if 'EroSeg' in attacks:
        attacks['EroSeg']['background_classes'] = (
            background_classes(cfg) if background is None else background)
    return attacks
