# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBoxAssigner equals a plain loop of the paper's Algorithm 1 (faces in
index order) on thousands of random crowded scenes, and the vectorised
greedy equals the sequential one on random candidate lists."""
import pytest
import torch
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData

from hambox_mmdet.models.task_modules.assigners.hambox_compensation import \
    sequential_greedy

NUM_SCENES = 2400


@pytest.fixture(autouse=True)
def one_thread():
    """Thousands of tiny scenes: threads only add overhead (and contend
    with other processes on a shared CI machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def plain_greedy(faces, anchors, ious, need):
    """Algorithm 1's compensation as a loop: faces in order, each takes its
    best remaining candidates (IoU descending, ties to the lower anchor)."""
    taken_anchors, taken = set(), []
    for g in range(len(need)):
        pairs = [i for i in range(len(faces)) if faces[i] == g]
        pairs.sort(key=lambda i: (-ious[i], anchors[i]))
        got = 0
        for i in pairs:
            if got >= need[g]:
                break
            if anchors[i] not in taken_anchors:
                taken_anchors.add(anchors[i])
                taken.append(i)
                got += 1
    return sorted(taken)


def reference_algorithm1(priors, bboxes, gts, ignore, k, t, low_quality):
    """Stage 1 by mmdet's MaxIoUAssigner, then Algorithm 1 with plain
    loops. Returns gt_inds and compensated as lists."""
    stage1 = TASK_UTILS.build(
        dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.35,
            neg_iou_thr=0.35,
            min_pos_iou=0.1,
            match_low_quality=low_quality,
            ignore_iof_thr=0.5))
    gt_ignore = None if ignore is None else InstanceData(bboxes=ignore)
    result = stage1.assign(
        InstanceData(priors=priors),
        InstanceData(bboxes=gts, labels=torch.zeros(len(gts)).long()),
        gt_ignore)
    gt_inds = result.gt_inds.tolist()
    in_ignore = [False] * len(priors)
    if ignore is not None and len(ignore):
        iof = bbox_overlaps(priors, ignore, mode='iof').max(dim=1)[0]
        in_ignore = (iof > 0.5).tolist()
    if len(gts) == 0:  # MaxIoUAssigner forgets the ignore regions here
        gt_inds = [-1 if i else 0 for i in in_ignore]
    reg = bbox_overlaps(gts, bboxes).tolist() if len(gts) else []
    taken = [gt_inds[a] > 0 or in_ignore[a] for a in range(len(priors))]
    compensated = [False] * len(priors)
    stage1 = list(gt_inds)
    for g in range(len(gts)):
        d = sum(1 for x in stage1 if x == g + 1)
        cands = [a for a in range(len(priors))
                 if not taken[a] and reg[g][a] >= t]
        cands.sort(key=lambda a: (-reg[g][a], a))
        for a in cands[:max(k - d, 0)]:
            gt_inds[a] = g + 1
            taken[a] = True
            compensated[a] = True
    return gt_inds, compensated


def crowded_scene(seed):
    """2 to 7 overlapping faces, 120 anchors whose regressed boxes mostly
    land on faces; boxes on a 2 px grid so that IoUs tie. Some scenes have
    a zero-area face, an ignore region, or no face at all (only an ignore
    region: a crop that kept only ignored faces)."""
    g = torch.Generator().manual_seed(seed)
    num_gts = int(torch.randint(2, 8, (1, ), generator=g))
    xy = torch.rand(num_gts, 2, generator=g) * 24
    wh = torch.rand(num_gts, 2, generator=g) * 24 + 8
    gts = torch.cat([xy, xy + wh], 1)
    if seed % 5 == 3:  # a zero-area face (a degenerate annotation)
        gts[0, 2:] = gts[0, :2]
    num_priors = 120
    pxy = torch.rand(num_priors, 2, generator=g) * 60 - 10
    pwh = torch.rand(num_priors, 1, generator=g) * 30 + 6
    priors = torch.cat([pxy, pxy + pwh.expand(-1, 2)], 1)
    target = gts[torch.randint(num_gts, (num_priors, ), generator=g)]
    near = torch.rand(num_priors, 1, generator=g) < 0.7
    bboxes = torch.where(near, target, priors)
    bboxes = bboxes + torch.randn(num_priors, 4, generator=g) * 3
    bboxes = (bboxes / 2).round() * 2  # ties
    x1y1 = torch.minimum(bboxes[:, :2], bboxes[:, 2:] - 2)
    bboxes = torch.cat([x1y1, bboxes[:, 2:]], 1)
    ignore = None
    if seed % 2:
        ixy = torch.rand(1, 2, generator=g) * 40
        ignore = torch.cat([ixy, ixy + 20], 1)
    if seed % 50 == 7:  # no faces at all; ignore regions only
        gts = gts[:0]
    return priors, bboxes, gts, ignore


@pytest.mark.parametrize('part', range(4))
def test_assigner_equals_plain_algorithm1(part):
    """NUM_SCENES crowded scenes over K in 1, 2, 3, 5, T in 0.4, 0.5, 0.7,
    with and without ignore regions and low-quality matching."""
    ks, ts = (1, 2, 3, 5), (0.4, 0.5, 0.7)
    num_contested = 0
    for seed in range(part, NUM_SCENES, 4):
        k, t = ks[seed // 4 % 4], ts[seed // 16 % 3]
        low_quality = seed // 48 % 2 == 1
        priors, bboxes, gts, ignore = crowded_scene(seed)
        assigner = TASK_UTILS.build(
            dict(
                type='HAMBoxAssigner',
                num_compensate=k,
                compensate_iou_thr=t,
                match_low_quality=low_quality,
                min_pos_iou=0.1))
        result = assigner.assign(
            InstanceData(priors=priors, bboxes=bboxes),
            InstanceData(bboxes=gts, labels=torch.zeros(len(gts)).long()),
            None if ignore is None else InstanceData(bboxes=ignore))
        ref_inds, ref_comp = reference_algorithm1(priors, bboxes, gts,
                                                  ignore, k, t, low_quality)
        assert result.gt_inds.tolist() == ref_inds, f'seed {seed}'
        comp = result.get_extra_property('compensated')
        assert comp.tolist() == ref_comp, f'seed {seed}'
        if len(gts) and comp.any():
            reg = bbox_overlaps(gts, bboxes)
            cand = (reg >= t) & ((result.gt_inds <= 0) | comp)[None]
            num_contested += int((cand.sum(0) > 1).any())
    # the scenes do exercise faces competing for anchors
    assert num_contested > NUM_SCENES // 4 // 3


@pytest.mark.parametrize('seed', range(3))
def test_sequential_greedy_on_random_lists(seed):
    """Long chains of faces blocking one another, many ties."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(100):
        num_faces = int(torch.randint(1, 12, (1, ), generator=g))
        num_anchors = int(torch.randint(1, 30, (1, ), generator=g))
        pairs = torch.rand(num_faces, num_anchors, generator=g) < 0.5
        faces, anchors = pairs.nonzero(as_tuple=True)
        ious = torch.randint(5, 10, (len(faces), ), generator=g) / 10
        need = torch.randint(0, 5, (num_faces, ), generator=g)
        perm = torch.randperm(len(faces), generator=g)  # any input order
        faces, anchors, ious = faces[perm], anchors[perm], ious[perm]
        taken = sequential_greedy(faces, anchors, ious, need)
        expected = plain_greedy(faces.tolist(), anchors.tolist(),
                                ious.tolist(), need.tolist())
        assert sorted(taken.tolist()) == expected


def test_two_faces_order_decides():
    """K = 1. Face 0 takes the anchor both want most, though that anchor's
    box overlaps face 1 more; face 1 then gets its next best. Swap the
    faces and the other face wins it (Algorithm 1, faces in index order)."""
    gts = torch.tensor([[0., 0., 20., 20.], [0., 4., 20., 24.]])
    bboxes = torch.tensor([
        [0., 4., 20., 22.],  # face 0: 0.727, face 1: 0.9
        [0., 8., 20., 32.],  # face 1 only: 0.571
        [0., -6., 20., 18.],  # face 0 only: 0.692
    ])
    reg = bbox_overlaps(gts, bboxes)
    assert torch.allclose(
        reg, torch.tensor([[320 / 440, 240 / 640, 360 / 520],
                           [0.9, 320 / 560, 280 / 600]]))
    priors = torch.tensor([[5000., 5000., 5001., 5001.]]).expand(3, 4)
    assigner = TASK_UTILS.build(
        dict(type='HAMBoxAssigner', num_compensate=1))

    def assign(faces):
        return assigner.assign(
            InstanceData(priors=priors, bboxes=bboxes),
            InstanceData(bboxes=faces, labels=torch.zeros(2).long()))

    assert assign(gts).gt_inds.tolist() == [1, 2, 0]
    assert assign(gts.flip(0)).gt_inds.tolist() == [1, 0, 2]
