# Copyright (c) hambox_mmdet contributors. All rights reserved.
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData


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


def hand_focal(logits, positive, alpha=0.25, gamma=2.0):
    """Sigmoid focal loss per anchor (one class), written out."""
    p = torch.sigmoid(logits)
    return torch.where(positive, -alpha * (1 - p)**gamma * torch.log(p),
                       -(1 - alpha) * p**gamma * torch.log(1 - p))


def expected_losses(head, cls_scores, bbox_preds, result, pred, cls_div,
                    bbox_div):
    """The head's two losses computed from the formulas, with the given
    divisors (stage-1, compensated) of each loss."""
    comp = result.get_extra_property('compensated')
    reg_ious = result.get_extra_property('reg_ious')
    stage1 = (result.gt_inds > 0) & ~comp
    deltas = torch.cat(
        [b[0].permute(1, 2, 0).reshape(-1, 4) for b in bbox_preds]).detach()
    targets = head.bbox_coder.encode(pred.priors,
                                     torch.tensor([FACE]).expand(
                                         len(pred.priors), 4))
    l1 = (deltas - targets).abs().sum(dim=1)
    bbox = l1[stage1].sum() / bbox_div[0] + l1[comp].sum() / bbox_div[1]
    logits = torch.cat(
        [c[0].permute(1, 2, 0).reshape(-1) for c in cls_scores]).detach()
    fl = hand_focal(logits, result.gt_inds > 0)
    negative = result.gt_inds == 0
    ignored = negative & (reg_ious >= 0.5)
    kept = (stage1 | negative) & ~ignored
    cls = (fl[kept].sum() / cls_div[0] +
           (reg_ious[comp] * fl[comp]).sum() / cls_div[1])
    return cls.item(), bbox.item()


def run_on_face(head):
    """One image whose regressions land on its face: the head's losses, the
    assigner's input and result, and the counts N_norm and N_com."""
    head.assigner = Recorder(head.assigner)
    cls_scores, bbox_preds = outputs(2, towards_face=True, head=head)
    losses = head.loss_by_feat(cls_scores, bbox_preds, gt(), metas())
    (pred, result), = head.assigner.calls
    comp = result.get_extra_property('compensated')
    n_norm = int(((result.gt_inds > 0) & ~comp).sum())
    return (cls_scores, bbox_preds, losses, pred, result, comp, n_norm,
            int(comp.sum()))


@pytest.mark.parametrize('mode', ['joint', 'separate'])
def test_loss_groups_and_normalisers_by_hand(mode):
    head = MODELS.build(head_cfg(loss_cls=dict(
        type='RegressionAwareFocalLoss', com_normalizer=mode)))
    (cls_scores, bbox_preds, losses, pred, result, comp, n_norm,
     n_com) = run_on_face(head)
    assert n_norm > 1 and n_com > 1 and n_norm != n_com
    div = ((n_norm + n_com, ) * 2 if mode == 'joint' else (n_norm, n_com))
    cls, bbox = expected_losses(head, cls_scores, bbox_preds, result,
                                      pred, div, div)
    assert losses['num_pos_norm'].item() == n_norm
    assert losses['num_pos_com'].item() == n_com
    assert losses['loss_cls'].item() == pytest.approx(cls, rel=1e-5)
    assert losses['loss_bbox'].item() == pytest.approx(bbox, rel=1e-5)
    # the logged terms, each over all positives whatever the mode
    joint = (n_norm + n_com, ) * 2
    cls_j, bbox_j = expected_losses(head, cls_scores, bbox_preds,
                                          result, pred, joint, joint)
    assert (losses['cls_stage1'] + losses['cls_com']).item() == \
        pytest.approx(cls_j, rel=1e-5)
    assert (losses['bbox_stage1'] + losses['bbox_com']).item() == \
        pytest.approx(bbox_j, rel=1e-5)
    assert not losses['cls_com'].requires_grad
    if mode == 'joint':
        assert (losses['cls_stage1'] + losses['cls_com']).item() == \
            pytest.approx(losses['loss_cls'].item(), rel=1e-5)

    # compensated anchors are pushed towards the face class
    losses['loss_cls'].backward()
    grads = torch.cat(
        [c.grad[0].permute(1, 2, 0).reshape(-1) for c in cls_scores])
    assert (grads[comp] < 0).all()


def test_box_normaliser_can_differ_from_the_classification_one():
    head = MODELS.build(head_cfg(
        loss_cls=dict(type='RegressionAwareFocalLoss',
                      com_normalizer='separate'),
        bbox_com_normalizer='joint'))
    (cls_scores, bbox_preds, losses, pred, result, comp, n_norm,
     n_com) = run_on_face(head)
    cls, bbox = expected_losses(head, cls_scores, bbox_preds, result,
                                      pred, (n_norm, n_com),
                                      (n_norm + n_com, ) * 2)
    assert losses['loss_cls'].item() == pytest.approx(cls, rel=1e-5)
    assert losses['loss_bbox'].item() == pytest.approx(bbox, rel=1e-5)
    with pytest.raises(ValueError, match='bbox_com_normalizer'):
        MODELS.build(head_cfg(bbox_com_normalizer='all'))


@pytest.mark.parametrize('mode', ['joint', 'separate'])
def test_normalisers_are_averaged_over_processes(mode, monkeypatch):
    """Distributed training: N_norm and N_com are the means over processes
    (reduce_mean), each divisor at least 1. A second process is simulated
    with 9 stage-1 positives and no compensated anchor."""
    import hambox_mmdet.models.dense_heads.hambox_head as module
    other = iter([9., 0.])
    monkeypatch.setattr(module, 'reduce_mean',
                        lambda t: (t + next(other)) / 2)
    head = MODELS.build(head_cfg(loss_cls=dict(
        type='RegressionAwareFocalLoss', com_normalizer=mode)))
    (cls_scores, bbox_preds, losses, pred, result, comp, n_norm,
     n_com) = run_on_face(head)
    mean_norm, mean_com = (n_norm + 9) / 2, n_com / 2
    if mode == 'joint':
        div = (mean_norm + mean_com, ) * 2
    else:
        div = (mean_norm, max(mean_com, 1.))
    cls, bbox = expected_losses(head, cls_scores, bbox_preds, result,
                                      pred, div, div)
    assert losses['loss_cls'].item() == pytest.approx(cls, rel=1e-5)
    assert losses['loss_bbox'].item() == pytest.approx(bbox, rel=1e-5)


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


# ---- a batch of images with ignore regions --------------------------------
BATCH_FACES = [[[20., 20., 32., 32.]], [[8., 8., 24., 24.], [12., 10., 30.,
                                                            30.]]]
BATCH_IGNORE = [[[40., 40., 64., 64.]], []]


def batch_outputs(head, seed=5):
    """Two images; regressions land near a face of their image."""
    g = torch.Generator().manual_seed(seed)
    anchors = torch.cat(
        head.prior_generator.grid_priors(featmap_sizes(), device='cpu'))
    cls_scores = [torch.randn(2, 1, h, w, generator=g) for h, w in
                  featmap_sizes()]
    deltas = []
    for faces in BATCH_FACES:
        faces = torch.tensor(faces)
        pick = torch.randint(len(faces), (len(anchors), ), generator=g)
        d = head.bbox_coder.encode(anchors, faces[pick])
        deltas.append(d + torch.randn(d.shape, generator=g) * 0.1)
    deltas = torch.stack(deltas)  # (2, N, 4) in get_anchors' order
    bbox_preds, start = [], 0
    for h, w in featmap_sizes():
        level = deltas[:, start:start + h * w]
        bbox_preds.append(level.reshape(2, h, w, 4).permute(0, 3, 1, 2))
        start += h * w
    for t in cls_scores + bbox_preds:
        t.requires_grad_(True)
    return cls_scores, bbox_preds, anchors


def batch_gt():
    gts = [InstanceData(bboxes=torch.tensor(f), labels=torch.zeros(
        len(f), dtype=torch.long)) for f in BATCH_FACES]
    ignore = [InstanceData(bboxes=torch.tensor(i).reshape(-1, 4))
              for i in BATCH_IGNORE]
    return gts, ignore


def focal(logits, target_is_face, alpha=0.25, gamma=2.0):
    p = logits.sigmoid()
    pos = -alpha * (1 - p)**gamma * torch.log(p)
    neg = -(1 - alpha) * p**gamma * torch.log(1 - p)
    return torch.where(target_is_face, pos, neg)


@pytest.mark.parametrize('decoded,mode', [(False, 'joint'), (True, 'joint'),
                                          (False, 'separate')])
def test_batch_with_ignore_regions(decoded, mode):
    """Two images, ignore regions, ``reg_decoded_bbox`` on and off: the
    losses equal a direct computation from the assignments; compensated
    anchors are positives weighted by their regressed IoU, divided by all
    positives ('joint') or by their own count ('separate'), in both losses;
    ignored anchors are in neither."""
    from mmdet.structures.bbox import bbox_overlaps
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance(f'test_hambox_head_batch_{decoded}_{mode}')
    head = MODELS.build(head_cfg(
        reg_decoded_bbox=decoded,
        loss_cls=dict(type='RegressionAwareFocalLoss', com_normalizer=mode)))
    head.assigner = Recorder(head.assigner)
    head.assigner.num_compensate = head.assigner.assigner.num_compensate
    cls_scores, bbox_preds, anchors = batch_outputs(head)
    gts, ignore = batch_gt()
    metas2 = metas() * 2
    losses = head.loss_by_feat(cls_scores, bbox_preds, gts, metas2, ignore)
    results = [r for _, r in head.assigner.calls]
    assert len(results) == 2
    gt_inds = torch.cat([r.gt_inds for r in results])
    comp = torch.cat([r.get_extra_property('compensated') for r in results])
    stage1 = (gt_inds > 0) & ~comp
    assert (results[0].gt_inds == -1).any()  # the ignore region works
    n_norm, n_com = int(stage1.sum()), int(comp.sum())
    assert n_norm > 0 and n_com > 0
    assert (comp.reshape(2, -1).sum(1) > 0).all()

    logits = torch.cat([
        c.permute(0, 2, 3, 1).reshape(2, -1) for c in cls_scores], 1)
    deltas = torch.cat([
        b.permute(0, 2, 3, 1).reshape(2, -1, 4) for b in bbox_preds], 1)
    # each positive's face, regressed box and regressed IoU
    faces, boxes, reg_iou, best_iou = [], [], [], []
    for i, (pred, result) in enumerate(head.assigner.calls):
        f = gts[i].bboxes[(result.gt_inds - 1).clamp(min=0)]
        faces.append(f)
        boxes.append(pred.bboxes)
        reg_iou.append(bbox_overlaps(pred.bboxes, f, is_aligned=True))
        best_iou.append(bbox_overlaps(pred.bboxes, gts[i].bboxes).max(1)[0])
    faces, boxes = torch.cat(faces), torch.cat(boxes)
    reg_iou, best_iou = torch.cat(reg_iou), torch.cat(best_iou)
    all_anchors = anchors.repeat(2, 1)
    flat_deltas = deltas.reshape(-1, 4)
    if decoded:
        pred = head.bbox_coder.decode(all_anchors, flat_deltas)
        target = faces
    else:
        pred, target = flat_deltas, head.bbox_coder.encode(all_anchors, faces)
    l1 = (pred - target).abs().sum(1)
    d_norm, d_com = ((n_norm + n_com, ) * 2 if mode == 'joint' else
                     (n_norm, n_com))
    expected_bbox = l1[stage1].sum() / d_norm + l1[comp].sum() / d_com
    assert losses['loss_bbox'].item() == pytest.approx(
        expected_bbox.item(), rel=1e-5)

    fl = focal(logits.reshape(-1), gt_inds > 0)
    negative = gt_inds == 0
    ignored_neg = negative & (best_iou >= 0.5)
    w_norm = (stage1 | (negative & ~ignored_neg)).float() / d_norm
    w_com = comp.float() * reg_iou / d_com
    expected_cls = (fl * (w_norm + w_com)).sum()
    assert losses['loss_cls'].item() == pytest.approx(
        expected_cls.item(), rel=1e-4)
    assert losses['num_pos_com'].item() == n_com / 2

    # compensated anchors are pulled towards the face class and their boxes
    # get gradients; ignored anchors get none
    (losses['loss_cls'] + losses['loss_bbox']).backward()
    cls_grad = torch.cat([
        c.grad.permute(0, 2, 3, 1).reshape(2, -1) for c in cls_scores],
                         1).reshape(-1)
    box_grad = torch.cat([
        b.grad.permute(0, 2, 3, 1).reshape(2, -1, 4) for b in bbox_preds],
                         1).reshape(-1, 4)
    assert (cls_grad[comp] < 0).all()
    assert (box_grad[comp].abs().sum(1) > 0).all()
    assert (cls_grad[gt_inds == -1] == 0).all()
    assert (box_grad[~(gt_inds > 0)] == 0).all()

    # the mining statistics of the batch, in the MessageHub
    def scalar(name):
        return hub.get_scalar(f'train/hambox/{name}').current()

    k = head.assigner.num_compensate
    num_faces = sum(len(f) for f in BATCH_FACES)
    d_stage1 = [int((stage1 & (gt_inds == i + 1)
                     & (torch.arange(len(gt_inds)) // len(anchors) == img))
                    .sum()) for img, faces_ in enumerate(BATCH_FACES)
                for i in range(len(faces_))]
    d_final = [int(((gt_inds == i + 1)
                    & (torch.arange(len(gt_inds)) // len(anchors) == img))
                   .sum()) for img, faces_ in enumerate(BATCH_FACES)
               for i in range(len(faces_))]
    assert scalar('compensated_per_img') == n_com / 2
    assert scalar('faces_below_k_stage1') == pytest.approx(
        sum(d < k for d in d_stage1) / num_faces)
    assert scalar('faces_below_k_final') == pytest.approx(
        sum(d < k for d in d_final) / num_faces)
    assert scalar('compensated_reg_iou') == pytest.approx(
        reg_iou[comp].mean().item(), rel=1e-5)
    assert scalar('ignored_negatives_per_img') == int(ignored_neg.sum()) / 2
    assert int(ignored_neg.sum()) > 0


def test_autocast_bfloat16_loss():
    """Under CPU AMP the head's outputs are bf16; mining runs in float32
    and finds the same anchors as float32 outputs of the same values."""
    head = MODELS.build(head_cfg())
    head.assigner = Recorder(head.assigner)
    cls_scores, bbox_preds, _ = batch_outputs(head)
    gts, ignore = batch_gt()
    bf16 = [t.detach().bfloat16().requires_grad_(True)
            for t in cls_scores + bbox_preds]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = head.loss_by_feat(bf16[:6], bf16[6:], gts, metas() * 2,
                                   ignore)
    rounded = [t.detach().float() for t in bf16]
    expected = head.loss_by_feat(rounded[:6], rounded[6:], gts, metas() * 2,
                                 ignore)
    calls = head.assigner.calls
    for (_, a), (_, b) in zip(calls[:2], calls[2:]):
        assert torch.equal(a.gt_inds, b.gt_inds)
    assert losses['num_pos_com'].item() == expected['num_pos_com'].item() > 0
    assert torch.isfinite(losses['loss_cls'] + losses['loss_bbox'])
    assert losses['loss_cls'].item() == pytest.approx(
        expected['loss_cls'].item(), rel=0.05)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_equals_cpu():
    head = MODELS.build(head_cfg())
    cls_scores, bbox_preds, _ = batch_outputs(head)
    gts, ignore = batch_gt()
    cpu = head.loss_by_feat(cls_scores, bbox_preds, gts, metas() * 2, ignore)
    head = head.cuda()
    cuda = head.loss_by_feat([c.detach().cuda() for c in cls_scores],
                             [b.detach().cuda() for b in bbox_preds],
                             [g.to('cuda') for g in gts], metas() * 2,
                             [i.to('cuda') for i in ignore])
    for key in cpu:
        assert cuda[key].item() == pytest.approx(cpu[key].item(), rel=1e-4)
