"""Checkpoint surgery: a recognizer's backbone on its own (the shared
pretrained network of the clean-label video backdoor's clean model and
victim, ``tools/video/export_backbone.py``)."""
import torch


def export_backbone(checkpoint: str, out_file: str) -> str:
    """Save the backbone of a recognizer checkpoint on its own.

    A backbone's ``pretrained=out_file`` (``pretrained2d=False``) then loads
    it, and the classifier is initialised afresh, as when the paper's victim
    fine-tunes a Kinetics-pretrained I3D on UCF101.

    Args:
        checkpoint (str): An mmengine checkpoint of a recognizer.
        out_file (str): Where to write ``{'state_dict': backbone weights}``.

    Returns:
        str: ``out_file``.
    """
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    backbone = {
        key[len('backbone.'):]: value
        for key, value in state.items() if key.startswith('backbone.')
    }
    if not backbone:
        raise ValueError(f'{checkpoint!r} holds no backbone.* weights')
    torch.save(dict(state_dict=backbone), out_file)
    return out_file
