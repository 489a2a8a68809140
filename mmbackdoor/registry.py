"""Registries of mmbackdoor.

``TRIGGERS`` and ``ATTACKS`` hold the plugin's own kinds (trigger patterns and
adversarial attacks). Transforms, hooks, metrics, loops and datasets register
into the mmengine root registries or into ``mmseg.registry`` /
``mmaction.registry``, so configs whose default scope is ``mmseg`` or
``mmaction`` find them without a prefix.

``TRIGGERS`` and ``ATTACKS`` are root registries of scope ``mmbackdoor``: no
mmengine root registry holds these kinds, so neither mmseg nor mmaction has a
child of them. mmengine's ``build_from_cfg`` first switches to the registry
of the current default scope (``Registry.switch_scope_and_registry``); for a
root registry without an ``mmseg`` / ``mmaction`` child it warns "Failed to
search registry with scope ..." and falls back to the registry itself. Their
build function therefore builds in the registry's own scope, with mmengine's
``_scope_`` key (the way a config builds a module of another codebase, e.g.
``dict(_scope_='mmpretrain', type=...)``), unless the config sets ``_scope_``
itself. A plain ``type='PGD'`` and a prefixed ``type='mmbackdoor.PGD'`` both
resolve, under any default scope, without a warning.
"""
from mmengine.registry import Registry, build_from_cfg


def build_in_own_scope(cfg, registry: Registry, default_args=None):
    """``build_from_cfg`` in ``registry``'s own scope.

    Args:
        cfg (dict | ConfigDict): The config; a ``_scope_`` key in it wins.
        registry (Registry): The registry to build from.
        default_args (dict, optional): Default arguments of the built object.

    Returns:
        The built object.
    """
    if isinstance(cfg, dict) and '_scope_' not in cfg:
        cfg = cfg.copy()
        cfg['_scope_'] = registry.scope
    return build_from_cfg(cfg, registry, default_args)


TRIGGERS = Registry(
    'trigger',
    build_func=build_in_own_scope,
    scope='mmbackdoor',
    locations=['mmbackdoor.triggers'])
ATTACKS = Registry(
    'attack',
    build_func=build_in_own_scope,
    scope='mmbackdoor',
    locations=['mmbackdoor.attacks'])
