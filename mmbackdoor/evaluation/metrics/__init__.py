"""Registered metrics (mmengine root ``METRICS``, found without a prefix
from mmseg and mmaction configs)."""
from .action_backdoor_metric import ActionBackdoorMetric

__all__ = ['ActionBackdoorMetric']

from ...utils import is_installed  # noqa: E402

if is_installed('mmseg'):
    from .seg_backdoor_metric import SegBackdoorMetric  # noqa: E402
    __all__ += ['SegBackdoorMetric']
