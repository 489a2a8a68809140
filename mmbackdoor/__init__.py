"""mmbackdoor: backdoor and adversarial attacks for MMSegmentation and
MMAction2.

``import mmbackdoor`` (what ``custom_imports=dict(imports=['mmbackdoor'])``
does) applies the compatibility layer and registers every component. The
segmentation half needs only mmseg, the video half only mmaction.
"""
from . import compat

compat.apply_all()

# Importing the subpackages registers every component; each imports its
# mmseg / mmaction parts only if that codebase is installed.
from . import (attacks, datasets, engine, evaluation,  # noqa: E402,F401
               poisoning, triggers)
from .datasets import transforms  # noqa: E402,F401
from .registry import ATTACKS, TRIGGERS  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401

__all__ = ['ATTACKS', 'TRIGGERS', '__version__']
