# Copyright (c) hambox_mmdet contributors. All rights reserved.
import math

import pytest
import torch
from mmdet.registry import MODELS



def focal(p, y, alpha=0.25, gamma=2.0):
    """Sigmoid focal loss of one probability, written out."""
    if y == 1:
        return -alpha * (1 - p)**gamma * math.log(p)
    return -(1 - alpha) * p**gamma * math.log(1 - p)


def test_without_compensation_it_is_focal_loss():
    torch.manual_seed(0)
    pred = torch.randn(50, 3)
    target = torch.randint(0, 4, (50, ))
    weight = torch.rand(50)
    ours = MODELS.build(dict(type='RegressionAwareFocalLoss'))
    theirs = MODELS.build(dict(type='FocalLoss', use_sigmoid=True))
    assert torch.allclose(
        ours(pred, target, weight, avg_factor=7.),
        theirs(pred, target, weight, avg_factor=7.))


def test_loss_terms_by_hand_separate():
    """Six anchors, one class (label 1 = background); the paper's literal
    divisors N_norm = 4 and N_com = 2.

    0: stage-1 positive, 1: stage-1 negative, 2: negative whose regressed box
    has IoU 0.6 >= 0.5 with a face (ignored), 3: negative with IoU 0.4 (kept),
    4 and 5: compensated, regressed IoU 0.8 and 0.5.
    """
    logits = torch.tensor([0.3, -1.2, 0.8, -0.1, -0.5, 0.2])
    target = torch.tensor([0, 1, 1, 1, 0, 0])
    compensated = torch.tensor([False, False, False, False, True, True])
    reg_ious = torch.tensor([0.9, 0.1, 0.6, 0.4, 0.8, 0.5])
    loss_fn = MODELS.build(
        dict(type='RegressionAwareFocalLoss', loss_weight=2.0,
             com_normalizer='separate'))
    loss = loss_fn(
        logits[:, None],
        target,
        torch.ones(6),
        avg_factor=4.0,
        compensated=compensated,
        reg_ious=reg_ious,
        com_avg_factor=2.0)
    p = torch.sigmoid(logits).tolist()
    stage1 = focal(p[0], 1) + focal(p[1], 0) + focal(p[3], 0)
    com = 0.8 * focal(p[4], 1) + 0.5 * focal(p[5], 1)
    expected = 2.0 * (stage1 / 4.0 + com / 2.0)
    assert loss.item() == pytest.approx(expected, rel=1e-5)

    per_anchor = loss_fn(
        logits[:, None],
        target,
        None,
        avg_factor=4.0,
        reduction_override='none',
        compensated=compensated,
        reg_ious=reg_ious,
        com_avg_factor=2.0)
    assert per_anchor.shape == (6, )
    assert per_anchor[2].item() == 0  # the ignored negative
    assert per_anchor.sum().item() == pytest.approx(expected, rel=1e-5)

    # the rule can be switched off: anchor 2 then counts as a negative
    no_ignore = MODELS.build(
        dict(
            type='RegressionAwareFocalLoss',
            loss_weight=2.0,
            com_normalizer='separate',
            ignore_reg_iou_thr=None))
    loss = no_ignore(
        logits[:, None],
        target,
        None,
        avg_factor=4.0,
        compensated=compensated,
        reg_ious=reg_ious,
        com_avg_factor=2.0)
    assert loss.item() == pytest.approx(
        expected + 2.0 * focal(p[2], 0) / 4.0, rel=1e-5)


LOGITS = torch.tensor([0.3, -1.2, 0.8, -0.1, -0.5, 0.2])
TARGET = torch.tensor([0, 1, 1, 1, 0, 0])
COMPENSATED = torch.tensor([False, False, False, False, True, True])
REG_IOUS = torch.tensor([0.9, 0.1, 0.6, 0.4, 0.8, 0.5])


def six_anchor_terms():
    """The stage-1 sum and the IoU-weighted compensated sum of the six
    anchors of test_loss_terms_by_hand_separate, by hand."""
    p = torch.sigmoid(LOGITS).tolist()
    stage1 = focal(p[0], 1) + focal(p[1], 0) + focal(p[3], 0)
    com = 0.8 * focal(p[4], 1) + 0.5 * focal(p[5], 1)
    return p, stage1, com


def test_loss_terms_by_hand_joint():
    """The default: both terms divided by all positives, 4 + 2."""
    p, stage1, com = six_anchor_terms()
    loss_fn = MODELS.build(
        dict(type='RegressionAwareFocalLoss', loss_weight=2.0))
    assert loss_fn.com_normalizer == 'joint'
    loss = loss_fn(LOGITS[:, None], TARGET, None, avg_factor=4.0,
                   compensated=COMPENSATED, reg_ious=REG_IOUS,
                   com_avg_factor=2.0)
    assert loss.item() == pytest.approx(2.0 * (stage1 + com) / 6.0,
                                        rel=1e-5)
    # no compensated anchor in any process: N_com = 0, divisor N_norm
    loss = loss_fn(LOGITS[:, None], TARGET, None, avg_factor=4.0,
                   compensated=COMPENSATED, reg_ious=REG_IOUS,
                   com_avg_factor=0.)
    assert loss.item() == pytest.approx(2.0 * (stage1 + com) / 4.0,
                                        rel=1e-5)


def test_divisors_are_at_least_one():
    """Counts averaged over processes can fall below 1 (one compensated
    anchor in one of two processes: 0.5); the divisor is then 1."""
    p, stage1, com = six_anchor_terms()
    separate = MODELS.build(dict(type='RegressionAwareFocalLoss',
                                 com_normalizer='separate'))
    loss = separate(LOGITS[:, None], TARGET, avg_factor=0.5,
                    compensated=COMPENSATED, reg_ious=REG_IOUS,
                    com_avg_factor=0.5)
    assert loss.item() == pytest.approx(stage1 + com, rel=1e-5)
    joint = MODELS.build(dict(type='RegressionAwareFocalLoss'))
    loss = joint(LOGITS[:, None], TARGET, avg_factor=0.25,
                 compensated=COMPENSATED, reg_ious=REG_IOUS,
                 com_avg_factor=0.5)
    assert loss.item() == pytest.approx(stage1 + com, rel=1e-5)


@pytest.mark.parametrize('mode,div', [('joint', (6., 6.)),
                                      ('separate', (4., 2.))])
def test_without_iou_weight_compensated_anchors_weigh_one(mode, div):
    p, stage1, _ = six_anchor_terms()
    loss_fn = MODELS.build(dict(type='RegressionAwareFocalLoss',
                                com_normalizer=mode, iou_weighted=False))
    loss = loss_fn(LOGITS[:, None], TARGET, avg_factor=4.0,
                   compensated=COMPENSATED, reg_ious=REG_IOUS,
                   com_avg_factor=2.0)
    com = focal(p[4], 1) + focal(p[5], 1)
    assert loss.item() == pytest.approx(stage1 / div[0] + com / div[1],
                                        rel=1e-5)


def test_unknown_normaliser_is_refused():
    with pytest.raises(ValueError, match="com_normalizer must be one of"):
        MODELS.build(dict(type='RegressionAwareFocalLoss',
                          com_normalizer='paper'))


def test_gradient_flows_to_compensated_only_through_logits():
    logits = torch.zeros(2, 1, requires_grad=True)
    reg_ious = torch.tensor([0.7, 0.0], requires_grad=True)
    loss = MODELS.build(dict(type='RegressionAwareFocalLoss'))(
        logits,
        torch.tensor([0, 1]),
        compensated=torch.tensor([True, False]),
        reg_ious=reg_ious,
        avg_factor=1.,
        com_avg_factor=1.)
    loss.backward()
    assert logits.grad[0, 0] < 0  # pushed towards the face class
    assert reg_ious.grad is None  # F_i is detached


def test_requires_reg_ious():
    with pytest.raises(ValueError, match='reg_ious'):
        MODELS.build(dict(type='RegressionAwareFocalLoss'))(
            torch.zeros(2, 1),
            torch.tensor([0, 1]),
            compensated=torch.tensor([True, False]))


@pytest.mark.parametrize('factors', [dict(avg_factor=4.),
                                     dict(com_avg_factor=2.),
                                     dict(avg_factor=4., com_avg_factor=2.)])
def test_sum_with_avg_factor_raises_as_mmdet(factors):
    """A normaliser means 'mean'; with 'sum' mmdet's losses refuse it."""
    pred = torch.randn(6, 1)
    target = torch.tensor([0, 1, 1, 1, 0, 0])
    compensated = torch.tensor([False, False, False, False, True, True])
    reg_ious = torch.rand(6)
    loss = MODELS.build(dict(type='RegressionAwareFocalLoss'))
    theirs = MODELS.build(dict(type='FocalLoss', use_sigmoid=True))
    with pytest.raises(ValueError, match='avg_factor can not be used'):
        theirs(pred, target, avg_factor=4., reduction_override='sum')
    with pytest.raises(ValueError, match='avg_factor can not be used'):
        loss(pred, target, reduction_override='sum', compensated=compensated,
             reg_ious=reg_ious, **factors)
    if 'com_avg_factor' not in factors:  # the plain focal path
        with pytest.raises(ValueError, match='avg_factor can not be used'):
            loss(pred, target, reduction_override='sum', **factors)
    summed = loss(pred, target, reduction_override='sum',
                  compensated=compensated, reg_ious=reg_ious)
    per_anchor = loss(pred, target, reduction_override='none',
                      compensated=compensated, reg_ious=reg_ious)
    assert summed.item() == pytest.approx(per_anchor.sum().item())
