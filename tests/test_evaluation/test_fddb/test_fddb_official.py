# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The official FDDB program's matching (libhungarian on its per-image
matrix): matrices worked out by hand, the plain-loop transliteration of the
solver on seeded random cases, and real annotations."""
import math

import numpy as np
import pytest

from oracles.fddb_reference import (FDDB_FOLDS, image_results_from_overlaps,  # noqa
                                    merge_image_results, official_hungarian,
                                    official_image_matching, random_case,
                                    reference_roc)

from hambox_mmdet.evaluation.fddb import (  # noqa: E402
    FDDBGroundTruth, ellipse_bboxes, evaluate as evaluate_fddb,
    load_ground_truth as load_fddb_folds, pair_overlaps)
from hambox_mmdet.evaluation.fddb.hungarian import (  # noqa: E402
    OfficialSolverError, official_assignment)
from hambox_mmdet.evaluation.fddb.matching import match_events  # noqa: E402

pytest.importorskip('cv2')


def _totals(w, scores, matching='official', face_image=None):
    """(threshold, disc, cont) points of match_events on a dense matrix
    (faces x detections of one image unless ``face_image`` says)."""
    w = np.asarray(w, np.float64)
    face, det = np.nonzero(np.ones_like(w, bool))
    s, d_disc, d_cont = match_events(face, det, w[face, det],
                                     np.asarray(scores, np.float64),
                                     w.shape[0], matching, face_image)
    thr = np.unique(s)[::-1]
    return [(t, int(round(d_disc[s >= t].sum())), d_cont[s >= t].sum())
            for t in thr]


# ---------------------------------------------------------------- the solver
def test_non_square_cover_from_columns_is_not_optimal():
    # rows: faces, columns: detections. Row maxima sum 1.7 > column maxima
    # 0.9 + 0.6 + 0.1 = 1.6: the cover starts from the columns, u = 0,
    # v = (0.9, 0.6, 0.1); tight: (0,0) (0,1) (1,2). Column by column the
    # first stars are (0,0) and (1,2): both rows have one, so that is the
    # answer, 0.9 + 0.1, although (0,1) + (1,0) = 0.6 + 0.8 is larger.
    w = [[0.9, 0.6, 0.0], [0.8, 0.0, 0.1]]
    assert official_assignment(w).tolist() == [0, 2]
    assert official_hungarian(w) == [0, 2]
    # one threshold: official 1 true positive (0.9), optimal 2
    assert _totals(w, [1, 1, 1]) == [(1.0, 1, pytest.approx(1.0))]
    assert _totals(w, [1, 1, 1], 'optimal') == [(1.0, 2, pytest.approx(1.4))]


def test_square_matrix_ends_optimal():
    # row maxima 0.9 + 0.85 > column maxima 0.9 + 0.8: cover from the
    # columns; the first star (0,0) leaves row 1 without one. Routine II:
    # row 0 is essential, the smallest slack of row 1 is 0.9 - 0.85, so
    # u0 = 0.05, v = (0.85, 0.75), (1,0) becomes tight and the path
    # (0,1) - (0,0)* - (1,0) is flipped: rows 0 -> 1, 1 -> 0 (0.8 + 0.85).
    w = [[0.9, 0.8], [0.85, 0.0]]
    assert official_assignment(w).tolist() == [1, 0]
    assert official_hungarian(w) == [1, 0]
    assert _totals(w, [1, 1]) == _totals(w, [1, 1], 'optimal')


def test_tie_of_two_assignments_is_broken_as_the_program_does():
    # both assignments weigh 0.875 (exact in binary); the official solver
    # (cover from the columns, step 0.25, then the path (0,1) - (0,0)* -
    # (1,0)) ends with 0.375 + 0.5: no overlap above 0.5, no true positive,
    # where the other one (0.75 + 0.125) has one
    w = [[0.75, 0.375], [0.5, 0.125]]
    assert official_assignment(w).tolist() == [1, 0]
    assert official_hungarian(w) == [1, 0]
    assert _totals(w, [1, 1]) == [(1.0, 0, 0.875)]


def test_tied_best_detections_take_the_first_in_file_order():
    # one face, duplicates: the first of the equal columns gets the star
    w = [[0.3, 0.7, 0.7, 0.2]]
    assert official_assignment(w).tolist() == [1]
    assert official_hungarian(w) == [1]
    # transposed in the image: three faces, one detection
    pairs = official_image_matching(np.array([[0.6], [0.6], [0.1]]),
                                    [True])
    assert pairs == [(0, 0)]


def test_box_order_changes_the_official_result():
    # face 0 overlaps A 0.7, B 0.1, C 0.1; face 1 overlaps A 0.4.
    # Order A B C: cover from the columns (0.7 + 0.4 > 0.9), A gets the
    # star of face 0; Routine II makes face 1's zero entries tight and it
    # takes B (overlap 0, dropped): 1 true positive.
    # Order B C A: face 0's star goes to B; Routine II (step 0.1) lets the
    # path (C) - (B)* - (face 1, B) through: face 0 ends on C (0.1).
    w = np.array([[0.7, 0.1, 0.1], [0.4, 0.0, 0.0]])
    assert official_hungarian(w) == [0, 1]
    assert official_assignment(w).tolist() == [0, 1]
    assert _totals(w, [1, 1, 1]) == [(1.0, 1, pytest.approx(0.7))]
    w2 = w[:, [1, 2, 0]]
    assert official_hungarian(w2) == [1, 0]
    assert official_assignment(w2).tolist() == [1, 0]
    assert _totals(w2, [1, 1, 1]) == [(1.0, 0, pytest.approx(0.1))]
    # the optimal matching does not care about the order
    assert (_totals(w, [1, 1, 1], 'optimal') == _totals(
        w2, [1, 1, 1], 'optimal') == [(1.0, 1, pytest.approx(0.7))])


def test_threshold_sweep_reruns_the_matching():
    # at 0.9 only detection 0 (1 x 1); at 0.5 the 2 x 3 matrix of the first
    # test, whose official answer drops the 0.8 pair
    w = [[0.9, 0.6, 0.0], [0.8, 0.0, 0.1]]
    pts = _totals(w, [0.9, 0.5, 0.5])
    assert pts[0] == (0.9, 1, pytest.approx(0.9))
    assert pts[1] == (0.5, 1, pytest.approx(1.0))


def test_bad_matrices_are_refused():
    with pytest.raises(ValueError, match='m <= n'):
        official_assignment(np.ones((3, 2)))
    assert official_assignment(np.zeros((0, 4))).shape == (0, )
    assert issubclass(OfficialSolverError, RuntimeError)


def test_matching_argument_is_checked():
    with pytest.raises(ValueError, match="matching must be one of"):
        match_events(np.zeros(1, int), np.zeros(1, int), np.ones(1),
                     np.ones(1), 1, 'hungarian')
    gt = FDDBGroundTruth(['a'], [np.array([[10.0, 8, 0, 20, 20]])])
    with pytest.raises(ValueError, match="'optimal'"):
        evaluate_fddb({}, gt, np.array([[40, 40]]), matching='best')


@pytest.mark.parametrize('seed', range(6))
def test_solver_against_transliteration(seed):
    rng = np.random.default_rng(100 + seed)
    differs = 0
    for _ in range(250):
        m = int(rng.integers(1, 6))
        n = int(rng.integers(m, m + 5))
        w = rng.uniform(0, 1, (m, n)) * (rng.random((m, n)) < rng.uniform(
            0.2, 1.0))
        if rng.random() < 0.4:  # exact ties
            w = np.round(w * 4) / 4
        a = official_assignment(w)
        assert a.tolist() == official_hungarian(w), w.tolist()
        from scipy.optimize import linear_sum_assignment
        r, c = linear_sum_assignment(w, maximize=True)
        differs += w[np.arange(m), a].sum() < w[r, c].sum() - 1e-12
    # the suboptimal answers are there (a few % of such matrices)
    assert differs > 0


def _random_overlaps(rng, num_images):
    """Sparse overlap matrices of several images, with shared detections,
    ties and repeated scores."""
    mats, scores = [], []
    for _ in range(num_images):
        nf = int(rng.integers(1, 6))
        nd = int(rng.integers(0, 10))
        w = rng.uniform(0, 1, (nf, nd)) * (rng.random((nf, nd)) < 0.35)
        if rng.random() < 0.3:
            w = np.round(w * 8) / 8
        mats.append(w)
        scores.append(rng.integers(0, 4, nd) / 4 if rng.random() < 0.5 else
                      rng.uniform(0, 1, nd))
    return mats, scores


@pytest.mark.parametrize('seed', range(10))
def test_match_events_against_transliteration(seed):
    rng = np.random.default_rng(seed)
    mats, scores = _random_overlaps(rng, 30)
    # the package's sweep, all images at once (numbered image after image)
    faces, dets, ious, face_img = [], [], [], []
    f0 = d0 = 0
    for i, w in enumerate(mats):
        a, b = np.nonzero(np.ones_like(w, bool))
        faces.append(a + f0)
        dets.append(b + d0)
        ious.append(w[a, b])
        face_img.append(np.full(w.shape[0], i))
        f0 += w.shape[0]
        d0 += w.shape[1]
    all_scores = np.concatenate(scores)
    s, d_disc, d_cont = match_events(
        np.concatenate(faces), np.concatenate(dets), np.concatenate(ious),
        all_scores, f0, 'official', np.concatenate(face_img))
    ref = merge_image_results(
        image_results_from_overlaps(w, sc) for w, sc in zip(mats, scores))
    for t, disc, cont in zip(ref['thresholds'], ref['tp_discrete'],
                             ref['tp_continuous']):
        if not np.isfinite(t):
            continue
        assert round(d_disc[s >= t].sum()) == disc
        assert d_cont[s >= t].sum() == pytest.approx(cont, abs=1e-9)


@pytest.mark.parametrize('seed', range(16))
def test_evaluate_against_plain_loop_reference(seed):
    # masks, score sweep, official matrix and solver, merge: all of it
    rng = np.random.default_rng(1000 + seed)
    ellipses, dets, sizes = random_case(
        rng, num_images=6, score_levels=4 if seed % 2 else None)
    keys = [f'img_{i}' for i in range(len(ellipses))]
    gt = FDDBGroundTruth(keys, ellipses)
    res = evaluate_fddb(dict(zip(keys, dets)), gt, np.array(sizes))
    ref = reference_roc(ellipses, dets, sizes, 'official')
    assert res.matching == 'official'
    np.testing.assert_array_equal(res.thresholds, ref['thresholds'])
    np.testing.assert_array_equal(res.tp_discrete, ref['tp_discrete'])
    np.testing.assert_array_equal(res.fp, ref['fp'])
    np.testing.assert_allclose(res.tp_continuous, ref['tp_continuous'],
                               rtol=0, atol=1e-9)


def _crowded_case(rng, ells, size):
    """Detections around a group of faces: jittered boxes, boxes covering
    two faces, duplicates, tied scores, in a shuffled file order."""
    box = ellipse_bboxes(ells)
    wh = box[:, 2:] - box[:, :2]
    parts = []
    for _ in range(2):
        jit = box[:, :2] + rng.normal(0, 0.3, wh.shape) * wh
        parts.append(np.c_[jit, wh * rng.uniform(0.5, 1.6, wh.shape)])
    a, b = rng.integers(0, len(box), (2, len(box)))
    lo = np.minimum(box[a, :2], box[b, :2])
    hi = np.maximum(box[a, 2:], box[b, 2:])
    parts.append(np.c_[lo, hi - lo])
    d = np.concatenate(parts)
    d = np.r_[d, d[:2]]  # duplicates
    d = np.c_[d, rng.integers(0, 5, len(d)) / 5]
    return d[rng.permutation(len(d))]


def _real_gt():
    if not FDDB_FOLDS.is_dir():
        pytest.skip(f'FDDB annotations not found at {FDDB_FOLDS}')
    return load_fddb_folds(str(FDDB_FOLDS))


def test_real_annotations_crowded_images_against_reference():
    # the images of the real folds with the most faces, each with crowded
    # detections; plain-loop reference with full-canvas masks
    gt = _real_gt()
    rng = np.random.default_rng(7)
    counts = np.array([len(e) for e in gt.ellipses])
    pick = np.argsort(-counts, kind='stable')[:6]
    keys = [gt.image_keys[i] for i in pick]
    ells = [gt.ellipses[i] for i in pick]
    sizes = [(int(ellipse_bboxes(e)[:, 3].max()) + 8,
              int(ellipse_bboxes(e)[:, 2].max()) + 8) for e in ells]
    dets = [_crowded_case(rng, e, s) for e, s in zip(ells, sizes)]
    sub = FDDBGroundTruth(keys, ells)
    res = evaluate_fddb(dict(zip(keys, dets)), sub, np.array(sizes))
    ref = reference_roc(ells, dets, sizes, 'official')
    np.testing.assert_array_equal(res.tp_discrete, ref['tp_discrete'])
    np.testing.assert_array_equal(res.fp, ref['fp'])
    np.testing.assert_allclose(res.tp_continuous, ref['tp_continuous'],
                               atol=1e-9)
    # and the case does exercise a difference from the optimal matching
    opt = evaluate_fddb(dict(zip(keys, dets)), sub, np.array(sizes),
                        matching='optimal')
    assert opt.matching == 'optimal'
    assert (opt.tp_continuous > res.tp_continuous + 1e-9).any()
    assert (opt.tp_continuous >= res.tp_continuous - 1e-9).all()


def test_real_annotations_all_folds_against_transliteration():
    # every image of the ten folds with seeded detections; the overlaps are
    # the package's (checked against full masks elsewhere), the matching at
    # every threshold the transliteration's
    gt = _real_gt()
    rng = np.random.default_rng(3)
    sizes = np.array([(int(ellipse_bboxes(e)[:, 3].max()) + 20,
                       int(ellipse_bboxes(e)[:, 2].max()) + 20)
                      for e in gt.ellipses])
    dets = [_crowded_case(rng, e, s)[:8] for e, s in zip(gt.ellipses, sizes)]
    res = evaluate_fddb(dict(zip(gt.image_keys, dets)), gt, sizes)
    face, det, iou = pair_overlaps(gt.ellipses, dets, sizes)
    per_image, start = [], 0
    for e, d in zip(gt.ellipses, dets):
        block = iou[start:start + len(e) * len(d)].reshape(len(e), len(d))
        start += len(e) * len(d)
        per_image.append(image_results_from_overlaps(block, d[:, 4]))
    ref = merge_image_results(per_image)
    np.testing.assert_array_equal(res.thresholds, ref['thresholds'])
    np.testing.assert_array_equal(res.tp_discrete, ref['tp_discrete'])
    np.testing.assert_array_equal(res.fp, ref['fp'])
    np.testing.assert_allclose(res.tp_continuous, ref['tp_continuous'],
                               atol=1e-9)
    assert math.isclose(ref['num_faces'][0], 5171)
