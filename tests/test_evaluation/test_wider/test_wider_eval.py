# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Tests of the numpy WIDER FACE evaluation against hand-computed APs and
against a loop-by-loop transliteration of the official MATLAB code."""
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
from mmengine.logging import MMLogger

from hambox_mmdet.evaluation.wider import (SETTINGS, WiderFaceGT,
                                           best_overlaps,
                                           evaluate as evaluate_wider,
                                           load_ground_truth as load_wider_gt,
                                           matlab_round,
                                           plot_curves as plot_pr_curves,
                                           read_predictions as read_pred_dir,
                                           voc_ap_from_curve, wider_thresholds,
                                           write_predictions as write_pred_dir)

REPO = Path(__file__).resolve().parents[3]
from helpers.wider_data import synthetic_preds, write_fake_mats  # noqa: E402
from oracles.reference_wider_eval import reference_evaluate  # noqa: E402

WIDER = REPO.parent / 'shared' / 'data' / 'widerface'
GT_DIR = WIDER / 'eval_tools' / 'ground_truth'
needs_wider = pytest.mark.skipif(
    not (GT_DIR / 'wider_face_val.mat').is_file(),
    reason=f'WIDER FACE ground truth not found at {GT_DIR} (CI has it)')


def make_gt(images, int_boxes=False):
    """images: list of (key, boxes (N, 4) xywh, kept 1-based indices); the
    same gt_list for all three settings."""
    keys = [k for k, _, _ in images]
    boxes = [np.asarray(b, dtype=np.float64).reshape(-1, 4)
             for _, b, _ in images]
    lists = [np.asarray(k, dtype=np.uint8) for _, _, k in images]
    return WiderFaceGT(keys, boxes, {s: lists for s in SETTINGS}, int_boxes)


def ap_of(preds, gt, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no 0/0 RuntimeWarning etc.
        return evaluate_wider(preds, gt, **kw).settings['hard'].ap


def det(box, score):
    return list(box) + [score]


FACE_A = [10, 10, 20, 20]
FACE_B = [100, 100, 20, 20]
FAR = [500, 500, 20, 20]


# --------------------------------------------------------------- hand cases
def test_basic_ap_by_hand():
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])])
    # normalised scores 1, 0.5, 0: thresholds t < 500 see p1 (TP); t in
    # [500, 1000) also the FP; t = 1000 all three.
    # PR points (R, P): (0.5, 1), (0.5, 0.5), (1, 2/3)
    # AP = 0.5 * 1 + 0.5 * 2/3
    preds = {'e/img': np.array([det(FACE_A, 0.9), det(FAR, 0.8),
                                det(FACE_B, 0.7)])}
    assert ap_of(preds, gt) == pytest.approx(0.5 + 0.5 * 2 / 3, abs=1e-12)
    r = evaluate_wider(preds, gt).settings['hard']
    assert r.count_face == 2
    assert r.proposals[0] == 1 and r.recalled[0] == 1
    assert r.proposals[-1] == 3 and r.recalled[-1] == 2


def test_unsorted_input_same_ap_as_sorted():
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])])
    rows = [det(FACE_A, 0.9), det(FAR, 0.8), det(FACE_B, 0.7)]
    expected = 0.5 + 0.5 * 2 / 3
    for order in ([2, 1, 0], [1, 2, 0], [2, 0, 1]):
        preds = {'e/img': np.array([rows[i] for i in order])}
        assert ap_of(preds, gt) == pytest.approx(expected, abs=1e-12)


def test_ignored_face_neither_hit_nor_false_positive():
    # face A kept, face B not kept: a prediction on B is ignored
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1])])
    preds = {'e/img': np.array([det(FACE_B, 0.9), det(FACE_A, 0.8),
                                det(FAR, 0.7)])}
    # norm 1, 0.5, 0. t < 500: only the ignored one -> 0 proposals (0/0
    # precision, recall 0); t in [500, 1000): (R 1, P 1); t = 1000: (1, 0.5)
    # AP = 1 * 1. Counting the ignored prediction as a FP would give 0.5.
    assert ap_of(preds, gt) == pytest.approx(1.0, abs=1e-12)
    r = evaluate_wider(preds, gt).settings['hard']
    assert r.proposals[0] == 0 and r.precision[0] == 0
    assert r.proposals[-1] == 2  # the ignored one is never a proposal


def test_duplicates_on_one_face():
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])])
    a2 = [11, 11, 20, 20]  # IoU with A well above 0.5
    preds = {'e/img': np.array([det(FACE_A, 0.9), det(a2, 0.8),
                                det(FACE_B, 0.7)])}
    # the duplicate is a counted proposal without recall: same curve as
    # test_basic_ap_by_hand
    assert ap_of(preds, gt) == pytest.approx(0.5 + 0.5 * 2 / 3, abs=1e-12)
    r = evaluate_wider(preds, gt).settings['hard']
    assert r.recalled[-1] == 2 and r.proposals[-1] == 3


@pytest.mark.parametrize('first_kept,expected', [(False, 0.0), (True, 1.0)])
def test_iou_tie_first_face_wins(first_kept, expected):
    # two identical faces: the prediction's overlap ties; the first face wins
    kept = [1] if first_kept else [2]
    gt = make_gt([('e/img', [FACE_A, FACE_A], kept)])
    preds = {'e/img': np.array([det(FACE_A, 0.9), det(FAR, 0.1)])}
    # first face not kept -> prediction ignored, the kept face never
    # recalled: AP 0; first face kept -> (R 1, P 1) from t = 1: AP 1
    assert ap_of(preds, gt) == pytest.approx(expected, abs=1e-12)


def test_int32_arithmetic_first_face_with_rounded_overlap():
    # A (not kept) overlaps the prediction with IoU 0.6, B (kept) with 1.0.
    # float64: best face B -> AP 1. MATLAB with int32 gt: round(0.6) =
    # round(1.0) = 1, a tie, the first face A wins -> ignored -> AP 0.
    pred = [0, 0, 9, 9]  # 10 x 10 pixels with the +1 convention
    face_a = [0, 0, 9, 5]  # 10 x 6: IoU 60 / 100
    boxes = [face_a, pred]
    preds = {'e/img': np.array([det(pred, 0.9), det(FAR, 0.1)])}
    assert ap_of(preds, make_gt([('e/img', boxes, [2])], int_boxes=False)) \
        == pytest.approx(1.0, abs=1e-12)
    assert ap_of(preds, make_gt([('e/img', boxes, [2])], int_boxes=True)) \
        == pytest.approx(0.0, abs=1e-12)
    gt = make_gt([('e/img', boxes, [2])], int_boxes=True)
    assert ap_of(preds, gt, iou_arith='float') == pytest.approx(1.0)
    gt = make_gt([('e/img', boxes, [2])], int_boxes=False)
    assert ap_of(preds, gt, iou_arith='int32') == pytest.approx(0.0)


def test_plus_one_convention_at_the_boundary():
    face = [0, 0, 9, 9]  # 10 x 10 = 100 pixels
    gt = make_gt([('e/img', [face], [1])])
    # 10 x 5 = 50 pixels inside the face: IoU 50 / 100 = 0.5 exactly ->
    # matched (without the +1 it would be 36 / 81 < 0.5)
    hit = {'e/img': np.array([det([0, 0, 9, 4], 0.9), det(FAR, 0.1)])}
    assert ap_of(hit, gt, iou_arith='float') == pytest.approx(1.0)
    assert ap_of(hit, gt, iou_arith='int32') == pytest.approx(1.0)
    # h = 3.99: IoU 49.9 / 100 < 0.5 in float64 -> a false positive; MATLAB
    # with int32 gt rounds y2 = 3.99 to 4 and the union 149.9 to 150:
    # 50 / 100 -> matched
    near = {'e/img': np.array([det([0, 0, 9, 3.99], 0.9), det(FAR, 0.1)])}
    assert ap_of(near, gt, iou_arith='float') == pytest.approx(0.0)
    assert ap_of(near, gt, iou_arith='int32') == pytest.approx(1.0)
    # an overlap of w <= 0 is 0 even though w * h > 0
    ov = best_overlaps(np.array([face], dtype=float),
                       np.array([[20., 20., 2., 2.]]), False)[1]
    assert ov[0] == 0


def test_ties_in_score_any_order():
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])])
    rows = [det(FACE_A, 0.8), det(FAR, 0.8), det(FACE_B, 0.6),
            det([300, 300, 20, 20], 0.4)]
    # norm 1, 1, 0.5, 0: t < 500: (R 0.5, P 0.5); [500, 1000): (1, 2/3);
    # 1000: (1, 0.5). AP = 0.5 * 2/3 + 0.5 * 2/3
    for perm in ([0, 1, 2, 3], [1, 0, 2, 3], [3, 2, 1, 0]):
        preds = {'e/img': np.array([rows[i] for i in perm])}
        assert ap_of(preds, gt) == pytest.approx(2 / 3, abs=1e-12)


def test_official_normalisation_starts_from_max0_min1():
    # scores > 1: norm_score.m uses min(1, smin) = 1, max = 10.001, so TP
    # 10.001 -> 1 and FP 9.995 -> 0.99933 share the first threshold bin
    # (>= 0.999); TP2 5.0 -> 0.4444, from t = 556.
    # PR: (0.5, 0.5) then (1, 2/3): AP = 2/3. A plain min-max over the
    # scores (min 5) would put the FP below 0.999 and give 5/6.
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])])
    preds = {'e/img': np.array([det(FACE_A, 10.001), det(FAR, 9.995),
                                det(FACE_B, 5.0)])}
    assert ap_of(preds, gt) == pytest.approx(2 / 3, abs=1e-12)
    r = evaluate_wider(preds, gt)
    assert r.score_range == (1.0, 10.001)


def test_thresholds_compared_exactly_in_float64():
    # with scores 0 and 1 in the set the normalisation is the identity;
    # thr_700 = 1 - 700/1000 = 0.30000000000000004 > 0.3, so a score of
    # 0.3 only counts from t = 701
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])])
    preds = {'e/img': np.array([det(FACE_A, 1.0), det(FAR, 0.3),
                                det(FACE_B, 0.0)])}
    thr = wider_thresholds(1000)
    assert thr[699] > 0.3 and thr[700] <= 0.3
    r = evaluate_wider(preds, gt).settings['hard']
    assert r.proposals[699] == 1 and r.proposals[700] == 2


def test_all_equal_scores_drop_out_with_a_warning():
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])])
    preds = {'e/img': np.array([det(FACE_A, 0.5), det(FACE_B, 0.5)])}
    with pytest.warns(UserWarning, match='same score'):
        r = evaluate_wider(preds, gt)
    assert r.aps == {'easy': 0.0, 'medium': 0.0, 'hard': 0.0}
    assert r.settings['hard'].proposals.sum() == 0
    # equal scores outside [0, 1] are not degenerate: min(1, 3) = 1,
    # max(0, 3) = 3, every score normalises to 1: (R 1, P 1) -> AP 1
    preds = {'e/img': np.array([det(FACE_A, 3.0), det(FACE_B, 3.0)])}
    assert ap_of(preds, gt) == pytest.approx(1.0)


def test_empty_images_and_missing_images():
    gt = make_gt([
        ('e/a', [FACE_A], [1]),
        ('e/nogt', np.zeros((0, 4)), []),
        ('e/nopred', [FACE_B], [1]),
    ])
    # the prediction of the image without faces is skipped for matching
    # (no false positive) but its score enters the normalisation:
    # min 0.5, max 0.9: the TP of e/a normalises to 0 -> only t = 1000
    preds = {'e/a': np.array([det(FACE_A, 0.5)]),
             'e/nogt': np.array([det(FACE_A, 0.9)])}
    r = evaluate_wider(preds, gt)
    hard = r.settings['hard']
    assert hard.count_face == 2  # the face of e/nopred counts as missed
    assert hard.proposals[-1] == 1 and hard.proposals[-2] == 0
    assert hard.ap == pytest.approx(0.5, abs=1e-12)  # (R 0.5, P 1)
    assert r.num_missing_images == 1 and r.missing_keys == ['e/nopred']
    assert r.num_present_images == 2 and r.num_predictions == 2
    # only the present images: the face of e/nopred no longer counts
    r = evaluate_wider(preds, gt, only_present_images=True)
    assert r.settings['hard'].count_face == 1
    assert r.settings['hard'].ap == pytest.approx(1.0, abs=1e-12)
    # an entry with zero boxes makes the image present
    preds['e/nopred'] = np.zeros((0, 5))
    r = evaluate_wider(preds, gt, only_present_images=True)
    assert r.settings['hard'].count_face == 2
    assert r.settings['hard'].ap == pytest.approx(0.5, abs=1e-12)
    assert r.num_images_with_predictions == 2


def test_no_face_to_detect_gives_nan_with_warning():
    gt = make_gt([('e/a', [FACE_A], [])])
    preds = {'e/a': np.array([det(FACE_A, 0.9), det(FAR, 0.2)])}
    with pytest.warns(UserWarning, match='count_face = 0'):
        r = evaluate_wider(preds, gt)
    assert np.isnan(r.settings['hard'].ap)


def test_predictions_for_unknown_images_raise():
    gt = make_gt([('e/a', [FACE_A], [1])])
    with pytest.raises(ValueError, match='zz/unknown_image'):
        evaluate_wider({'zz/unknown_image': np.zeros((0, 5))}, gt)


@pytest.mark.parametrize('bad,match', [
    (np.array([[0, 0, 1, 1, np.nan]]), 'NaN or inf'),
    (np.array([[0, 0, np.inf, 1, 0.5]]), 'NaN or inf'),
    (np.zeros((2, 4)), 'shape'),
])
def test_bad_prediction_arrays_raise(bad, match):
    gt = make_gt([('e/a', [FACE_A], [1])])
    with pytest.raises(ValueError, match=match):
        evaluate_wider({'e/a': bad}, gt)


def test_voc_ap_and_matlab_round():
    # VOCap by hand: points (0.5, 1), (1, 0.5) -> 0.5 * 1 + 0.5 * 0.5
    assert voc_ap_from_curve(np.array([0.5, 1.0]),
                             np.array([1.0, 0.5])) == 0.75
    # MATLAB's max ignores NaN: a NaN precision does not change the AP
    assert voc_ap_from_curve(np.array([0.0, 0.5, 1.0]),
                             np.array([np.nan, 1.0, 0.5])) == 0.75
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, 2.4])
    assert matlab_round(x).tolist() == [-3, -2, -1, 1, 2, 3, 0, 2]


def test_gt_list_index_out_of_range():
    with pytest.raises(ValueError, match='out of range'):
        make_gt([('e/a', [FACE_A], [2])])


class LogCapture(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append((record.levelno, record.getMessage()))


@pytest.fixture
def mm_log(request):
    """Messages of the current mmengine logger (what print_log uses): a
    new instance per test, so that it is the current one."""
    logger = MMLogger.get_instance(f'test_wider_eval:{request.node.name}')
    handler = LogCapture()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.mark.parametrize('arith', ['auto', 'float', 'int32'])
def test_negative_size_box_is_scored_as_a_false_positive(arith, mm_log):
    """The official tool reads a box of negative width or height and
    scores it: x2 = x + w lies left of x, the intersection width is <= 0
    for every face, so it is a false positive. Same counts as the box moved
    far away, and a warning with the count."""
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])], int_boxes=True)
    on_a = [30, 10, -20, 20]  # corners of FACE_A, x1 and x2 swapped
    on_b = [100, 120, 20, -20]  # FACE_B, y1 and y2 swapped
    both = [120, 120, -20, -20]  # FACE_B, both swapped (positive area)
    preds = {'e/img': np.array([det(on_a, 0.95), det(FACE_A, 0.9),
                                det(on_b, 0.8), det(both, 0.7),
                                det(FACE_B, 0.6)])}
    far = {'e/img': preds['e/img'].copy()}
    far['e/img'][[0, 2, 3], :4] = FAR
    result = evaluate_wider(preds, gt, iou_arith=arith)
    expected = evaluate_wider(far, gt, iou_arith=arith)
    for setting in SETTINGS:
        a, b = result.settings[setting], expected.settings[setting]
        np.testing.assert_array_equal(a.proposals, b.proposals)
        np.testing.assert_array_equal(a.recalled, b.recalled)
        assert a.ap == b.ap
    # by hand: scores normalise to 1, 6/7, 4/7, 2/7, 0; FP, TP, FP, FP,
    # TP: PR points (0, 0), (.5, .5), (.5, 1/3), (.5, .25), (1, .4)
    assert result.settings['hard'].ap == pytest.approx(0.5 * 0.5 + 0.5 * 0.4)
    assert_same(result, reference_evaluate(preds, gt, iou_arith=arith))
    assert result.num_negative_size == 3
    assert result.negative_size_keys == ['e/img']
    assert expected.num_negative_size == 0
    warnings_ = [m for lvl, m in mm_log.messages if lvl == logging.WARNING]
    assert len(warnings_) == 1, mm_log.messages
    assert '3 predicted box(es) of negative width or height in 1 image' \
        in warnings_[0]


def test_negative_size_below_one_pixel_as_matlab():
    """-1 < w < 0 can overlap a face, exactly as MATLAB computes it.

    Face: a point, x y w h = 10 10 0 0 (area 1 with the +1 convention).
    Prediction 10.3 10.3 -0.6 -0.6: float64 corners 10.3 / 9.7, overlap
    0.16 / 1 (a false positive); MATLAB's int32 arithmetic rounds both
    corners to 10 (intersection 1), and int32(1 + 0.16) - 1 = 0 makes the
    overlap 1 / 0 = intmax: a hit.
    """
    gt = make_gt([('e/img', [[10, 10, 0, 0]], [1])], int_boxes=True)
    preds = {'e/img': np.array([[10.3, 10.3, -0.6, -0.6, 0.9],
                                [FAR[0], FAR[1], 5, 5, 0.1]])}
    best_idx, best_ov = best_overlaps(gt.boxes[0], preds['e/img'][:, :4],
                                      int_arith=True)
    assert best_ov[0] == np.inf and best_ov[1] == 0
    _, best_ov = best_overlaps(gt.boxes[0], preds['e/img'][:, :4],
                               int_arith=False)
    assert best_ov[0] == pytest.approx(0.16)
    assert ap_of(preds, gt) == 1.0  # auto: int32 for integer ground truth
    assert ap_of(preds, gt, iou_arith='float') == 0.0
    for arith in ('auto', 'float'):
        assert_same(
            evaluate_wider(preds, gt, iou_arith=arith),
            reference_evaluate(preds, gt, iou_arith=arith))
    # a zero-width face (x y w h = 10 10 0 20): w = -0.2 overlaps it by
    # 0.8 * 21 / 21 = 0.8 in float64 (and 21 / 17 -> 1 in int32)
    gt = make_gt([('e/img', [[10, 10, 0, 20]], [1])], int_boxes=True)
    preds = {'e/img': np.array([[10, 10, -0.2, 20, 0.9],
                                [FAR[0], FAR[1], 5, 5, 0.1]])}
    _, best_ov = best_overlaps(gt.boxes[0], preds['e/img'][:, :4], False)
    assert best_ov[0] == pytest.approx(0.8)
    assert ap_of(preds, gt, iou_arith='float') == 1.0
    assert ap_of(preds, gt) == 1.0


def test_voc_ap_equals_mmdet_average_precision_up_to_float32():
    """mmdet's average_precision(mode='area') is the same VOC sum, but it
    stores the AP in float32 (and its np.maximum would propagate a NaN
    precision, where MATLAB's max ignores it): it equals
    float32(voc_ap_from_curve)
    exactly, and so differs from the float64 AP by up to ~3e-8, beyond the
    1e-12 the evaluator is checked to. voc_ap_from_curve stays."""
    from mmdet.evaluation.functional import average_precision
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(500):
        n = int(rng.integers(1, 60))
        recall = np.sort(rng.random(n))
        recall[rng.random(n) < 0.2] = 0  # repeated recall values
        recall = np.sort(recall)
        precision = rng.random(n)
        ours = voc_ap_from_curve(recall, precision)
        theirs = average_precision(recall, precision, mode='area')
        assert float(theirs) == float(np.float32(ours))
        worst = max(worst, abs(float(theirs) - ours))
    assert 1e-12 < worst < 1e-7


# ------------------------------------------------ against the MATLAB oracle
def random_scene(rng, num_images=12, int_boxes=True, negative=0.0):
    """Random faces and predictions; ``negative``: the fraction of
    predictions given a negative width and / or height (in quarter pixels,
    so -0.25 .. -0.75 below one pixel too)."""
    images, preds = [], {}
    for i in range(num_images):
        n = int(rng.integers(0, 7))
        xy = rng.integers(0, 60, (n, 2))
        wh = rng.integers(0, 25, (n, 2))
        boxes = np.hstack([xy, wh]).astype(float)
        if not int_boxes:
            boxes += rng.random(boxes.shape)
        if n and rng.random() < 0.3:  # a duplicate face: IoU ties
            boxes = np.vstack([boxes, boxes[rng.integers(n)]])
        kept = [j + 1 for j in range(len(boxes)) if rng.random() < 0.6]
        images.append((f'ev{i % 3}/img_{i}', boxes, kept))
        if rng.random() < 0.15:
            continue  # no prediction entry
        m = int(rng.integers(0, 12))
        if len(boxes):
            src = boxes[rng.integers(0, len(boxes), m)]
        else:
            src = np.zeros((m, 4))
        # jitter by quarter pixels: many corners land on .5 (rounding)
        jit = src + rng.integers(-6, 7, src.shape) / 4
        jit[:, 2:] = np.abs(jit[:, 2:])
        rand = np.hstack([rng.integers(0, 60, (m, 2)),
                          rng.integers(0, 25, (m, 2))]).astype(float)
        use_rand = rng.random(m) < 0.3
        dets = np.where(use_rand[:, None], rand, jit)
        flip = rng.random((m, 2)) < negative
        dets[:, 2:] = np.where(flip, -rng.integers(1, 13, (m, 2)) / 4,
                               dets[:, 2:])
        scores = np.round(rng.random(m), 2)  # ties in score
        preds[f'ev{i % 3}/img_{i}'] = np.hstack([dets, scores[:, None]])
    return make_gt(images, int_boxes=int_boxes), preds


def assert_same(result, ref):
    for setting in SETTINGS:
        a, b = result.settings[setting], ref[setting]
        assert a.count_face == b['count_face']
        np.testing.assert_array_equal(a.proposals, b['proposals'])
        np.testing.assert_array_equal(a.recalled, b['recalled'])
        np.testing.assert_array_equal(a.recall, b['recall'])
        np.testing.assert_array_equal(a.precision,
                                      np.nan_to_num(b['precision']))
        assert abs(a.ap - b['ap']) <= 1e-12, (setting, a.ap, b['ap'])


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('arith', ['auto', 'float', 'int32'])
def test_random_scenes_match_matlab_transliteration(seed, arith):
    rng = np.random.default_rng(seed)
    gt, preds = random_scene(rng, int_boxes=seed % 2 == 0)
    for only_present in (False, True):
        result = evaluate_wider(preds, gt, iou_arith=arith,
                                only_present_images=only_present)
        ref = reference_evaluate(preds, gt, iou_arith=arith,
                                 only_present_images=only_present)
        assert_same(result, ref)
    # a non-default threshold and number of thresholds
    result = evaluate_wider(preds, gt, iou_thr=0.3, thresh_num=50,
                            iou_arith=arith)
    ref = reference_evaluate(preds, gt, iou_thr=0.3, thresh_num=50,
                             iou_arith=arith)
    assert_same(result, ref)


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('arith', ['auto', 'float', 'int32'])
def test_random_scenes_with_negative_sizes_match_matlab(seed, arith):
    """Boxes of negative width / height are scored as the MATLAB code."""
    rng = np.random.default_rng(100 + seed)
    gt, preds = random_scene(rng, num_images=20, int_boxes=seed % 2 == 0,
                             negative=0.3)
    num_negative = sum(int((p[:, 2:4] < 0).any(axis=1).sum())
                       for p in preds.values())
    assert num_negative > 0
    result = evaluate_wider(preds, gt, iou_arith=arith)
    assert result.num_negative_size == num_negative
    assert_same(result, reference_evaluate(preds, gt, iou_arith=arith))


@needs_wider
def test_real_ground_truth():
    gt = load_wider_gt(str(GT_DIR))
    assert len(gt) == 3226
    assert {s: int(gt.num_kept[s].sum()) for s in SETTINGS} == {
        'easy': 7211, 'medium': 13319, 'hard': 31958}
    assert sum(len(b) for b in gt.boxes) == 39708
    assert gt.int_boxes.all()  # face_bbx_list is int32 in the .mat files
    key = '0--Parade/0_Parade_marchingband_1_465'
    assert key in gt.key_to_index
    # Easy inside Medium inside Hard
    for e, m, h in zip(gt.kept['easy'], gt.kept['medium'], gt.kept['hard']):
        assert not (e & ~m).any() and not (m & ~h).any()
    # uint16 gt_list indices above 255 survive the int64 cast
    assert max(int(g.max(initial=0)) for g in gt.gt_lists['hard']) > 255


@needs_wider
@pytest.mark.parametrize('arith', ['auto', 'float'])
def test_real_ground_truth_matches_matlab_transliteration(arith):
    gt = load_wider_gt(str(GT_DIR))
    rng = np.random.default_rng(7)
    keys = [gt.image_keys[i] for i in rng.choice(len(gt), 40, replace=False)]
    # keep the transliteration fast: images with at most 60 faces
    keys = [k for k in keys if len(gt.boxes[gt.key_to_index[k]]) <= 60]
    preds = synthetic_preds(gt, keys, rng)
    result = evaluate_wider(preds, gt, iou_arith=arith)
    ref = reference_evaluate(preds, gt, iou_arith=arith)
    assert_same(result, ref)
    assert result.num_missing_images == len(gt) - len(keys)
    assert 0 < result.aps['hard'] < result.aps['easy'] < 1
    # a tenth of the boxes mirrored to negative sizes: scored as MATLAB
    # does, false positives, so the AP drops
    rng = np.random.default_rng(7)
    neg = synthetic_preds(gt, keys, rng, negative=0.1)
    result_neg = evaluate_wider(neg, gt, iou_arith=arith)
    assert_same(result_neg, reference_evaluate(neg, gt, iou_arith=arith))
    assert result_neg.num_negative_size > 0
    assert result_neg.aps['hard'] < result.aps['hard']


@needs_wider
def test_exact_gt_boxes_as_predictions_on_real_ground_truth():
    """Every face predicted by its own box, descending scores.

    Not quite AP 1: one Hard face is stored with w = -2 (no box overlaps
    it), a few annotations are near-duplicates (the exact box of the second
    one matches the first face), and with MATLAB's int32 arithmetic every
    overlap >= 0.5 rounds to 1, so the *first* such face wins: more faces
    lose their prediction to an earlier neighbour than with float64.
    """
    gt = load_wider_gt(str(GT_DIR))
    preds = {}
    for key, boxes in zip(gt.image_keys, gt.boxes):
        scores = np.linspace(1, 0.01, max(len(boxes), 1))[:len(boxes)]
        boxes = boxes.copy()
        boxes[:, 2:] = np.maximum(boxes[:, 2:], 0)
        preds[key] = np.hstack([boxes, scores[:, None]])
    as_matlab = evaluate_wider(preds, gt)  # int32 arithmetic (auto)
    as_float = evaluate_wider(preds, gt, iou_arith='float')
    assert as_float.settings['easy'].recalled[-1] == 7211
    for setting in SETTINGS:
        m, f = as_matlab.settings[setting], as_float.settings[setting]
        assert 0.999 < m.ap <= f.ap < 1
        assert m.recalled[-1] <= f.recalled[-1]
    assert (as_matlab.settings['hard'].recalled[-1] <
            as_float.settings['hard'].recalled[-1])


# ------------------------------------------------------ load_wider_gt errors
def test_load_wider_gt_from_mat_files(tmp_path):
    write_fake_mats(tmp_path)
    gt = load_wider_gt(str(tmp_path))
    assert gt.image_keys == ['0--Parade/0_a', '0--Parade/0_b',
                             '1--Handshaking/1_a']
    assert gt.boxes[1].shape == (0, 4) and gt.boxes[0].dtype == np.float64
    assert gt.int_boxes.all()
    assert gt.kept['hard'][0].tolist() == [False, True]
    assert gt.num_kept['hard'].tolist() == [1, 0, 300]
    assert gt.gt_lists['easy'][2].dtype == np.int64


def test_load_wider_gt_errors_name_the_file(tmp_path):
    write_fake_mats(tmp_path, drop_file='wider_medium_val')
    with pytest.raises(FileNotFoundError, match='wider_medium_val.mat'):
        load_wider_gt(str(tmp_path))
    for f in tmp_path.iterdir():
        f.unlink()
    write_fake_mats(tmp_path, drop_field='gt_list')
    with pytest.raises(ValueError,
                       match=r"wider_hard_val\.mat: missing field 'gt_list'"):
        load_wider_gt(str(tmp_path))


# ---------------------------------------------------- files and the PR plot
def test_write_read_roundtrip_is_exact(tmp_path):
    rng = np.random.default_rng(3)
    preds = {'0--Parade/0_x.y': rng.random((7, 5)) * 100,
             '1--Handshaking/1_a': np.zeros((0, 5))}
    write_pred_dir(str(tmp_path), preds)
    lines = (tmp_path / '0--Parade' / '0_x.y.txt').read_text().splitlines()
    assert lines[0] == '0_x.y' and lines[1] == '7'
    back, missing = read_pred_dir(
        str(tmp_path), ['0--Parade/0_x.y', '1--Handshaking/1_a', '2--D/2_z'])
    assert missing == ['2--D/2_z']
    np.testing.assert_array_equal(back['0--Parade/0_x.y'],
                                  preds['0--Parade/0_x.y'])
    assert back['1--Handshaking/1_a'].shape == (0, 5)
    write_pred_dir(str(tmp_path / 'fmt'), preds,
                   fmt='%.3f %.3f %.3f %.3f %.6f')
    text = (tmp_path / 'fmt' / '0--Parade' / '0_x.y.txt').read_text()
    assert len(text.splitlines()[2].split()[0].split('.')[1]) == 3


@pytest.mark.parametrize('content,line,what', [
    ('img\nabc\n', 2, 'not an integer'),
    ('img\n2.5\n1 2 3 4 0.5\n1 2 3 4 0.5\n', 2, 'not an integer'),
    ('img\n', 2, 'missing'),
    ('img\n2\n1 2 3 4 0.5\n1 2 3 x 0.5\n', 4, 'non-numeric'),
    ('img\n2\n1 2 3 4 0.5\n1 2 3 4\n', 4, 'expected 5 fields'),
    ('img\n2\n1 2 3 4 0.5 7\n1 2 3 4 0.5\n', 3, 'expected 5 fields'),
    ('img\n3\n1 2 3 4 0.5\n1 2 3 4 0.5\n', 5, 'missing'),
    ('img\n2\n1 2 3 4 0.5\n\n1 2 3 4 0.5\n', 4, 'expected 5 fields'),
    ('img\n1\n1 2 3 4 0.5\n1 2 3 4 0.5\n', 4, 'unexpected content'),
    ('img\n2\n1 2 3 4 0.5\n1 2 3 4 nan\n', 4, 'NaN or inf'),
    ('img\n2\n1 2 3 4 0.5\ninf 2 3 4 0.1\n', 4, 'NaN or inf'),
    ('img\n2\n1 2 3 4 0.5\n1 2 -3 4 nan\n', 4, 'NaN or inf'),
    ('img\n2\n1 2 -3 4 0.5\n1 2 3 4\n', 4, 'expected 5 fields'),
])
def test_malformed_files_name_file_and_line(tmp_path, content, line, what):
    (tmp_path / 'ev').mkdir()
    (tmp_path / 'ev' / 'img.txt').write_text(content)
    with pytest.raises(ValueError) as e:
        read_pred_dir(str(tmp_path), ['ev/img'])
    msg = str(e.value)
    assert f'img.txt: line {line}:' in msg and what in msg, msg


def test_negative_sizes_are_read_as_written(tmp_path):
    """The official reader takes them; the evaluator scores them."""
    (tmp_path / 'ev').mkdir()
    (tmp_path / 'ev' / 'img.txt').write_text(
        'img\n3\n1 2 -3 4 0.5\n1 2 3 -0.5 0.25\n-1 -2 -3 -4 0.125\n')
    preds, missing = read_pred_dir(str(tmp_path), ['ev/img'])
    assert not missing
    np.testing.assert_array_equal(
        preds['ev/img'],
        [[1, 2, -3, 4, .5], [1, 2, 3, -.5, .25], [-1, -2, -3, -4, .125]])


def test_trailing_blank_lines_and_crlf_are_fine(tmp_path):
    (tmp_path / 'ev').mkdir()
    (tmp_path / 'ev' / 'img.txt').write_bytes(
        b'img\r\n2\r\n1 2 3 4 0.5\r\n\t5 6 7 8 0.25 \r\n\r\n\n')
    preds, missing = read_pred_dir(str(tmp_path), ['ev/img'])
    assert not missing
    np.testing.assert_array_equal(preds['ev/img'],
                                  [[1, 2, 3, 4, .5], [5, 6, 7, 8, .25]])
    with pytest.raises(FileNotFoundError, match='no_such_dir'):
        read_pred_dir(str(tmp_path / 'no_such_dir'), ['ev/img'])


def test_plot_pr_curves(tmp_path):
    gt = make_gt([('e/img', [FACE_A, FACE_B], [1, 2])])
    preds = {'e/img': np.array([det(FACE_A, 0.9), det(FAR, 0.8),
                                det(FACE_B, 0.7)])}
    out = tmp_path / 'sub' / 'pr.png'
    plot_pr_curves(evaluate_wider(preds, gt), str(out))
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
