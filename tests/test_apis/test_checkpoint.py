"""A recognizer checkpoint's backbone on its own."""
import pytest
import torch
from mmaction.registry import MODELS

from mmbackdoor.apis.checkpoint import export_backbone
from mmbackdoor.testing.video import build_model, make_cfg, save_checkpoint


def test_export_backbone_feeds_a_fresh_recognizer(tmp_path):
    """The exported backbone loads through ``backbone.pretrained``; the
    classifier stays freshly initialised (the paper's victim)."""
    cfg = make_cfg(str(tmp_path / 'data'), 'NCTHW')
    trained = build_model(cfg, seed=1)
    out = export_backbone(
        save_checkpoint(trained, str(tmp_path / 'full.pth')),
        str(tmp_path / 'backbone.pth'))
    model_cfg = cfg.model.copy()
    model_cfg.backbone.pretrained = out
    torch.manual_seed(2)
    fresh = MODELS.build(model_cfg)
    fresh.init_weights()
    for name, value in trained.backbone.state_dict().items():
        assert torch.equal(fresh.backbone.state_dict()[name], value), name
    assert not torch.equal(fresh.cls_head.fc_cls.weight,
                           trained.cls_head.fc_cls.weight)
    with pytest.raises(ValueError, match='no backbone'):
        torch.save(dict(state_dict=dict(w=torch.zeros(1))),
                   str(tmp_path / 'x.pth'))
        export_backbone(str(tmp_path / 'x.pth'), str(tmp_path / 'y.pth'))
