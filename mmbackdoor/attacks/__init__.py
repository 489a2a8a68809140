"""Adversarial (PGD-family) attacks, registered in ``ATTACKS``.

Not to be confused with *poisoning* (backdoor triggers and poisoned data,
``mmbackdoor.triggers`` / ``mmbackdoor.poisoning``). The segmentation attacks
need mmseg and are only imported when it is installed.
"""
from ..utils import is_installed

__all__ = []

if is_installed('mmseg'):
    from .base_seg_attack import AttackResult, BaseSegAttack, build_attack
    from .cospgd import CosPGD
    from .eroseg import EroSeg
    from .pgd import PGD
    from .segpgd import SegPGD

    __all__ += [
        'AttackResult', 'BaseSegAttack', 'build_attack', 'PGD', 'SegPGD',
        'CosPGD', 'EroSeg'
    ]
