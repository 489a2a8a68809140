"""Conv-BN folding in the attack loop and the test-mode logits it
differentiates, on a real (tiny) mmseg segmentor."""
import copy

import pytest
import torch
from mmcv.cnn import ConvModule

from mmbackdoor.attacks import conv_bn_fusion
from mmbackdoor.registry import ATTACKS
from mmbackdoor.testing.tiny_segmentor import build_segmentor, make_batch

ATTACK_TYPES = ['PGD', 'SegPGD', 'CosPGD', 'EroSeg']


def attack_both_ways(model, batch, name, steps=5, training=False):
    results = {}
    for fuse in (True, False):
        attack = ATTACKS.build(
            dict(type=name, steps=steps, fuse_conv_bn=fuse))
        results[fuse] = attack.run(model, batch, training=training)
    return results[True], results[False]


@pytest.mark.parametrize('training', [False, True])
@pytest.mark.parametrize('name', ATTACK_TYPES)
def test_folded_attack_matches_the_unfolded_one(name, training, trained):
    model, batch = trained
    folded, plain = attack_both_ways(model, batch, name, training=training)
    assert folded.accuracy[0] == plain.accuracy[0]
    assert folded.accuracy == pytest.approx(plain.accuracy, abs=2e-3)
    same = torch.stack([(a == b).float().mean()
                        for a, b in zip(folded.inputs, plain.inputs)])
    assert same.mean() > 0.99


def test_the_folded_copy_has_no_batch_norm_and_the_model_is_untouched(
        trained):
    model, batch = trained
    state = copy.deepcopy(model.state_dict())
    modules = [type(m) for m in model.modules()]
    folded = conv_bn_fusion.folded_copy(model)
    assert not any(
        isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    ATTACKS.build(dict(type='EroSeg', steps=3))(model, batch)
    assert [type(m) for m in model.modules()] == modules
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        assert torch.allclose(
            folded(**data, mode='tensor'),
            model(**data, mode='tensor'),
            atol=1e-4)


def pre_norm_segmentor():
    """The tiny segmentor with a pre-norm ConvModule (BN applied *before*
    the conv, registered after it): a layout that mmcv's ``fuse_conv_bn``
    folds wrongly."""
    model = build_segmentor()
    model.decode_head.convs[0] = ConvModule(
        8, 8, 3, padding=1, norm_cfg=dict(type='BN'),
        order=('norm', 'conv', 'act'))
    norm = model.decode_head.convs[0].norm
    torch.manual_seed(0)
    norm.running_mean.uniform_(-1, 1)
    norm.running_var.uniform_(0.5, 2)
    return model.eval()


def test_a_wrongly_folded_copy_is_detected_and_not_used():
    model = pre_norm_segmentor()
    batch = make_batch()
    folded, plain = attack_both_ways(model, batch, 'PGD', steps=3)
    assert conv_bn_fusion._VERIFIED[model] is False
    assert all(torch.equal(a, b) for a, b in zip(folded.inputs, plain.inputs))
    assert folded.losses == plain.losses
    # the verdict is kept: no copy is made for this model again
    assert conv_bn_fusion.folded_copy(model) is None


def test_batch_statistics_in_eval_mode_are_not_folded():
    model = build_segmentor()
    model.decode_head.convs[0].bn = torch.nn.BatchNorm2d(
        8, track_running_stats=False)
    assert conv_bn_fusion.folded_copy(model) is None


def test_fuse_conv_bn_must_be_a_bool():
    with pytest.raises(TypeError, match='fuse_conv_bn must be True or False'):
        ATTACKS.build(dict(type='SegPGD', fuse_conv_bn='yes'))


def padded_flipped_segmentor_and_batch(flips):
    """Inputs of 30 px padded to 32 by the preprocessor, labels at 40 px,
    one image per entry of ``flips`` (its flip direction or None)."""
    model = build_segmentor()
    model.data_preprocessor.test_cfg = dict(size_divisor=16)
    batch = make_batch(num=len(flips), size=30, label_size=40)
    for sample, flip in zip(batch['data_samples'], flips):
        sample.set_metainfo(
            dict(img_shape=(30, 30), flip=flip is not None,
                 flip_direction=flip))
    return model.eval(), batch


@pytest.mark.parametrize(
    'flips', [(None, None), ('horizontal', 'horizontal'),
              ('horizontal', 'vertical'), (None, 'vertical')])
def test_test_mode_logits_are_those_of_predict(flips):
    # padding cropped, flip undone, resized to the label: as
    # ``BaseSegmentor.postprocess_result`` does it, batched or per image
    model, batch = padded_flipped_segmentor_and_batch(flips)
    attack = ATTACKS.build(dict(type='PGD', steps=2))
    logits, labels = attack.logits_and_labels(model, batch['inputs'],
                                              batch['data_samples'], False)
    with torch.no_grad():
        outs = model.test_step(copy.deepcopy(batch))
    assert logits.shape == (2, 4, 40, 40)
    assert torch.allclose(
        logits.detach(), torch.stack([o.seg_logits.data for o in outs]),
        atol=1e-5)
    assert torch.equal(labels,
                       torch.stack([o.gt_sem_seg.data[0] for o in outs]))


def test_unknown_flip_direction_is_refused():
    model, batch = padded_flipped_segmentor_and_batch(('horizontal', None))
    batch['data_samples'][0].set_metainfo(dict(flip_direction='diagonal'))
    attack = ATTACKS.build(dict(type='PGD', steps=1))
    with pytest.raises(ValueError, match='flip_direction'):
        attack.logits_and_labels(model, batch['inputs'],
                                 batch['data_samples'], False)
