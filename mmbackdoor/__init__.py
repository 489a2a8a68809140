"""mmbackdoor: backdoor and adversarial attacks for MMSegmentation and
MMAction2.

``import mmbackdoor`` (what ``custom_imports=dict(imports=['mmbackdoor'])``
does) applies the compatibility layer and registers every component. The
segmentation half needs only mmseg, the video half only mmaction.
"""
from . import compat

compat.apply_all()

from . import datasets  # noqa: E402,F401
from .registry import ATTACKS, TRIGGERS  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401

__all__ = ['ATTACKS', 'TRIGGERS', '__version__']
