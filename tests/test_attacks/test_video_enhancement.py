"""Enhancement of target-class clips: bounded untargeted PGD."""
import torch
import torch.nn.functional as F

from mmbackdoor.attacks.video import enhance_clips, recognizer_logits
from mmbackdoor.testing.video import nontarget_batches


def test_enhancement_is_a_bounded_untargeted_attack(video_setup):
    _, model, dataset = video_setup
    batch = next(nontarget_batches(dataset, batch_size=4))
    x = torch.stack(batch['inputs']).float()
    original = x.clone()
    adv = enhance_clips(model, x, batch['data_samples'], eps=8, steps=10)
    assert torch.equal(x, original), 'the input is not modified'
    assert (adv - x).abs().max() <= 8 and adv.min() >= 0 and adv.max() <= 255
    assert torch.equal(adv, adv.round()), 'integer steps stay on the grid'
    labels = torch.cat([d.gt_label for d in batch['data_samples']])

    def loss(inputs):
        logits = recognizer_logits(model, inputs, batch['data_samples'])
        return F.cross_entropy(
            logits.flatten(0, 1), labels.repeat_interleave(logits.shape[1]))

    with torch.no_grad():
        assert loss(adv) > loss(x)
    assert torch.equal(
        enhance_clips(model, x, batch['data_samples'], steps=0), x)
