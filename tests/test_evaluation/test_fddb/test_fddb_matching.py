# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDB matching: hand-made cases with known answers, the plain-loop
reference of the official program on random cases and on the real
annotations, with both matchings (the official solver's only cases are in
test_fddb_official.py)."""
import math

import numpy as np
import pytest

from oracles.fddb_reference import (FDDB_FOLDS, draw_ellipse_mask,  # noqa: E402
                                    random_case, reference_roc)

from hambox_mmdet.evaluation.fddb import (  # noqa: E402
    FDDBGroundTruth, ellipse_bboxes, evaluate as evaluate_fddb,
    load_ground_truth as load_fddb_folds, pair_overlaps)
from hambox_mmdet.evaluation.fddb.matching import (  # noqa: E402
    match_events, rect_corners)

pytest.importorskip('cv2')


def _evaluate(ellipses, dets, sizes, matching='official'):
    keys = [f'img_{i}' for i in range(len(ellipses))]
    gt = FDDBGroundTruth(keys, ellipses)
    return evaluate_fddb(dict(zip(keys, dets)), gt, np.array(sizes),
                         matching=matching)


def test_rect_corners_round_half_to_even_and_sort():
    dets = np.array([[0.5, 1.5, 2.0, 2.0, 1], [10.2, 5.0, -4.0, -3.6, 1]])
    # 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4 (float32, half to even)
    np.testing.assert_array_equal(rect_corners(dets),
                                  [[0, 2, 2, 4], [6, 1, 10, 5]])


def test_full_image_box_counts_the_ellipse_pixels():
    ell = np.array([[20.0, 10.0, 0.3, 50.0, 40.0]])
    mask = draw_ellipse_mask(ell[0], 80, 100)
    # the box covers the whole canvas (and more: clipped to the image)
    det = np.array([[-10.0, -10.0, 200.0, 200.0, 1.0]])
    face, det_i, iou = pair_overlaps([ell], [det], np.array([[80, 100]]))
    assert iou[0] == pytest.approx(mask.sum() / (80 * 100))
    # about the area of the ellipse, pi a b
    assert abs(mask.sum() - math.pi * 200) < 0.1 * math.pi * 200


def test_box_outside_image_is_a_false_positive():
    ell = np.array([[20.0, 14.0, 0.0, 30.0, 30.0]])
    inside = np.r_[ellipse_bboxes(ell)[0, :2], 40.0, 28.0, 0.9]
    outside = np.array([70.0, 10.0, 40.0, 40.0, 0.8])  # image is 60 wide
    res = _evaluate([ell], [np.stack([inside, outside])], [(60, 60)])
    np.testing.assert_array_equal(res.thresholds, [0.8, 0.9])
    np.testing.assert_array_equal(res.tp_discrete, [1, 1])
    np.testing.assert_array_equal(res.fp, [1, 0])
    assert res.tpr_at(0) == 1.0 and res.tpr_at(0, 'continuous') > 0.7


def test_hungarian_rearranges_when_a_detection_is_added():
    # det 0 (score 0.9) overlaps face 0 by 0.6 and face 1 by 0.55; det 1
    # (score 0.5) overlaps face 0 by 0.58. At 0.9: one pair (0.6); at 0.5 the
    # maximum-weight matching takes det 0 -> face 1 and det 1 -> face 0.
    face = np.array([0, 1, 0])
    det = np.array([0, 0, 1])
    iou = np.array([0.6, 0.55, 0.58])
    s, d_disc, d_cont = match_events(face, det, iou, np.array([0.9, 0.5]), 2,
                                     matching='optimal')
    order = np.argsort(-s)
    np.testing.assert_allclose(np.cumsum(d_disc[order]), [1, 2])
    np.testing.assert_allclose(np.cumsum(d_cont[order]), [0.6, 1.13])


def test_matched_pair_below_half_is_a_false_positive_but_counts_continuous():
    face, det = np.array([0]), np.array([0])
    s, d_disc, d_cont = match_events(face, det, np.array([0.4]),
                                     np.array([0.7]), 1)
    assert d_disc.sum() == 0 and d_cont.sum() == pytest.approx(0.4)


def test_image_without_detections_adds_the_infinite_point():
    ell = np.array([[10.0, 8.0, 0.0, 20.0, 20.0]])
    det = np.r_[ellipse_bboxes(ell)[0, :2], 20.0, 16.0, 0.3][None]
    res = _evaluate([ell, ell], [det, np.zeros((0, 5))], [(40, 40)] * 2)
    np.testing.assert_array_equal(res.thresholds, [0.3, np.inf])
    np.testing.assert_array_equal(res.tp_discrete, [1, 0])
    assert res.num_faces == 2 and res.tpr_at(1000) == 0.5


@pytest.mark.parametrize('matching', ['optimal', 'official'])
@pytest.mark.parametrize('seed', range(12))
def test_against_plain_loop_reference(seed, matching):
    rng = np.random.default_rng(seed)
    ellipses, dets, sizes = random_case(
        rng, num_images=6, score_levels=5 if seed % 2 else None)
    ref = reference_roc(ellipses, dets, sizes, matching)
    res = _evaluate(ellipses, dets, sizes, matching)
    assert res.matching == matching
    np.testing.assert_array_equal(res.thresholds, ref['thresholds'])
    np.testing.assert_array_equal(res.tp_discrete, ref['tp_discrete'])
    np.testing.assert_array_equal(res.fp, ref['fp'])
    np.testing.assert_allclose(res.tp_continuous, ref['tp_continuous'],
                               rtol=0, atol=1e-9)
    assert (ref['num_faces'] == res.num_faces).all()


def _real_gt():
    if not FDDB_FOLDS.is_dir():
        pytest.skip(f'FDDB annotations not found at {FDDB_FOLDS}')
    return load_fddb_folds(str(FDDB_FOLDS))


def _sizes_covering(gt):
    """Image sizes (unknown here) large enough for every ellipse."""
    sizes = []
    for e in gt.ellipses:
        box = ellipse_bboxes(e)
        sizes.append((int(box[:, 3].max()) + 8, int(box[:, 2].max()) + 8))
    return np.array(sizes)


def test_real_annotations_perfect_and_degraded_boxes():
    gt = _real_gt()
    assert len(gt) == 2845 and gt.num_faces == 5171
    sizes = _sizes_covering(gt)
    perfect = {
        k: np.c_[b[:, :2], b[:, 2:] - b[:, :2],
                 np.linspace(0.99, 0.9, len(b))]
        for k, b in zip(gt.image_keys, map(ellipse_bboxes, gt.ellipses))
    }
    res = evaluate_fddb(perfect, gt, sizes)
    assert res.tpr_at(0) == 1.0 and res.fp.max() == 0
    # a box around an ellipse covers it with about pi / 4 of its area
    assert 0.74 < res.tpr_at(1000, 'continuous') < 0.80
    # every second image missing: TPR = its faces / 5171 exactly
    half = {k: v for n, (k, v) in enumerate(perfect.items()) if n % 2}
    res = evaluate_fddb(half, gt, sizes)
    expected = sum(len(e) for n, e in enumerate(gt.ellipses) if n % 2)
    assert res.tpr_at(1000) == expected / 5171


@pytest.mark.parametrize('matching', ['optimal', 'official'])
def test_real_annotations_against_reference(matching):
    gt = _real_gt()
    rng = np.random.default_rng(0)
    keys = gt.image_keys[:25]
    ells = gt.ellipses[:25]
    sizes = _sizes_covering(gt)[:25]
    dets = []
    for e in ells:
        box = ellipse_bboxes(e)
        wh = box[:, 2:] - box[:, :2]
        jit = box[:, :2] + rng.normal(0, 0.25, wh.shape) * wh
        d = np.c_[jit, wh * rng.uniform(0.6, 1.4, wh.shape),
                  rng.integers(0, 4, len(e)) / 4]
        dets.append(np.r_[d, d[:1] + [3, 3, 0, 0, -0.1]])
    sub = FDDBGroundTruth(keys, ells)
    res = evaluate_fddb(dict(zip(keys, dets)), sub, sizes, matching=matching)
    ref = reference_roc(ells, dets, [tuple(s) for s in sizes], matching)
    np.testing.assert_array_equal(res.tp_discrete, ref['tp_discrete'])
    np.testing.assert_array_equal(res.fp, ref['fp'])
    np.testing.assert_allclose(res.tp_continuous, ref['tp_continuous'],
                               atol=1e-9)
