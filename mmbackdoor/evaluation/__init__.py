"""Backdoor and robustness evaluation."""
from . import metrics
from .metrics import *  # noqa: F401,F403
from .paired_bootstrap import miou, paired_miou_interval, pass_areas

__all__ = metrics.__all__ + ['miou', 'paired_miou_interval', 'pass_areas']
