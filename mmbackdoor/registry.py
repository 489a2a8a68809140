"""Registries of mmbackdoor.

``TRIGGERS`` and ``ATTACKS`` hold the plugin's own kinds (trigger patterns and
adversarial attacks). Transforms, hooks, metrics, loops and datasets register
into the mmengine root registries or into ``mmseg.registry`` /
``mmaction.registry``, so configs whose default scope is ``mmseg`` or
``mmaction`` find them without a prefix.
"""
from mmengine.registry import Registry

TRIGGERS = Registry('trigger', locations=['mmbackdoor.triggers'])
ATTACKS = Registry('attack', locations=['mmbackdoor.attacks'])
