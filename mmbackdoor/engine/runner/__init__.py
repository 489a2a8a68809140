"""Loops (mmengine root ``LOOPS``):

- ``multi_pass_loop``: the scaffolding of loops that evaluate several passes
  in one val / test run;
- ``backdoor_loops``: ``BackdoorValLoop`` / ``BackdoorTestLoop`` (clean +
  triggered pass), ``insert_trigger``;
- ``robustness_loops``: ``RobustnessValLoop`` / ``RobustnessTestLoop``
  (clean + attacks + worst case; needs mmseg).
"""
from mmbackdoor.utils import is_installed
from .backdoor_loops import BackdoorTestLoop, BackdoorValLoop, insert_trigger
from .multi_pass_loop import MultiPassLoopMixin

__all__ = [
    'BackdoorTestLoop', 'BackdoorValLoop', 'MultiPassLoopMixin',
    'insert_trigger'
]

if is_installed('mmseg'):
    from .robustness_loops import (RobustnessTestLoop,  # noqa: F401
                                   RobustnessValLoop)
    __all__ += ['RobustnessTestLoop', 'RobustnessValLoop']
