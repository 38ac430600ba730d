# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Outer-face recall on hand-made cases whose answer is known."""
import math

import numpy as np
import pytest
import torch
from mmdet.registry import METRICS, TASK_UTILS
from mmengine.logging import MMLogger

from hambox_mmdet.analysis import (D_BINS, SIZE_BINS, best_f1_score_thr,
                                   summarise_outer_face_recall)
from hambox_mmdet.analysis.outer_faces import (faces_found,
                                               input_frame_anchors,
                                               matched_anchor_counts)
from hambox_mmdet.evaluation.wider import WiderFaceGT

# one level, stride 8, anchor side 1.0 * 4 * 8 = 32 px, centres at 8 i + 4
GENERATOR = dict(type='FaceAnchorGenerator', strides=(8, ), anchor_scale=1.0)


def test_bins_by_hand():
    d = [0, 1, 2, 3, 4, 5, 7, 0]
    sizes = [5, 15, 25, 50, 100, 200, 9.99, 10]
    found = [True, False, True, True, False, True, True, False]
    table = summarise_outer_face_recall(d, sizes, found)
    assert list(table['by_d']) == list(D_BINS)
    assert list(table['by_size']) == list(SIZE_BINS)
    recall = {k: v['recall'] for k, v in table['by_d'].items()}
    assert recall == {'0': 0.5, '1': 0.0, '2': 1.0, '3': 1.0, '4': 0.0,
                      '>=5': 1.0}
    assert table['by_d']['0']['faces'] == 2
    assert table['by_d']['>=5']['faces'] == 2
    by_size = {k: (v['faces'], v['found'])
               for k, v in table['by_size'].items()}
    # 10 px is the lower edge of '10-20'
    assert by_size == {'<10': (2, 2), '10-20': (2, 0), '20-40': (1, 1),
                       '40-80': (1, 1), '80-160': (1, 0), '>=160': (1, 1)}
    assert table['all'] == dict(faces=8, found=5, recall=5 / 8)


def test_empty_bins_have_no_recall():
    table = summarise_outer_face_recall([], [], [])
    assert table['all']['recall'] is None
    assert all(v['recall'] is None and v['faces'] == 0
               for v in table['by_d'].values())
    with pytest.raises(ValueError, match='one entry per face'):
        summarise_outer_face_recall([1, 2], [10.], [True, False])


def test_matched_anchor_counts_by_hand():
    """A 32 px face on an anchor: the anchor, its 4 axial neighbours (8 px
    off: IoU 768 / 1280 = 0.6) and its 4 diagonal ones (IoU 576 / 1472 =
    0.39) reach 0.35; 16 px off gives 0.33. D = 9. A 4 px face: D = 0."""
    gen = TASK_UTILS.build(GENERATOR)
    anchors = input_frame_anchors(gen, (64, 64))
    assert anchors.shape == (64, 4)
    assert torch.equal(anchors[0], torch.tensor([-12., -12., 20., 20.]))
    faces = torch.tensor([[12., 12., 44., 44.], [0., 0., 4., 4.]])
    assert matched_anchor_counts(anchors, faces).tolist() == [9, 0]
    # padded inputs not divisible by the stride: ceil
    assert len(input_frame_anchors(gen, (57, 65))) == 8 * 9
    # a stricter threshold keeps the axial neighbours only
    assert matched_anchor_counts(anchors, faces, 0.5).tolist() == [5, 0]


def test_faces_found_by_hand():
    faces = torch.tensor([[0., 0., 10., 10.], [20., 20., 30., 30.]])
    dets = torch.tensor([[0., 0., 10., 10.], [21., 21., 31., 31.],
                         [0., 0., 10., 5.]])
    scores = torch.tensor([0.9, 0.3, 0.95])
    assert faces_found(dets, scores, faces, 0.5).tolist() == [True, False]
    # IoU 81 / 119 = 0.68 at score 0.3
    assert faces_found(dets, scores, faces, 0.2).tolist() == [True, True]
    # IoU exactly 0.5 is not > 0.5
    assert faces_found(dets[2:], scores[2:], faces, 0.).tolist() == [
        False, False]


def test_best_f1_threshold_by_hand():
    # F1 = 0.667 at t = 0.9, 0.889 at t = 0.8: raw = 1 + 0.8 * (3 - 1)
    thr = best_f1_score_thr([1., .8], [.5, 1.], np.array([.9, .8]), (1., 3.))
    assert thr == pytest.approx(2.6)
    assert math.isnan(best_f1_score_thr([0., 0.], [0., 0.],
                                        np.array([.9, .8]), (0., 1.)))


def test_metric_reports_outer_face_recall(tmp_path):
    """One 128 px image tested at half size. Face 0 (64 px, x y w h 24 24
    64 64) lands on an anchor in the input frame (D = 9) and is detected at
    0.9; face 1 (8 px) has D = 0 and is missed; a false positive at 0.6."""
    MMLogger.get_instance('test_outer_faces')
    metric = METRICS.build(
        dict(type='WIDERFaceMetric', gt_dir='unused', only_present_images=True,
             outer_face_recall=dict(anchor_generator=GENERATOR)))
    metric._gt = WiderFaceGT(
        ['e/a'], [np.array([[24., 24., 64., 64.], [0., 0., 8., 8.]])],
        {s: [np.array([1, 2])] for s in ('easy', 'medium', 'hard')})
    metric.dataset_meta = {}
    sample = dict(
        img_path='/x/WIDER_val/images/e/a.jpg',
        scale_factor=(0.5, 0.5),
        batch_input_shape=(64, 64),
        img_shape=(64, 64),
        pred_instances=dict(
            bboxes=torch.tensor([[24., 24., 88., 88.],
                                 [100., 100., 120., 120.]]),
            scores=torch.tensor([0.9, 0.6]),
            labels=torch.zeros(2, dtype=torch.long)))
    metric.process({}, [sample])
    out = metric.compute_metrics(metric.results)
    assert out['outer/score>=0.5/D>=5'] == 1.0
    assert out['outer/score>=0.5/D0'] == 0.0
    assert out['outer/score>=0.5/D0_faces'] == 1.0
    assert 'outer/score>=0.5/D1' not in out  # empty bin: no recall
    assert out['outer/score>=0.5/size40-80'] == 1.0
    assert out['outer/score>=0.5/size<10'] == 0.0
    assert out['outer/score>=0.5/all'] == 0.5
    # the Hard curve's best F1 keeps the 0.9 box only: normalised threshold
    # 0.999 over the score range 0.6 ... 0.9
    assert out['outer/hard_best_f1/score_thr'] == pytest.approx(
        0.6 + 0.999 * 0.3)
    assert out['outer/hard_best_f1/D>=5'] == 1.0
    assert all(math.isfinite(v) for v in out.values())


def test_metric_without_the_option_reports_aps_only():
    metric = METRICS.build(dict(type='WIDERFaceMetric', gt_dir='unused'))
    assert metric.outer_face_recall is None
    with pytest.raises(ValueError, match='unknown key'):
        METRICS.build(dict(type='WIDERFaceMetric', gt_dir='unused',
                           outer_face_recall=dict(score=0.5)))
