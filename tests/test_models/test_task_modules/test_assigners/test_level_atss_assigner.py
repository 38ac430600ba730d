# Copyright (c) hambox_mmdet contributors. All rights reserved.
import pytest
import torch
from mmdet.models.task_modules.assigners import ATSSAssigner
from mmdet.registry import MODELS, TASK_UTILS
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData



def level_priors():
    gen = TASK_UTILS.build(dict(type='FaceAnchorGenerator'))
    levels = gen.grid_priors([(16, 16), (8, 8), (4, 4), (2, 2), (1, 1),
                              (1, 1)], device='cpu')
    return torch.cat(levels), [len(p) for p in levels]


def test_forwards_the_level_counts_to_mmdet_atss():
    priors, counts = level_priors()
    gt = InstanceData(bboxes=torch.tensor([[10., 12., 30., 34.],
                                           [30., 5., 60., 40.]]),
                      labels=torch.tensor([0, 0]))
    ours = TASK_UTILS.build(dict(type='LevelATSSAssigner', topk=9))
    pred = InstanceData(metainfo=dict(num_level_priors=counts),
                        priors=priors)
    a = ours.assign(pred, gt)
    b = ATSSAssigner(topk=9).assign(InstanceData(priors=priors), counts, gt)
    assert torch.equal(a.gt_inds, b.gt_inds)
    assert (a.gt_inds > 0).sum() > 0


def test_missing_or_wrong_level_counts_are_named():
    priors, counts = level_priors()
    gt = InstanceData(bboxes=torch.tensor([[10., 12., 30., 34.]]),
                      labels=torch.tensor([0]))
    ours = TASK_UTILS.build(dict(type='LevelATSSAssigner', topk=9))
    with pytest.raises(ValueError, match='HAMBoxHead'):
        ours.assign(InstanceData(priors=priors), gt)
    bad = InstanceData(metainfo=dict(num_level_priors=counts[:-1]),
                       priors=priors)
    with pytest.raises(ValueError, match='sum to'):
        ours.assign(bad, gt)


def test_hambox_head_trains_with_atss():
    """HAMBoxHead passes the anchors inside the image per level."""
    head = MODELS.build(dict(
        type='HAMBoxHead', num_classes=1, in_channels=4, stacked_convs=1,
        feat_channels=4, anchor_generator=dict(type='FaceAnchorGenerator'),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder'),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True),
        loss_bbox=dict(type='L1Loss'),
        train_cfg=ConfigDict(assigner=dict(type='LevelATSSAssigner', topk=9),
                             sampler=dict(type='PseudoSampler'),
                             allowed_border=0, pos_weight=-1, debug=False)))
    feats = [torch.rand(1, 4, 64 // s, 64 // s) for s in (4, 8, 16, 32)] + [
        torch.rand(1, 4, 1, 1)] * 2
    meta = [dict(img_shape=(64, 64), pad_shape=(64, 64), scale_factor=1)]
    gt = [InstanceData(bboxes=torch.tensor([[10., 12., 30., 34.]]),
                       labels=torch.tensor([0]))]
    losses = head.loss_by_feat(*head(feats), gt, meta)
    assert losses['num_pos_norm'].item() > 0
    assert losses['num_pos_com'].item() == 0
    (losses['loss_cls'] + losses['loss_bbox']).backward()
