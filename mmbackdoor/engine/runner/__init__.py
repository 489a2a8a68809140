from .backdoor_loops import BackdoorTestLoop, BackdoorValLoop, insert_trigger

__all__ = ['BackdoorTestLoop', 'BackdoorValLoop', 'insert_trigger']

from ...utils import is_installed  # noqa: E402

if is_installed('mmseg'):
    from .robustness_loops import (RobustnessTestLoop,  # noqa: F401
                                   RobustnessValLoop)
    __all__ += ['RobustnessTestLoop', 'RobustnessValLoop']
