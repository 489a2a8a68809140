"""Packed clips of the video attacks: recognizer logits through the data
preprocessor (pasting patches: ``tests/test_triggers/
test_universal_trigger.py``)."""
import torch

from mmbackdoor.attacks.video import recognizer_logits
from mmbackdoor.testing.video import nontarget_batches


def test_logits_pass_through_the_data_preprocessor(video_setup):
    """Softmax of our logits on raw clips equals what the model's own test
    step (preprocessor + head + averaging) predicts."""
    _, model, dataset = video_setup
    batch = next(nontarget_batches(dataset))
    inputs = torch.stack(batch['inputs']).float()
    logits = recognizer_logits(model, inputs, batch['data_samples'])
    with torch.no_grad():
        preds = model.test_step(batch)
    expected = torch.stack([p.pred_score for p in preds])
    torch.testing.assert_close(logits.softmax(-1).mean(1), expected)
