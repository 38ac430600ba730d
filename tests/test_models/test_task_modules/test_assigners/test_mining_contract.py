# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The contract between the assigner and HAMBoxHead: the mining properties
an assigner publishes in its AssignResult, the head reading them (and only
them), and the rule for assigners that publish none."""
import pytest
import torch
from mmdet.models.task_modules.assigners import (AssignResult,
                                                 MaxIoUAssigner)
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox_overlaps
from mmengine.config import ConfigDict
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData

from hambox_mmdet.models.task_modules.assigners import (
    MINING_KEYS, HAMBoxAssigner, LevelATSSAssigner, MiningProperties,
    mining_properties, publish_mining_properties)

F0 = [0., 0., 10., 10.]
F1 = [20., 0., 30., 10.]


def hand_case():
    """Two faces, six anchors, K = 3, T = 0.5.

    - anchors 0 and 1 overlap face 0 (IoU 1 and 0.82): its D = 2, it needs
      1 more; they regress onto themselves;
    - anchors 2 to 5 overlap no face; their regressed boxes: anchor 2 on
      face 0 with IoU 0.8 (face 0 takes it), anchors 3 and 4 on face 1 with
      IoU 1 and 0.6 (face 1, D = 0, takes both), anchor 5 on face 0 with
      IoU 0.4 < T (stays negative).
    """
    priors = torch.tensor([F0, [1., 0., 11., 10.], [40., 0., 50., 10.],
                           [40., 20., 50., 30.], [60., 0., 70., 10.],
                           [60., 20., 70., 30.]])
    regressed = torch.tensor([F0, [1., 0., 11., 10.], [0., 0., 10., 8.], F1,
                              [20., 0., 30., 6.], [0., 0., 4., 10.]])
    pred = InstanceData(priors=priors, bboxes=regressed)
    gt = InstanceData(bboxes=torch.tensor([F0, F1]),
                      labels=torch.tensor([0, 0]))
    return pred, gt


def test_hambox_assigner_publishes_the_mining():
    pred, gt = hand_case()
    result = HAMBoxAssigner(num_compensate=3).assign(pred, gt)
    assert result.gt_inds.tolist() == [1, 1, 1, 2, 2, 0]
    props = mining_properties(result)
    assert isinstance(props, MiningProperties)
    for key, value in zip(MINING_KEYS, props):
        assert result.get_extra_property(key) is value
    assert props.compensated.dtype == torch.bool
    assert props.compensated.tolist() == [False, False, True, True, True,
                                          False]
    assert props.reg_ious.dtype == torch.float32
    assert props.reg_ious.shape == (6, )
    faces = torch.tensor([F0, F0, F0, F1, F1, F0])
    expected = bbox_overlaps(pred.bboxes, faces, is_aligned=True)
    assert torch.allclose(props.reg_ious, expected, atol=1e-6)
    assert props.reg_ious[props.compensated].tolist() == pytest.approx(
        [0.8, 1.0, 0.6])
    assert props.reg_ious[5].item() == pytest.approx(0.4)
    assert props.num_matched_stage1.dtype == torch.int64
    assert props.num_matched_stage1.tolist() == [2, 0]
    assert props.num_matched_final.dtype == torch.int64
    assert props.num_matched_final.tolist() == [3, 2]
    assert props.num_compensate == 3


@pytest.mark.parametrize('num_priors', [6, 0])
def test_hambox_assigner_publishes_without_faces(num_priors):
    pred, _ = hand_case()
    pred = pred[:num_priors]
    empty = InstanceData(bboxes=torch.zeros(0, 4),
                         labels=torch.zeros(0, dtype=torch.long))
    props = mining_properties(
        HAMBoxAssigner(num_compensate=4).assign(pred, empty))
    assert props.compensated.shape == props.reg_ious.shape == (num_priors, )
    assert not props.compensated.any() and not props.reg_ious.any()
    assert props.num_matched_stage1.shape == (0, )
    assert props.num_matched_final.shape == (0, )
    assert props.num_compensate == 4


def test_hambox_assigner_publishes_without_anchors():
    _, gt = hand_case()
    pred = InstanceData(priors=torch.zeros(0, 4), bboxes=torch.zeros(0, 4))
    props = mining_properties(HAMBoxAssigner().assign(pred, gt))
    assert props.compensated.shape == (0, )
    assert props.num_matched_stage1.tolist() == [0, 0]
    assert props.num_matched_final.tolist() == [0, 0]


def test_assigners_that_publish_nothing_compensate_nothing():
    """The one rule: no property means no compensation; the counts come
    from the positives of ``gt_inds``; there is no K."""
    pred, gt = hand_case()
    num_level = [4, 2]
    pred.set_metainfo(dict(num_level_priors=num_level))
    max_iou = MaxIoUAssigner(pos_iou_thr=0.35, neg_iou_thr=0.35,
                             match_low_quality=False)
    for assigner in (max_iou, LevelATSSAssigner(topk=1)):
        result = assigner.assign(pred, gt)
        props = mining_properties(result)
        counts = torch.bincount(result.gt_inds[result.gt_inds > 0] - 1,
                                minlength=2)
        assert props.compensated.dtype == torch.bool
        assert props.compensated.shape == (6, )
        assert not props.compensated.any()
        assert props.reg_ious.dtype == torch.float32
        assert torch.equal(props.reg_ious, torch.zeros(6))
        assert torch.equal(props.num_matched_stage1, counts)
        assert torch.equal(props.num_matched_final, counts)
        assert props.num_compensate is None
    # MaxIoUAssigner: anchors 0 and 1 are face 0's
    assert mining_properties(max_iou.assign(
        pred, gt)).num_matched_final.tolist() == [2, 0]


def test_all_or_none_of_the_properties():
    result = AssignResult(1, torch.tensor([1, 0]), torch.tensor([.9, .1]),
                          torch.tensor([0, -1]))
    result.set_extra_property('compensated', torch.tensor([False, False]))
    with pytest.raises(ValueError, match='reg_ious'):
        mining_properties(result)
    props = MiningProperties(torch.zeros(2, dtype=torch.bool), torch.zeros(2),
                             torch.zeros(3, dtype=torch.long),
                             torch.zeros(1, dtype=torch.long), 5)
    fresh = AssignResult(1, torch.tensor([1, 0]), torch.tensor([.9, .1]),
                         torch.tensor([0, -1]))
    with pytest.raises(ValueError, match='num_matched_stage1'):
        publish_mining_properties(fresh, props)


# ---- the head -------------------------------------------------------------
STRIDES = [4, 8, 16, 32, 64, 128]
IMG = 64
FACE = [20., 20., 32., 32.]
MAX_IOU = dict(type='MaxIoUAssigner', pos_iou_thr=0.35, neg_iou_thr=0.35,
               match_low_quality=False)


def head_cfg(assigner, loss_cls=None):
    return dict(
        type='HAMBoxHead',
        num_classes=1,
        in_channels=4,
        stacked_convs=1,
        feat_channels=4,
        anchor_generator=dict(type='FaceAnchorGenerator'),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder'),
        loss_cls=loss_cls or dict(type='RegressionAwareFocalLoss'),
        loss_bbox=dict(type='L1Loss'),
        train_cfg=ConfigDict(
            assigner=assigner,
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=ConfigDict(nms_pre=100, score_thr=0.02,
                            nms=dict(type='nms', iou_threshold=0.4),
                            max_per_img=10))


def outputs(seed=0, num_imgs=1):
    g = torch.Generator().manual_seed(seed)
    sizes = [(max(IMG // s, 1), ) * 2 for s in STRIDES]
    cls_scores = [torch.randn(num_imgs, 1, h, w, generator=g)
                  for h, w in sizes]
    bbox_preds = [torch.randn(num_imgs, 4, h, w, generator=g) * 0.1
                  for h, w in sizes]
    return cls_scores, bbox_preds


def gt():
    return [InstanceData(bboxes=torch.tensor([FACE]),
                         labels=torch.tensor([0]))]


def metas(num_imgs=1):
    return [dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG),
                 scale_factor=1)] * num_imgs


class Publishing:
    """MaxIoUAssigner plus hand-made mining properties: the first stage-1
    positive is marked compensated with regressed IoU 0.75, and the face
    counts are set apart from ``gt_inds`` (stage 1: 0, final: 9, K = 5), so
    that what the head reports can only come from the published values."""

    def __init__(self):
        self.assigner = MaxIoUAssigner(pos_iou_thr=0.35, neg_iou_thr=0.35,
                                       match_low_quality=False)

    def assign(self, pred_instances, gt_instances, gt_instances_ignore=None):
        result = self.assigner.assign(pred_instances, gt_instances,
                                      gt_instances_ignore)
        compensated = torch.zeros_like(result.gt_inds, dtype=torch.bool)
        first = (result.gt_inds > 0).nonzero()[0, 0]
        compensated[first] = True
        reg_ious = torch.zeros(result.num_preds)
        reg_ious[first] = 0.75
        publish_mining_properties(
            result,
            MiningProperties(compensated, reg_ious, torch.tensor([0]),
                             torch.tensor([9]), 5))
        self.first = int(first)
        return result


def hub(name):
    return MessageHub.get_instance(f'test_mining_contract_{name}')


def test_head_reads_the_published_properties():
    head = MODELS.build(head_cfg(MAX_IOU))
    head.assigner = Publishing()
    messages = hub('published')
    losses = head.loss_by_feat(*outputs(), gt(), metas())
    assert losses['num_pos_com'].item() == 1
    assert losses['num_pos_norm'].item() > 0

    def scalar(key):
        return messages.get_scalar(f'train/hambox/{key}').current()

    assert scalar('compensated_per_img') == 1
    assert scalar('compensated_reg_iou') == 0.75
    assert scalar('faces_below_k_stage1') == 1.0  # published D = 0 < 5
    assert scalar('faces_below_k_final') == 0.0  # published 9 >= 5


def test_head_with_an_assigner_that_publishes_nothing():
    """MaxIoUAssigner: no compensated anchor, no mining statistics."""
    head = MODELS.build(head_cfg(MAX_IOU))
    messages = hub('nothing')
    losses = head.loss_by_feat(*outputs(), gt(), metas())
    assert losses['num_pos_com'].item() == 0
    assert losses['cls_com'].item() == losses['bbox_com'].item() == 0
    assert not [k for k in messages.log_scalars if 'hambox' in k]


@pytest.mark.parametrize('return_sampling_results', [False, True])
def test_get_targets_extends_anchor_heads(return_sampling_results):
    """AnchorHead's returns first (the same values as RetinaHead's with the
    same assigner), then the mining extras."""
    assigner = MAX_IOU
    ours = MODELS.build(head_cfg(assigner, dict(type='FocalLoss')))
    retina_cfg = head_cfg(assigner, dict(type='FocalLoss'))
    retina_cfg['type'] = 'RetinaHead'
    retina = MODELS.build(retina_cfg)
    cls_scores, bbox_preds = outputs(num_imgs=2)
    sizes = [c.shape[-2:] for c in cls_scores]
    anchors, flags = ours.get_anchors(sizes, metas(2), device='cpu')
    deltas = torch.cat([b.permute(0, 2, 3, 1).reshape(2, -1, 4)
                        for b in bbox_preds], 1)
    gts = gt() * 2
    res = ours.get_targets(
        deltas, anchors, flags, gts, metas(2),
        return_sampling_results=return_sampling_results)
    theirs = retina.get_targets(
        anchors, flags, gts, metas(2),
        return_sampling_results=return_sampling_results)
    num_base = 6 if return_sampling_results else 5
    assert len(res) == num_base + 5
    for a, b in zip(res[:4], theirs[:4]):
        assert len(a) == len(b) == len(STRIDES)
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert res[4] == theirs[4]
    (compensated, reg_ious, num_stage1, num_final,
     num_compensate) = res[num_base:]
    level_sizes = [len(a) for a in anchors[0]]
    assert [tuple(c.shape) for c in compensated] == [(2, n)
                                                     for n in level_sizes]
    assert [tuple(r.shape) for r in reg_ious] == [(2, n)
                                                  for n in level_sizes]
    assert not any(c.any() for c in compensated)
    positives = sum(int((l == 0).sum()) for l in res[0])
    assert [t.tolist() for t in num_stage1] == [[positives // 2]] * 2
    assert [t.tolist() for t in num_final] == [[positives // 2]] * 2
    assert num_compensate is None


def test_get_targets_returns_the_hambox_mining():
    head = MODELS.build(head_cfg(dict(type='HAMBoxAssigner',
                                      num_compensate=30)))
    cls_scores, bbox_preds = outputs()
    anchors, flags = head.get_anchors([c.shape[-2:] for c in cls_scores],
                                      metas(), device='cpu')
    # regressions onto the face: compensation happens
    flat_anchors = torch.cat(anchors[0])
    deltas = head.bbox_coder.encode(
        flat_anchors, torch.tensor([FACE]).expand(len(flat_anchors), 4))
    res = head.get_targets(deltas[None], anchors, flags, gt(), metas())
    compensated, reg_ious, num_stage1, num_final, k = res[5:]
    compensated = torch.cat(compensated, 1)[0]
    labels = torch.cat(res[0], 1)[0]
    assert compensated.any() and (labels[compensated] == 0).all()
    assert (torch.cat(reg_ious, 1)[0][compensated] >= 0.5).all()
    stage1 = int(((labels == 0) & ~compensated).sum())
    assert num_stage1[0].tolist() == [stage1]
    assert num_final[0].tolist() == [stage1 + int(compensated.sum())]
    assert k == 30
