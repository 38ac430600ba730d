# Copyright (c) hambox_mmdet contributors. All rights reserved.
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

import hambox_mmdet  # noqa: F401

STRIDES = [4, 8, 16, 32, 64, 128]
IMG = 64
FACE = [20., 20., 32., 32.]


def head_cfg(**overrides):
    cfg = dict(
        type='HAMBoxHead',
        num_classes=1,
        in_channels=4,
        stacked_convs=1,
        feat_channels=4,
        anchor_generator=dict(type='FaceAnchorGenerator'),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='RegressionAwareFocalLoss', use_sigmoid=True),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0),
        train_cfg=ConfigDict(
            assigner=dict(type='HAMBoxAssigner', num_compensate=20),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=ConfigDict(
            nms_pre=1000,
            score_thr=0.02,
            nms=dict(type='nms', iou_threshold=0.4),
            max_per_img=100))
    cfg.update(overrides)
    return cfg


def featmap_sizes():
    return [(max(IMG // s, 1), max(IMG // s, 1)) for s in STRIDES]


def outputs(seed, towards_face=False, head=None):
    """Random head outputs; optionally regressions that land on the face."""
    g = torch.Generator().manual_seed(seed)
    cls_scores = [torch.randn(1, 1, h, w, generator=g) for h, w in
                  featmap_sizes()]
    bbox_preds = [torch.randn(1, 4, h, w, generator=g) * 0.1 for h, w in
                  featmap_sizes()]
    if towards_face:
        anchors = head.prior_generator.grid_priors(
            featmap_sizes(), device='cpu')
        face = torch.tensor([FACE])
        for level, (h, w) in enumerate(featmap_sizes()):
            deltas = head.bbox_coder.encode(
                anchors[level], face.expand(len(anchors[level]), 4))
            deltas = deltas + torch.randn(deltas.shape, generator=g) * 0.05
            bbox_preds[level] = deltas.reshape(1, h, w, 4).permute(0, 3, 1, 2)
    for t in cls_scores + bbox_preds:
        t.requires_grad_(True)
    return cls_scores, bbox_preds


def gt():
    return [InstanceData(bboxes=torch.tensor([FACE]), labels=torch.tensor(
        [0]))]


def metas():
    return [dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG), scale_factor=1)]


class Recorder:
    """Wraps an assigner and keeps what it was given and returned."""

    def __init__(self, assigner):
        self.assigner = assigner
        self.calls = []

    def assign(self, pred_instances, gt_instances, gt_instances_ignore=None):
        result = self.assigner.assign(pred_instances, gt_instances,
                                      gt_instances_ignore)
        self.calls.append((pred_instances, result))
        return result


def test_equals_retina_head_without_mining():
    """With MaxIoUAssigner and FocalLoss it trains exactly like RetinaHead."""
    common = dict(
        loss_cls=dict(type='FocalLoss', use_sigmoid=True),
        train_cfg=ConfigDict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.35,
                neg_iou_thr=0.35,
                min_pos_iou=0.,
                match_low_quality=False),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False))
    ours = MODELS.build(head_cfg(**common))
    theirs = MODELS.build(head_cfg(type='RetinaHead', **common))
    cls_scores, bbox_preds = outputs(0)
    a = ours.loss_by_feat(cls_scores, bbox_preds, gt(), metas())
    b = theirs.loss_by_feat(cls_scores, bbox_preds, gt(), metas())
    assert a['num_pos_com'].item() == 0
    assert a['num_pos_norm'].item() > 0
    assert a['loss_cls'].item() == pytest.approx(
        sum(b['loss_cls']).item(), rel=1e-5)
    assert a['loss_bbox'].item() == pytest.approx(
        sum(b['loss_bbox']).item(), rel=1e-5)


def test_assigner_gets_decoded_detached_regression():
    head = MODELS.build(head_cfg())
    head.assigner = Recorder(head.assigner)
    cls_scores, bbox_preds = outputs(1)
    head.loss_by_feat(cls_scores, bbox_preds, gt(), metas())
    (pred, _), = head.assigner.calls
    anchors = torch.cat(
        head.prior_generator.grid_priors(featmap_sizes(), device='cpu'))
    deltas = torch.cat(
        [b[0].permute(1, 2, 0).reshape(-1, 4) for b in bbox_preds])
    expected = head.bbox_coder.decode(
        anchors, deltas.detach(), max_shape=(IMG, IMG))
    assert torch.allclose(pred.priors, anchors)
    assert torch.allclose(pred.bboxes, expected)
    assert not pred.bboxes.requires_grad


def test_loss_groups_and_normalisers():
    head = MODELS.build(head_cfg())
    head.assigner = Recorder(head.assigner)
    cls_scores, bbox_preds = outputs(2, towards_face=True, head=head)
    losses = head.loss_by_feat(cls_scores, bbox_preds, gt(), metas())
    (pred, result), = head.assigner.calls
    comp = result.get_extra_property('compensated')
    stage1 = (result.gt_inds > 0) & ~comp
    n_norm, n_com = int(stage1.sum()), int(comp.sum())
    assert n_norm > 0 and n_com > 0
    assert losses['num_pos_norm'].item() == n_norm
    assert losses['num_pos_com'].item() == n_com

    # box loss: L1 of each group against the face's encoding, each group
    # normalised by its own count
    deltas = torch.cat(
        [b[0].permute(1, 2, 0).reshape(-1, 4) for b in bbox_preds])
    targets = head.bbox_coder.encode(pred.priors,
                                     torch.tensor([FACE]).expand(
                                         len(pred.priors), 4))
    l1 = (deltas - targets).abs().sum(dim=1)
    expected_bbox = l1[stage1].sum() / n_norm + l1[comp].sum() / n_com
    assert losses['loss_bbox'].item() == pytest.approx(
        expected_bbox.item(), rel=1e-5)

    # classification: the regression-aware focal loss on the same groups
    logits = torch.cat(
        [c[0].permute(1, 2, 0).reshape(-1, 1) for c in cls_scores])
    labels = torch.where(result.gt_inds > 0, 0, 1)
    expected_cls = head.loss_cls(
        logits,
        labels,
        torch.ones(len(labels)),
        avg_factor=n_norm,
        compensated=comp,
        reg_ious=result.get_extra_property('reg_ious'),
        com_avg_factor=n_com)
    assert losses['loss_cls'].item() == pytest.approx(
        expected_cls.item(), rel=1e-5)

    # compensated anchors are pushed towards the face class
    losses['loss_cls'].backward()
    grads = torch.cat(
        [c.grad[0].permute(1, 2, 0).reshape(-1) for c in cls_scores])
    assert (grads[comp] < 0).all()


def test_plain_focal_loss_treats_compensated_as_positives():
    head = MODELS.build(
        head_cfg(loss_cls=dict(type='FocalLoss', use_sigmoid=True)))
    cls_scores, bbox_preds = outputs(2, towards_face=True, head=head)
    losses = head.loss_by_feat(cls_scores, bbox_preds, gt(), metas())
    assert losses['num_pos_com'].item() > 0
    assert torch.isfinite(losses['loss_cls'])


def test_no_faces():
    head = MODELS.build(head_cfg())
    cls_scores, bbox_preds = outputs(3)
    empty = [InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(
        0, dtype=torch.long))]
    losses = head.loss_by_feat(cls_scores, bbox_preds, empty, metas())
    assert losses['loss_cls'].item() > 0
    assert losses['loss_bbox'].item() == 0
    (losses['loss_cls'] + losses['loss_bbox']).backward()


def test_retina_head_with_hambox_assigner_says_which_head():
    head = MODELS.build(head_cfg(type='RetinaHead'))
    cls_scores, bbox_preds = outputs(4)
    with pytest.raises(ValueError, match="type='HAMBoxHead'"):
        head.loss_by_feat(cls_scores, bbox_preds, gt(), metas())


def test_inference_is_retina_heads():
    head = MODELS.build(head_cfg())
    retina = MODELS.build(head_cfg(type='RetinaHead'))
    retina.load_state_dict(copy.deepcopy(head.state_dict()))
    feats = [torch.rand(1, 4, h, w) for h, w in featmap_sizes()]
    meta = [dict(img_shape=(IMG, IMG), ori_shape=(IMG, IMG),
                 scale_factor=(1., 1.))]
    a = head.predict_by_feat(*head(feats), batch_img_metas=meta,
                             rescale=True)[0]
    b = retina.predict_by_feat(*retina(feats), batch_img_metas=meta,
                               rescale=True)[0]
    assert torch.equal(a.bboxes, b.bboxes)
    assert torch.equal(a.scores, b.scores)


def test_default_loss_is_sigmoid_regression_aware_focal():
    cfg = head_cfg()
    cfg['loss_cls'] = dict(type='RegressionAwareFocalLoss')
    head = MODELS.build(cfg)
    assert head.cls_out_channels == 1
    del cfg['loss_cls']
    head = MODELS.build(cfg)
    assert type(head.loss_cls).__name__ == 'RegressionAwareFocalLoss'
    assert head.cls_out_channels == 1
