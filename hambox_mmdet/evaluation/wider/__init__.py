# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The official WIDER FACE Easy / Medium / Hard evaluation, vectorised.

This package reproduces the MATLAB ``eval_tools`` of WIDER FACE
(``wider_eval.m``, ``read_pred.m``, ``norm_score.m``, ``evaluation.m``,
``boxoverlap.m``, ``VOCap.m``) with numpy only, split by job:

- :mod:`.annotations`: the official ``.mat`` ground truth
  (:class:`WiderFaceGT`, :func:`load_wider_gt`);
- :mod:`.overlap`: ``boxoverlap.m`` and MATLAB's ``int32`` arithmetic
  (:func:`best_overlaps`);
- :mod:`.matching`: matching, precision-recall curves and AP
  (:func:`evaluate_wider`), with its results in :mod:`.results`;
- :mod:`.io`: the official submission files (:func:`read_pred_dir`,
  :func:`write_pred_dir`);
- :mod:`.plot`: the precision-recall curves (:func:`plot_pr_curves`).

The steps, and where the official code has a quirk that is replicated on
purpose:

1. Each image's predictions are sorted by score, descending (stable, as
   MATLAB's ``sort(..., 'descend')``).
2. Scores are normalised globally, ``(s - min) / (max - min)``, where
   ``norm_score.m`` starts from ``max_score = 0`` and ``min_score = 1``
   before taking the max / min over all predictions of all images: the
   effective range is ``[min(1, smin), max(0, smax)]``. If that range is
   empty (every score equal to one value in ``[0, 1]``) the official division
   is ``0 / 0``, every normalised score is NaN, no prediction passes any
   threshold and every AP is 0. That is replicated, with a warning.
3. Per setting and image: ``count_face += len(gt_list)``, also for images
   without predictions; images without ground-truth boxes or without
   predictions are skipped for matching.
4. Matching (``image_evaluation``): each prediction takes the single face of
   highest overlap (the first one on ties); if that overlap is
   ``>= iou_thr``, a face outside ``gt_list`` makes the prediction ignored,
   and the first prediction on a kept face recalls it. Nothing is removed
   from the candidates: every prediction is matched independently, which is
   what makes the vectorised form exact.
5. ``image_pr_info``: thresholds ``thr_t = 1 - t / thresh_num`` in float64;
   at each threshold the predictions up to the last one with
   ``score >= thr_t`` count.
6. Sums over images; ``precision = recalled / proposals`` (0 where 0 / 0),
   ``recall = recalled / count_face``.
7. VOC AP: prepend (0, 0), append (1, 0), precision monotone from the right,
   sum of (delta recall) x precision.

Overlaps follow ``boxoverlap.m`` including its ``int32`` arithmetic on the
official ground truth (see :mod:`.overlap`); ``iou_arith='auto'`` (default)
agrees with the official ``.m`` code run under GNU Octave to 1e-7 on the
whole val set. A prediction of negative width or height is scored as the
official tool scores it (``x2 = x + w``, so in practice a false positive),
with a warning that gives its count.
"""
from .annotations import GT_FILES, SETTINGS, WiderFaceGT, load_wider_gt
from .evaluate import IOU_ARITH_MODES, evaluate_wider
from .matching import voc_ap_from_curve, wider_thresholds
from .overlap import best_overlaps, matlab_round
from .plot import plot_pr_curves
from .predictions import (PRED_DIR_MARKER, check_pred_dir, check_pred_layout,
                          read_pred_dir, write_pred_dir)
from .results import WiderEvalResult, WiderSettingResult

__all__ = [
    'GT_FILES', 'SETTINGS', 'WiderFaceGT', 'load_wider_gt', 'read_pred_dir',
    'PRED_DIR_MARKER', 'check_pred_dir', 'check_pred_layout',
    'write_pred_dir', 'IOU_ARITH_MODES', 'evaluate_wider', 'voc_ap_from_curve',
    'wider_thresholds', 'best_overlaps', 'matlab_round', 'plot_pr_curves',
    'WiderEvalResult', 'WiderSettingResult'
]
