"""Training hooks. Segmentation hooks are imported only if mmseg is
installed, video hooks only if mmaction is."""
from ...utils import is_installed

__all__ = []

if is_installed('mmseg'):
    from .adversarial_training_hook import AdversarialTrainingHook  # noqa
    __all__ += ['AdversarialTrainingHook']
