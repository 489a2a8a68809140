"""The attack primitives of the clean-label video backdoor (Zhao et al.,
"Clean-Label Backdoor Attacks on Video Recognition Models", CVPR 2020):

- ``clips``: packed clip layouts (``NCTHW`` / ``NCHW``), pasting patches,
  recognizer logits through the data preprocessor, batch helpers;
- ``trigger_optimization``: the universal adversarial trigger
  (:func:`optimize_universal_trigger`);
- ``enhancement``: untargeted PGD on target-class clips
  (:func:`enhance_clips`).

They need torch and mmengine only (recognizers are passed in, mmaction is
never imported). Crafting a poison folder from them is
:func:`mmbackdoor.apis.clean_label.craft_poison`.
"""
from .clips import (FORMATS, batch_inputs, batch_labels, check_target_class,
                    clip_view, eval_mode, paste_patches, patches_to_array,
                    patches_to_tensor, recognizer_logits, unpack_frames)
from .enhancement import enhance_clips
from .trigger_optimization import (TRIGGER_LOSSES, optimize_universal_trigger,
                                   progress_summary, trigger_loss)

__all__ = [
    'FORMATS', 'TRIGGER_LOSSES', 'batch_inputs', 'batch_labels',
    'check_target_class', 'clip_view', 'enhance_clips', 'eval_mode',
    'optimize_universal_trigger', 'paste_patches', 'patches_to_array',
    'patches_to_tensor', 'progress_summary', 'recognizer_logits',
    'trigger_loss', 'unpack_frames'
]
