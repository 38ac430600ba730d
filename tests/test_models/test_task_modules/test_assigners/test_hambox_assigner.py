# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBoxAssigner on hand-made scenes, against a plain loop of Algorithm 1,
and against mmdet's MaxIoUAssigner for its stage-1 matching."""
import pytest
import torch
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData

from hambox_mmdet.models.utils import pairwise_iou


def build(**kwargs):
    return TASK_UTILS.build(dict(type='HAMBoxAssigner', **kwargs))


def instances(priors, bboxes, gts, ignore=None):
    pred = InstanceData(
        priors=torch.tensor(priors, dtype=torch.float32),
        bboxes=torch.tensor(bboxes, dtype=torch.float32))
    gt = InstanceData(
        bboxes=torch.tensor(gts, dtype=torch.float32).reshape(-1, 4),
        labels=torch.zeros(len(gts), dtype=torch.long))
    gt_ignore = None
    if ignore is not None:
        gt_ignore = InstanceData(
            bboxes=torch.tensor(ignore, dtype=torch.float32).reshape(-1, 4))
    return pred, gt, gt_ignore


def box_with_iou(face, iou):
    """A box sharing ``face``'s top, left and width, taller, with IoU ``iou``.

    For a w x h face and a w x (h + d) box: IoU = h / (h + d).
    """
    x1, y1, x2, y2 = face
    return [x1, y1, x2, y2 + (y2 - y1) * (1 / iou - 1)]


FAR = [5000., 5000., 5001., 5001.]  # a prior that overlaps nothing


def hand_scene():
    """Faces, priors, regressed boxes and the expected assignment.

    - face 0 (100 px) has 6 stage-1 anchors: D >= K, it gets nothing, even
      from an anchor that regresses exactly onto it;
    - face 1 (20 px) has 1 stage-1 anchor: it gets its 4 best candidates
      (IoU 0.9, 0.8, 0.7, 0.6) but not the 5th (0.55) nor one below T
      (0.45); a stage-1 positive of face 0 that regresses onto face 1
      exactly stays face 0's;
    - faces 2 and 3 have no stage-1 anchor and share a candidate whose
      regressed box overlaps face 3 more: face 2 comes first and takes it
      (Algorithm 1, faces in index order), face 3 gets nothing;
    - a prior inside an ignore region regresses onto face 1 exactly: ignored.
    """
    f0 = [0., 0., 100., 100.]
    f1 = [200., 200., 220., 220.]
    f2 = [400., 400., 420., 420.]
    f3 = [400., 410., 420., 430.]
    faces = [f0, f1, f2, f3]
    priors, bboxes, expected, compensated = [], [], [], []

    def add(prior, bbox, gt_ind, comp=False):
        priors.append(prior)
        bboxes.append(bbox)
        expected.append(gt_ind)
        compensated.append(comp)

    # six stage-1 positives of face 0 (anchor IoU >= 0.35)
    for dx in range(5):
        add([dx * 2., 0., 100. + dx * 2., 100.], f0, 1)
    add([0., 0., 100., 100.], f1, 1)  # regresses onto face 1: stays face 0
    add(FAR, f0, 0)  # face 0 is full: stays negative
    # face 1: one stage-1 anchor, then candidates by regressed IoU
    add(f1, f1, 2)
    for iou, exp in [(0.7, 2), (0.9, 2), (0.45, 0), (0.6, 2), (0.8, 2),
                     (0.55, 0)]:
        add(FAR, box_with_iou(f1, iou), exp, exp > 0)
    # faces 2 and 3 (no stage-1 anchor); the contested box overlaps
    # face 2 with 280 / 520 = 0.54 and face 3 with 320 / 480 = 0.67
    add(FAR, [400., 406., 420., 426.], 3, True)
    add(FAR, box_with_iou(f2, 0.75), 3, True)
    # inside the ignore region, regressing onto face 1 exactly
    add([610., 610., 690., 690.], f1, -1)
    return faces, priors, bboxes, expected, compensated


def test_hand_scene():
    faces, priors, bboxes, expected, compensated = hand_scene()
    pred, gt, gt_ignore = instances(
        priors, bboxes, faces, ignore=[[600., 600., 700., 700.]])
    result = build().assign(pred, gt, gt_ignore)
    assert result.gt_inds.tolist() == expected
    assert result.get_extra_property('compensated').tolist() == compensated
    assert result.labels.tolist() == [0 if e > 0 else -1 for e in expected]
    reg_ious = result.get_extra_property('reg_ious')
    # positives: IoU of the regressed box with their own face
    assert reg_ious[5].item() == pytest.approx(0.0)  # face-1 box, face 0
    assert reg_ious[9].item() == pytest.approx(0.9, abs=1e-5)
    # the contested anchor, with face 2 (the first face), not face 3
    assert reg_ious[14].item() == pytest.approx(280 / 520, abs=1e-5)
    # negatives: their best face
    assert reg_ious[6].item() == pytest.approx(1.0)
    assert reg_ious[10].item() == pytest.approx(0.45, abs=1e-5)
    # stage-1 IoU of the anchors, as mmdet's MaxIoUAssigner reports it
    assert result.max_overlaps[0].item() == pytest.approx(1.0)


def test_without_ignore_region_the_prior_is_compensated():
    faces, priors, bboxes, expected, _ = hand_scene()
    pred, gt, _ = instances(priors, bboxes, faces)
    result = build().assign(pred, gt)
    # the last prior now competes for face 1 with IoU 1.0 and wins; face 1
    # still ends with K = 5 anchors, so its weakest candidate (0.6) drops
    assert result.gt_inds[-1].item() == 2
    assert (result.gt_inds == 2).sum().item() == 5
    assert result.gt_inds[11].item() == 0  # the 0.6 candidate


@pytest.mark.parametrize('k,t,num_face1', [(3, 0.5, 3), (5, 0.75, 3),
                                           (5, 0.95, 1), (0, 0.5, 1)])
def test_k_and_t(k, t, num_face1):
    faces, priors, bboxes, _, _ = hand_scene()
    pred, gt, ignore = instances(priors, bboxes, faces, [[600, 600, 700, 700]])
    result = build(num_compensate=k, compensate_iou_thr=t).assign(
        pred, gt, ignore)
    assert (result.gt_inds == 2).sum().item() == num_face1
    comp = result.get_extra_property('compensated')
    assert (result.get_extra_property('reg_ious')[comp] >= t).all()


def test_needs_regressed_boxes():
    pred = InstanceData(priors=torch.rand(4, 4))
    gt = InstanceData(bboxes=torch.rand(1, 4), labels=torch.zeros(1).long())
    with pytest.raises(ValueError, match='HAMBoxHead'):
        build().assign(pred, gt)
    pred.bboxes = torch.rand(4, 5)
    with pytest.raises(ValueError, match='one regressed box per prior'):
        build().assign(pred, gt)


def test_no_faces_and_no_priors():
    pred, gt, _ = instances([[0, 0, 10, 10]] * 3, [[0, 0, 10, 10]] * 3, [])
    result = build().assign(pred, gt)
    assert result.gt_inds.tolist() == [0, 0, 0]
    assert not result.get_extra_property('compensated').any()
    pred = InstanceData(priors=torch.zeros(0, 4), bboxes=torch.zeros(0, 4))
    gt = InstanceData(bboxes=torch.rand(2, 4), labels=torch.zeros(2).long())
    assert build().assign(pred, gt).gt_inds.numel() == 0


# ---- against a plain loop of Algorithm 1 ----------------------------------
def reference_algorithm1(priors, bboxes, gts, k, t, pos_thr=0.35):
    """Algorithm 1 with Python loops: faces in order, first come first
    served."""
    iou = bbox_overlaps(gts, priors)
    reg_iou = bbox_overlaps(gts, bboxes)
    num_gts, num_priors = iou.shape
    gt_inds = [0] * num_priors
    for a in range(num_priors):
        best = max(range(num_gts), key=lambda g: (iou[g, a], -g))
        if iou[best, a] >= pos_thr:
            gt_inds[a] = best + 1
    taken = [g > 0 for g in gt_inds]
    compensated = [False] * num_priors
    for g in range(num_gts):
        d = sum(1 for a in range(num_priors)
                if gt_inds[a] == g + 1 and not compensated[a])
        if d >= k:
            continue
        cands = [a for a in range(num_priors)
                 if not taken[a] and reg_iou[g, a] >= t]
        cands.sort(key=lambda a: -reg_iou[g, a].item())  # stable
        for a in cands[:k - d]:
            gt_inds[a] = g + 1
            taken[a] = True
            compensated[a] = True
    return gt_inds, compensated


def random_scene(seed, num_gts, spread, num_priors=600):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(num_gts, 2, generator=g) * spread
    wh = torch.rand(num_gts, 2, generator=g) * 30 + 6
    gts = torch.cat([xy, xy + wh], 1)
    pxy = torch.rand(num_priors, 2, generator=g) * (spread + 30)
    pwh = torch.rand(num_priors, 1, generator=g) * 40 + 4
    priors = torch.cat([pxy, pxy + pwh.expand(-1, 2)], 1)
    # regressed boxes: half of them land near a random face
    target = gts[torch.randint(num_gts, (num_priors, ), generator=g)]
    jitter = torch.randn(num_priors, 4, generator=g) * 3
    near = torch.rand(num_priors, 1, generator=g) < 0.5
    bboxes = torch.where(near, target + jitter, priors + jitter)
    x1y1 = torch.minimum(bboxes[:, :2], bboxes[:, 2:] - 1)
    bboxes = torch.cat([x1y1, bboxes[:, 2:]], 1)
    return priors, bboxes, gts


def contested_anchors(priors, bboxes, gts, gt_inds_stage1, k, t):
    reg_iou = bbox_overlaps(gts, bboxes)
    d = torch.bincount(
        gt_inds_stage1[gt_inds_stage1 > 0] - 1, minlength=len(gts))
    needy = d < k
    cand = (reg_iou >= t) & needy[:, None] & (gt_inds_stage1 <= 0)[None]
    return cand, cand.sum(0) > 1


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('k,t', [(5, 0.5), (3, 0.6)])
def test_matches_algorithm1_on_sparse_scenes(seed, k, t):
    """Faces far apart: no contested anchor, identical results."""
    priors, bboxes, gts = random_scene(seed, num_gts=4, spread=2000)
    ref_inds, ref_comp = reference_algorithm1(priors, bboxes, gts, k, t)
    stage1 = torch.tensor(reference_algorithm1(priors, bboxes, gts, 0, t)[0])
    _, contested = contested_anchors(priors, bboxes, gts, stage1, k, t)
    assert not contested.any()
    result = build(num_compensate=k, compensate_iou_thr=t).assign(
        InstanceData(priors=priors, bboxes=bboxes),
        InstanceData(bboxes=gts, labels=torch.zeros(len(gts)).long()))
    assert result.gt_inds.tolist() == ref_inds
    assert result.get_extra_property('compensated').tolist() == ref_comp
    assert sum(ref_comp) > 0  # the scene does exercise compensation


def test_contested_anchors_go_to_the_first_face():
    """Two needy faces want the same six anchors, which overlap face a more
    than face b: the first face in index order takes its 5 best, the other
    face the 6th, whichever face comes first (Algorithm 1)."""
    f_a, f_b = [0., 0., 20., 20.], [0., 4., 20., 24.]
    # anchors 0..5 regress onto face a with IoU 0.95 .. 0.73, growing
    # upwards (away from face b, which they overlap with 0.64 .. 0.51)
    bboxes = [[0., -20 / v + 20, 20., 20.]
              for v in (0.95, 0.9, 0.85, 0.8, 0.76, 0.73)]
    priors = [FAR] * len(bboxes)
    reg = bbox_overlaps(torch.tensor([f_a, f_b]), torch.tensor(bboxes))
    assert (reg[0] > reg[1]).all() and (reg[1] >= 0.5).all()
    result = build(num_compensate=5).assign(*instances(priors, bboxes,
                                                       [f_a, f_b])[:2])
    assert result.gt_inds.tolist() == [1, 1, 1, 1, 1, 2]
    # face b first: it ranks the anchors in the same order and takes 0..4
    result = build(num_compensate=5).assign(*instances(priors, bboxes,
                                                       [f_b, f_a])[:2])
    assert result.gt_inds.tolist() == [1, 1, 1, 1, 1, 2]


# ---- stage 1 against mmdet's MaxIoUAssigner --------------------------------
@pytest.mark.parametrize('seed', range(3))
@pytest.mark.parametrize('low_quality,assign_all', [(False, True),
                                                    (True, True),
                                                    (True, False)])
def test_stage1_equals_max_iou_assigner(seed, low_quality, assign_all):
    priors, bboxes, gts = random_scene(seed, num_gts=30, spread=300)
    ignore = torch.tensor([[50., 50., 120., 120.]])
    cfg = dict(
        pos_iou_thr=0.35,
        neg_iou_thr=(0.1, 0.3),
        min_pos_iou=0.2,
        match_low_quality=low_quality,
        gt_max_assign_all=assign_all,
        ignore_iof_thr=0.5)
    theirs = TASK_UTILS.build(dict(type='MaxIoUAssigner', **cfg))
    ours = build(num_compensate=0, tile_elems=2000, **cfg)
    pred = InstanceData(priors=priors, bboxes=bboxes)
    gt = InstanceData(bboxes=gts, labels=torch.arange(len(gts)))
    gt_ignore = InstanceData(bboxes=ignore)
    expected = theirs.assign(pred, gt, gt_ignore)
    result = ours.assign(pred, gt, gt_ignore)
    assert torch.equal(result.gt_inds, expected.gt_inds)
    assert torch.equal(result.labels, expected.labels)
    assert torch.allclose(result.max_overlaps, expected.max_overlaps)


def test_tiles_do_not_change_the_result():
    priors, bboxes, gts = random_scene(7, num_gts=40, spread=200,
                                       num_priors=3000)
    pred = InstanceData(priors=priors, bboxes=bboxes)
    gt = InstanceData(bboxes=gts, labels=torch.zeros(len(gts)).long())
    whole = build(tile_elems=10**9).assign(pred, gt)
    tiled = build(tile_elems=1).assign(pred, gt)  # 256 anchors a tile
    assert torch.equal(whole.gt_inds, tiled.gt_inds)
    for key in ('compensated', 'reg_ious'):
        assert torch.equal(
            whole.get_extra_property(key), tiled.get_extra_property(key))
    assert whole.get_extra_property('compensated').any()


def test_pairwise_iou_equals_mmdet():
    _, bboxes, gts = random_scene(3, num_gts=50, spread=100)
    assert torch.allclose(
        pairwise_iou(gts, bboxes), bbox_overlaps(gts, bboxes), atol=1e-6)
    degenerate = torch.tensor([[5., 5., 5., 5.]])
    assert pairwise_iou(degenerate, degenerate).item() == 0


# ---- hardening ----------------------------------------------------------
def test_all_faces_ignored_keeps_ignore_regions():
    """No face left (a crop that kept only ignored faces): anchors inside
    the ignore regions stay ignored, the others are background."""
    pred, gt, gt_ignore = instances(
        [[0., 0., 10., 10.], [100., 100., 110., 110.], [2., 2., 8., 8.]],
        [[0., 0., 10., 10.]] * 3, [], ignore=[[0., 0., 12., 12.]])
    result = build().assign(pred, gt, gt_ignore)
    assert result.gt_inds.tolist() == [-1, 0, -1]
    assert result.labels.tolist() == [-1, -1, -1]
    assert not result.get_extra_property('compensated').any()


def large_face_scene():
    """A 400 px face with 1 stage-1 anchor and 6 candidates (IoU 0.9 ...
    0.55): K = 5 compensates the best 4."""
    face = [100., 100., 500., 500.]
    priors = [face] + [FAR] * 6
    bboxes = [face] + [box_with_iou(face, v)
                       for v in (0.9, 0.55, 0.8, 0.7, 0.6, 0.65)]
    return instances(priors, bboxes, [face])[:2]


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_inputs_are_computed_in_float32(dtype):
    pred, gt = large_face_scene()
    rounded = InstanceData(priors=pred.priors.to(dtype).float(),
                           bboxes=pred.bboxes.to(dtype).float())
    expected = build().assign(rounded, gt)
    half_pred = InstanceData(priors=pred.priors.to(dtype),
                             bboxes=pred.bboxes.to(dtype))
    half_gt = InstanceData(bboxes=gt.bboxes.to(dtype), labels=gt.labels)
    result = build().assign(half_pred, half_gt)
    assert result.gt_inds.tolist() == [1, 1, 0, 1, 1, 0, 1]
    assert torch.equal(result.gt_inds, expected.gt_inds)
    comp = result.get_extra_property('compensated')
    assert comp.sum().item() == 4
    assert torch.equal(result.get_extra_property('reg_ious'),
                       expected.get_extra_property('reg_ious'))


def test_autocast_bfloat16():
    """Under AMP, with the bf16 boxes a bf16 head would give."""
    pred, gt = large_face_scene()
    bf16 = InstanceData(priors=pred.priors.bfloat16(),
                        bboxes=pred.bboxes.bfloat16())
    expected = build().assign(
        InstanceData(priors=bf16.priors.float(), bboxes=bf16.bboxes.float()),
        gt)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        result = build().assign(bf16, gt)
    assert torch.equal(result.gt_inds, expected.gt_inds)
    assert result.get_extra_property('compensated').sum().item() == 4
    assert result.get_extra_property('reg_ious').dtype == torch.float32


@pytest.mark.parametrize('assign_all', [True, False])
def test_zero_area_face_gets_no_low_quality_anchor(assign_all):
    faces = [[50., 50., 50., 50.], [0., 0., 20., 20.]]
    priors = [[0., 0., 20., 20.], [100., 100., 120., 120.], FAR]
    pred, gt, _ = instances(priors, priors, faces)
    result = build(match_low_quality=True, min_pos_iou=0.,
                   gt_max_assign_all=assign_all).assign(pred, gt)
    assert result.gt_inds.tolist() == [2, 0, 0]
    if assign_all:
        # mmdet's MaxIoUAssigner gives the empty face every anchor at IoU 0
        theirs = TASK_UTILS.build(
            dict(type='MaxIoUAssigner', pos_iou_thr=0.35, neg_iou_thr=0.35,
                 min_pos_iou=0.)).assign(pred, gt)
        assert theirs.gt_inds.tolist() == [2, 1, 1]


def test_compensate_iou_thr_must_be_positive():
    with pytest.raises(ValueError, match='compensate_iou_thr'):
        build(compensate_iou_thr=0.)


def test_gpu_assign_thr_moves_the_work_to_the_cpu(monkeypatch):
    """Above ``gpu_assign_thr`` faces the assignment runs on the CPU and
    comes back on the input's device, unchanged."""
    from hambox_mmdet.models.task_modules.assigners import hambox_assigner
    priors, bboxes, gts = random_scene(5, num_gts=12, spread=100)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    pred = InstanceData(priors=priors.to(device), bboxes=bboxes.to(device))
    gt = InstanceData(bboxes=gts.to(device),
                      labels=torch.zeros(len(gts)).long().to(device))
    expected = build().assign(pred, gt)
    seen = []
    original = hambox_assigner.HAMBoxAssigner._assign

    def spy(self, priors, *args):
        seen.append(priors.device.type)
        return original(self, priors, *args)

    monkeypatch.setattr(hambox_assigner.HAMBoxAssigner, '_assign', spy)
    result = build(gpu_assign_thr=5).assign(pred, gt)
    below = build(gpu_assign_thr=50).assign(pred, gt)
    assert seen == ['cpu', device]
    for res in (result, below):
        assert res.gt_inds.device.type == device
        assert torch.equal(res.gt_inds, expected.gt_inds)
        for key in ('compensated', 'reg_ious'):
            value = res.get_extra_property(key)
            assert value.device.type == device
            # CPU and GPU IoUs may differ in the last bit
            assert torch.allclose(value.float(),
                                  expected.get_extra_property(key).float(),
                                  atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('seed', range(4))
def test_cuda_equals_cpu(seed):
    priors, bboxes, gts = random_scene(seed, num_gts=30, spread=60)
    ignore = torch.tensor([[10., 10., 40., 40.]])

    def run(device):
        return build(match_low_quality=bool(seed % 2)).assign(
            InstanceData(priors=priors.to(device), bboxes=bboxes.to(device)),
            InstanceData(bboxes=gts.to(device),
                         labels=torch.zeros(len(gts)).long().to(device)),
            InstanceData(bboxes=ignore.to(device)))

    cpu, cuda = run('cpu'), run('cuda')
    assert torch.equal(cpu.gt_inds, cuda.gt_inds.cpu())
    for key in ('compensated', 'reg_ious'):
        assert torch.allclose(
            cpu.get_extra_property(key).float(),
            cuda.get_extra_property(key).cpu().float(), atol=1e-6)
