# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Standard IoU matching of anchors to faces: hand-made cases, and the two
ways of evaluating it (one image's anchors; many images from the generator's
geometry) against mmdet's dense IoU on the whole grid."""
import numpy as np
import pytest
import torch
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from mmdet.structures.bbox import bbox_overlaps

from hambox_mmdet.analysis import (match_anchors, match_counts,
                                   max_iou_with_faces)
from hambox_mmdet.models import FaceAnchorGenerator


def _t(rows):
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 4)


def _dense_reference(generator, faces, image_size, iou_thr=0.35):
    """D per face from every anchor of a square image plus a margin of two
    strides on each side, with mmdet's ``bbox_overlaps``, and the same grid
    for :func:`match_anchors`."""
    priors = []
    for level, stride in enumerate(generator.strides):
        n = image_size // stride[0] + 5
        anchors = generator.single_level_grid_priors((n, n), level,
                                                     device='cpu')
        priors.append(anchors - 2 * anchors.new_tensor(
            [stride[0], stride[1], stride[0], stride[1]]))
    priors = torch.cat(priors).double()
    best, face = bbox_overlaps(faces, priors).max(dim=0)
    hit = best >= iou_thr
    return np.bincount(face[hit].numpy(), minlength=len(faces)), priors


def test_match_anchors_by_hand():
    faces = _t([[0, 0, 100, 100], [200, 0, 300, 100]])
    # IoUs with F0: 1, 0.68, 0; with F1: 0, 0, 1/3 (below 0.35), 0.82
    anchors = _t([[0, 0, 100, 100], [10, 10, 110, 110], [150, 0, 250, 100],
                  [210, 0, 310, 100], [600, 600, 700, 700]])
    anchor_face, d = match_anchors(anchors, faces)
    assert anchor_face.tolist() == [0, 0, -1, 1, -1]
    assert d.tolist() == [2, 1]
    anchor_face, d = match_anchors(anchors, faces, iou_thr=0.3)
    assert anchor_face.tolist() == [0, 0, 1, 1, -1]
    assert d.tolist() == [2, 2]
    max_iou, best = max_iou_with_faces(anchors, faces)
    assert max_iou.tolist() == pytest.approx(
        [1.0, 8100 / 11900, 1 / 3, 9000 / 11000, 0.0])
    assert best.tolist() == [0, 0, 1, 1, 0]  # no overlap: the first face


def test_ties_go_to_the_lower_face_and_empty_inputs():
    faces = _t([[0, 0, 10, 10], [0, 0, 10, 10]])  # the same face twice
    anchor_face, d = match_anchors(_t([[0, 0, 10, 10]]), faces)
    assert anchor_face.tolist() == [0] and d.tolist() == [1, 0]
    gen = FaceAnchorGenerator(strides=[4], anchor_scale=0.68)
    side = 0.68 * 16
    twice = np.array([[22 - side / 2, 22 - side / 2, 22 + side / 2,
                       22 + side / 2]] * 2)
    assert match_counts(gen, twice, np.zeros(2, int)).tolist() == [5, 0]
    # in different images the two faces do not compete
    assert match_counts(gen, twice, np.arange(2)).tolist() == [5, 5]

    anchor_face, d = match_anchors(_t([[0, 0, 10, 10]]), _t([]))
    assert anchor_face.tolist() == [-1] and d.shape == (0, )
    max_iou, best = max_iou_with_faces(_t([]), faces)
    assert max_iou.shape == best.shape == (0, )
    assert match_counts(gen, np.zeros((0, 4)), np.zeros(0)).shape == (0, )
    # zero-size and inverted faces match nothing
    assert match_counts(gen, [[5, 5, 5, 20], [20, 20, 10, 10]],
                        [0, 0]).tolist() == [0, 0]
    with pytest.raises(ValueError, match=r'image_ids \(1\) and faces \(2\)'):
        match_counts(gen, twice, [0])
    with pytest.raises(ValueError, match='iou_thr must be > 0'):
        match_counts(gen, twice, [0, 0], iou_thr=0)


def test_match_counts_one_face_by_hand():
    # an anchor of side 0.68 * 16 at stride 4 sits centred on (2 + 4 j); a
    # face equal to the cell-(5, 5) anchor matches it and its 4 neighbours:
    # 4 px away they overlap (side - 4) / (side + 4) on one axis, so
    # IoU = (side - 4) * side / (2 * side^2 - (side - 4) * side) = 0.46;
    # diagonal neighbours reach 0.25, those 8 px away on one axis 0.15
    gen = FaceAnchorGenerator(strides=[4], anchor_scale=0.68)
    side = 0.68 * 16
    face = np.array([[22 - side / 2, 22 - side / 2, 22 + side / 2,
                      22 + side / 2]])
    assert match_counts(gen, face, np.zeros(1, dtype=int)).tolist() == [5]
    assert match_counts(gen, face, np.zeros(1, dtype=int),
                        iou_thr=0.2).tolist() == [9]
    # far from the origin, and left of / above it (negative grid cells)
    for shift in (4000.0, -400.0):
        assert match_counts(gen, face + shift, [7]).tolist() == [5]


@pytest.mark.parametrize('scale,ratios,iou_thr', [(0.4, [1.0], 0.35),
                                                  (1.0, [1.0, 1.3], 0.35),
                                                  (0.68, [0.8, 1.3], 0.2),
                                                  (0.5, [1.0], 0.7)])
def test_match_counts_equal_all_anchors(scale, ratios, iou_thr):
    """Counts from the generator's geometry equal those from every anchor of
    each image, by mmdet's dense IoU and by :func:`match_anchors`."""
    rng = np.random.default_rng(1)
    gen = FaceAnchorGenerator(anchor_scale=scale, ratios=ratios)
    faces, ids, expected, dense = [], [], [], []
    for img in range(3):
        xy = rng.uniform(40, 400, (30, 2))
        f = np.concatenate([xy, xy + rng.uniform(3, 110, (30, 2))], 1)
        faces.append(f)
        ids.append(np.full(30, img))
        d, priors = _dense_reference(gen, torch.tensor(f), 512, iou_thr)
        expected.append(d)
        # tiles of 4096 anchors: a dozen per image are reduced
        dense.append(match_anchors(priors, torch.tensor(f), iou_thr,
                                   tile_elems=30 * 4096)[1].numpy())
    counts = match_counts(gen, np.concatenate(faces), np.concatenate(ids),
                          iou_thr)
    assert counts.dtype == np.int64
    assert np.array_equal(counts, np.concatenate(expected))
    assert np.array_equal(counts, np.concatenate(dense))
    assert counts.sum() > 0 and (counts == 0).any()  # not vacuous


def test_match_counts_any_mmdet_anchor_generator():
    """mmdet's own generator (three ratios and three octave scales per
    level, cell corners as centres) through the same geometry."""
    gen = AnchorGenerator(
        strides=[8, 16, 32],
        ratios=[0.5, 1.0, 2.0],
        octave_base_scale=4,
        scales_per_octave=3)
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 300, (40, 2))
    faces = np.concatenate([xy, xy + rng.uniform(8, 200, (40, 2))], 1)
    expected, _ = _dense_reference(gen, torch.tensor(faces), 512)
    counts = match_counts(gen, faces, np.zeros(40, int))
    assert np.array_equal(counts, expected) and counts.sum() > 40
