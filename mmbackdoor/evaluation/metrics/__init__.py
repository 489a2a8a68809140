"""Registered metrics (mmengine root ``METRICS``, found without a prefix
from mmseg and mmaction configs)."""
from .action_backdoor_metric import ActionBackdoorMetric

__all__ = ['ActionBackdoorMetric']
