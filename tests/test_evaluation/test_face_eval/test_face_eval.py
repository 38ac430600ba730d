# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face evaluation: hand-made cases with known APs, each rule
of the Mathias et al. toolkit on its own, a plain-loop reference on random
cases, and the toolkit's published DPM values on the real files."""
from pathlib import Path

import numpy as np
import pytest

from hambox_mmdet.evaluation.face_eval import matching
from hambox_mmdet.evaluation.face_eval import (
    apply_box_style, evaluate as evaluate_face_eval, image_indices, image_key,
    keep_detections, load_ground_truth as load_face_eval_gt,
    min_detection_size, read_predictions as read_face_eval_dets, toolkit_iou,
    voc_ap_from_detections, write_predictions as write_face_eval_dets,
    write_ground_truth as write_face_eval_gt)

REPO = Path(__file__).resolve().parents[3]
from oracles.reference_face_eval import (reference_evaluate,  # noqa: E402
                                         reference_load_gt, reference_read_dets)

from helpers.face_eval_data import FACE_EVAL, needs_face_eval  # noqa: E402


def make_gt(tmp_path, images, min_size=30):
    """images: {name: [(x1, y1, x2, y2[, ignore]), ...]} -> FaceEvalGT,
    through a .mat written in the toolkit's layout."""
    names = list(images)
    boxes = [np.array([f[:4] for f in images[n]]).reshape(-1, 4)
             for n in names]
    flags = [np.array([f[4] if len(f) > 4 else 0 for f in images[n]])
             for n in names]
    path = tmp_path / 'ann.mat'
    write_face_eval_gt(path, names, [[1000, 1000]] * len(names), boxes,
                       flags)
    return load_face_eval_gt(path, min_size)


def run(gt, dets, **kwargs):
    """dets: [(image, score, x1, y1, x2, y2), ...] in file order."""
    keys = [image_key(d[0]) for d in dets]
    arr = np.array([d[1:] for d in dets], dtype=np.float64).reshape(-1, 5)
    return evaluate_face_eval(gt, image_indices(gt, keys), arr[:, 0],
                              arr[:, 1:], **kwargs)


A, B = (0, 0, 99, 99), (200, 0, 299, 99)
FAR = (500, 500, 599, 599)


@pytest.fixture
def two_faces(tmp_path):
    return make_gt(tmp_path, {'a.jpg': [A, B]})


@pytest.mark.parametrize('dets,ap', [
    ([('a', .9, *A), ('a', .8, *B)], 1.0),                       # perfect
    ([('a', .95, *FAR), ('a', .9, *A), ('a', .8, *B)], 2 / 3),   # FP first
    ([('a', .9, *A), ('a', .8, *A), ('a', .7, *B)], 5 / 6),      # duplicate
    ([('a', .9, *A)], 0.5),                                      # missing
    ([('zzz', .99, *A), ('a', .9, *A), ('a', .8, *B)], 2 / 3),   # unknown
    ([], 0.0),                                                   # nothing
])
def test_hand_made_aps(two_faces, dets, ap):
    result = run(two_faces, dets)
    assert result.ap == pytest.approx(ap, abs=1e-12)
    # exact boxes: the calibration finds nothing to correct
    assert result.ap_calibrated == pytest.approx(ap, abs=1e-12)


def test_unknown_image_counted(two_faces):
    result = run(two_faces, [('zzz.jpg', .99, *A), ('a.jpg', .9, *A)])
    assert result.num_unknown_image == 1
    assert (result.curve.num_tp, result.curve.num_fp) == (1, 1)


def test_names_with_or_without_extension_are_one_image(two_faces):
    with_ext = run(two_faces, [('a.jpg', .9, *A), ('a.jpg', .8, *B)])
    without = run(two_faces, [('a', .9, *A), ('dir/a.png', .8, *B)])
    assert with_ext.ap == without.ap == 1.0


def test_ignored_faces_are_neither(tmp_path):
    # C is 28 px wide (under 30: ignored); D is flagged ignored in the file
    gt = make_gt(tmp_path, {
        'a.jpg': [A, B, (400, 0, 428, 99), (600, 0, 699, 99, 1)]
    })
    assert gt.ignore.tolist() == [False, False, True, True]
    assert gt.num_counted == 2
    dets = [('a', .99, 400, 0, 428, 99), ('a', .98, 600, 0, 699, 99),
            ('a', .9, *A), ('a', .8, *B)]
    result = run(gt, dets)
    assert result.ap == 1.0
    assert (result.curve.num_tp, result.curve.num_fp) == (2, 0)
    # a second detection on an ignored face is not a false positive either
    result = run(gt, dets + [('a', .7, 600, 0, 699, 99)])
    assert (result.curve.num_tp, result.curve.num_fp) == (2, 0)


def test_30_px_rule_boundary(tmp_path):
    gt = make_gt(tmp_path, {'a.jpg': [(0, 0, 30, 30), (100, 0, 129, 40)]})
    # width 30 counts; width 29 (|x2 - x1|, no +1) is ignored
    assert gt.ignore.tolist() == [False, True]
    gt40 = make_gt(tmp_path, {'a.jpg': [(0, 0, 30, 30)]}, min_size=40)
    assert gt40.ignore.tolist() == [True]


def test_iou_uses_plus_one_and_threshold_is_strict(tmp_path):
    face = (0, 0, 39, 39)  # 40 x 40 pixels
    gt = make_gt(tmp_path, {'a.jpg': [face]})
    # 40 x 80 pixels: IoU 1600 / 3200 = 0.5 exactly -> not a hit
    assert toolkit_iou(np.array([[0., 0, 39, 79]]),
                       np.array([face], dtype=float))[0] == 0.5
    assert run(gt, [('a', 1., 0, 0, 39, 79)]).ap == 0.0
    # 40 x 79 pixels: IoU 1600 / 3160 > 0.5 (without the +1 it would be
    # 1521 / 3042 = 0.5 exactly, a miss)
    assert run(gt, [('a', 1., 0, 0, 39, 78)]).ap == 1.0


def test_iou_needs_strict_overlap():
    # boxes that share one pixel column: the +1 formula would give an
    # intersection of 1 x 10, the toolkit's strict test gives none
    iou = toolkit_iou(np.array([[0., 0, 9, 9]]), np.array([[9., 0, 19, 9]]))
    assert iou[0] == 0.0


def test_detection_size_filter(tmp_path):
    assert min_detection_size(30) == 21
    assert min_detection_size((40, 20)) == 20
    keep = keep_detections(
        np.array([[0, 0, 21, 21], [0, 0, 22, 5], [0, 0, 5, 22.]]), 21)
    assert keep.tolist() == [False, True, True]
    gt = make_gt(tmp_path, {'a.jpg': [(0, 0, 30, 30)]})
    # 22 x 22 px (+1 convention) on a 31 x 31 face: IoU 484 / 961 > 0.5,
    # but a side of 21 is not above 21: dropped before matching
    result = run(gt, [('a', 1., 0, 0, 21, 21)])
    assert (result.ap, result.num_kept) == (0.0, 0)
    assert run(gt, [('a', 1., 0, 0, 22, 22)]).ap == 1.0


def test_iou_ties_go_to_the_later_face(tmp_path):
    same = (0, 0, 49, 49)
    # both detections take the later of two identical faces: 1 TP, 1 FP
    gt = make_gt(tmp_path, {'t.jpg': [same, same]})
    result = run(gt, [('t', .9, *same), ('t', .8, *same)])
    assert (result.curve.num_tp, result.curve.num_fp) == (1, 1)
    assert result.ap == 0.5
    # the later face is ignored: both detections are neither, the first
    # face is never found
    gt = make_gt(tmp_path, {'t.jpg': [same, (*same, 1)]})
    result = run(gt, [('t', .9, *same), ('t', .8, *same)])
    assert (result.curve.num_tp, result.curve.num_fp) == (0, 0)
    assert result.ap == 0.0
    # the earlier face is ignored: the later one is found
    gt = make_gt(tmp_path, {'t.jpg': [(*same, 1), same]})
    assert run(gt, [('t', .9, *same)]).ap == 1.0


def test_no_fallback_to_the_second_best_face(tmp_path):
    # the detection overlaps face 2 best (taken already) and face 1 above
    # 0.5 too: still a false positive, as in the toolkit
    f1, f2 = (0, 0, 99, 99), (5, 0, 104, 99)
    gt = make_gt(tmp_path, {'a.jpg': [f1, f2]})
    result = run(gt, [('a', .9, *f2), ('a', .8, 4, 0, 103, 99)])
    assert (result.curve.num_tp, result.curve.num_fp) == (1, 1)


@pytest.mark.parametrize('first,ap', [('fp', 0.25), ('tp', 0.5)])
def test_score_ties_keep_file_order(two_faces, first, ap):
    # equal scores: the file's order decides (the toolkit's stable sort)
    fp, tp = ('a', .5, *FAR), ('a', .5, *A)
    dets = [fp, tp] if first == 'fp' else [tp, fp]
    assert run(two_faces, dets).ap == pytest.approx(ap)


def test_voc_ap_by_hand():
    ap, rec, prec = voc_ap_from_detections(np.array([1, 0, 1]),
                                           np.array([0, 1, 0]), 4)
    assert ap == pytest.approx(0.25 * 1 + 0.25 * 2 / 3)
    np.testing.assert_allclose(rec, [0.25, 0.25, 0.5])
    # leading detections that are neither (ignored faces): no effect
    ap, _, prec = voc_ap_from_detections(np.array([0, 1]), np.array([0, 0]), 1)
    assert ap == 1.0 and np.isnan(prec[0])


def test_apply_box_style_by_hand():
    boxes = np.array([[0., 0, 10, 20]])
    np.testing.assert_array_equal(apply_box_style(boxes, (0, 0, 1, 1)),
                                  boxes)
    # centre (5, 10) moves by 0.1 x width = 1 in x; width x2, height x0.5
    np.testing.assert_allclose(
        apply_box_style(boxes, (0.1, 0., 2., 0.5)), [[-4, 5, 16, 15]])


def test_calibration_recovers_a_box_style(tmp_path):
    faces = {f'{i}.jpg': [(100 * i, 50, 100 * i + 99, 149)]
             for i in range(4)}
    gt = make_gt(tmp_path, faces)

    def scaled(i, s, score):
        cx, cy, half = 100 * i + 49.5, 99.5, 50 * s
        return (str(i), score, cx - half, cy - half, cx + half, cy + half)

    # two boxes 1.2x the face (hits), two 1.6x (misses, IoU 0.39)
    dets = [scaled(0, 1.2, .9), scaled(1, 1.2, .8), scaled(2, 1.6, .7),
            scaled(3, 1.6, .6)]
    result = run(gt, dets)
    assert result.ap == pytest.approx(0.5)
    assert result.ap_calibrated == 1.0
    # the first transform shrinks by the mean size ratio of the two hits
    assert result.box_styles[0][2] == pytest.approx(99 / 120)
    assert len(result.box_styles) == 4  # 5 scorings, 4 transforms
    assert run(gt, dets, num_calib_iters=1).ap_calibrated == result.ap


def test_bad_arguments(two_faces, tmp_path):
    with pytest.raises(ValueError, match='NaN or infinite'):
        run(two_faces, [('a', float('nan'), *A)])
    with pytest.raises(ValueError, match='num_calib_iters'):
        run(two_faces, [], num_calib_iters=0)
    with pytest.raises(ValueError, match='iou_thr'):
        run(two_faces, [], iou_thr=1.0)
    with pytest.raises(ValueError, match='image indices'):
        evaluate_face_eval(two_faces, [1], [1.], [A])
    ignored = make_gt(tmp_path, {'a.jpg': [(0, 0, 10, 10)]})
    with pytest.raises(ValueError, match='no face left'):
        run(ignored, [])


def random_case(rng, tmp_path, idx):
    """A random annotation file and detection file, with ties of scores,
    of IoUs (repeated faces), ignored faces, small and reversed boxes."""
    images = {}
    for i in range(int(rng.integers(1, 6))):
        faces = []
        for _ in range(int(rng.integers(0, 7))):
            x, y = rng.integers(0, 300, 2)
            w, h = rng.integers(15, 90, 2)
            face = [int(x), int(y), int(x + w), int(y + h),
                    int(rng.random() < 0.15)]
            faces.append(face)
            if rng.random() < 0.25:  # an identical face: IoU ties
                faces.append(face[:4] + [int(rng.random() < 0.5)])
        images[f'{idx}_{i}.jpg'] = faces
    lines = []
    for name, faces in images.items():
        stem = name[:-4] if rng.random() < 0.5 else name
        for f in faces:
            for _ in range(int(rng.integers(0, 3))):
                w, h = f[2] - f[0], f[3] - f[1]
                j = rng.normal(0, 0.12, 4) * [w, h, w, h]
                box = np.array(f[:4]) + j
                if rng.random() < 0.5:
                    box = np.round(box)
                lines.append((stem, round(float(rng.random()), 1), *box))
        for _ in range(int(rng.integers(0, 6))):
            x, y = rng.uniform(0, 300, 2)
            w, h = rng.uniform(-10, 80, 2)  # some reversed, some small
            lines.append((stem, round(float(rng.random()), 1), x, y, x + w,
                          y + h))
    lines.append(('unknown', 0.5, 0, 0, 50, 50))
    order = rng.permutation(len(lines))
    lines = [lines[i] for i in order]
    ann = tmp_path / f'ann{idx}.mat'
    write_face_eval_gt(ann, list(images), [[400, 400]] * len(images),
                       [np.array([f[:4] for f in v]).reshape(-1, 4)
                        for v in images.values()],
                       [np.array([f[4] for f in v]) for v in images.values()])
    det = tmp_path / f'det{idx}.txt'
    write_face_eval_dets(det, [line[0] for line in lines],
                         [line[1] for line in lines],
                         np.array([line[2:] for line in lines]).reshape(-1, 4))
    return ann, det


@pytest.mark.parametrize('max_pairs,max_cached', [(1 << 21, 1 << 23),
                                                   (7, 0)])
def test_random_cases_equal_the_plain_loop(tmp_path, monkeypatch, max_pairs,
                                           max_cached):
    # also in chunks of at most 7 pairs, rebuilt for every scoring
    monkeypatch.setattr(matching, 'MAX_PAIRS', max_pairs)
    monkeypatch.setattr(matching, 'MAX_CACHED_PAIRS', max_cached)
    rng = np.random.default_rng(10)
    num_tp = num_ties = 0
    for idx in range(60):
        ann, det = random_case(rng, tmp_path, idx)
        gt = load_face_eval_gt(ann)
        if gt.num_counted == 0:
            continue
        dets = read_face_eval_dets(det)
        ours = evaluate_face_eval(gt, image_indices(gt, dets.keys),
                                  dets.scores, dets.boxes)
        ref = reference_evaluate(reference_load_gt(str(ann)),
                                 reference_read_dets(str(det)))
        assert ours.ap == ref['ap'], idx
        assert ours.ap_calibrated == ref['ap_calibrated'], idx
        assert ours.curve_calibrated.num_tp == sum(ref['tp_calibrated'])
        assert ours.curve_calibrated.num_fp == sum(ref['fp_calibrated'])
        num_tp += sum(ref['tp'])
        num_ties += len(dets) - len(set(dets.scores.tolist()))
    assert num_tp > 100 and num_ties > 100  # the cases exercise the rules


@needs_face_eval
@pytest.mark.parametrize('name,ann,ap_calibrated,ap', [
    ('AFW', 'new_annotations_AFW.mat', 97.21, 92.04),
    ('PASCAL', 'Annotations_Face_PASCALLayout_large_fixed.mat', 90.29,
     86.30),
])
def test_dpm_reference_values(name, ann, ap_calibrated, ap):
    """The toolkit's own numbers for the shipped DPM detections."""
    ann = FACE_EVAL / 'annotations' / ann
    det = FACE_EVAL / 'detections' / name / 'DPM.txt'
    gt = load_face_eval_gt(ann)
    dets = read_face_eval_dets(det)
    result = evaluate_face_eval(gt, image_indices(gt, dets.keys),
                                dets.scores, dets.boxes)
    assert round(result.ap_calibrated * 100, 2) == ap_calibrated
    assert round(result.ap * 100, 2) == ap
    ref = reference_evaluate(reference_load_gt(str(ann)),
                             reference_read_dets(str(det)))
    assert (result.ap, result.ap_calibrated) == (ref['ap'],
                                                 ref['ap_calibrated'])
