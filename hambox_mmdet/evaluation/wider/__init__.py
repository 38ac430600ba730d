# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The official WIDER FACE Easy / Medium / Hard evaluation, vectorised.

This package reproduces the MATLAB ``eval_tools`` of WIDER FACE
(``wider_eval.m``, ``read_pred.m``, ``norm_score.m``, ``evaluation.m``,
``boxoverlap.m``, ``VOCap.m``) with numpy only. It has the layout and the
names of the other benchmarks (:mod:`hambox_mmdet.evaluation.fddb`,
:mod:`hambox_mmdet.evaluation.face_eval`):

- :mod:`.annotations`: the official ``.mat`` ground truth
  (:func:`load_ground_truth` -> :class:`WiderFaceGT`; the reader lives in
  :mod:`hambox_mmdet.datasets.annotations.wider`);
- :mod:`.predictions`: the official submission folder
  (:func:`read_predictions`, :func:`write_predictions`);
- :mod:`.evaluate`: the evaluation (:func:`evaluate`), one named function
  per step below;
- :mod:`.results`: :class:`WiderEvalResult` (and its table,
  :meth:`WiderEvalResult.summary`);
- :mod:`.plot`: the precision-recall curves (:func:`plot_curves`);
- WIDER FACE's own: :mod:`.overlap` (``boxoverlap.m`` and MATLAB's
  ``int32`` arithmetic, :func:`best_overlaps`) and :mod:`.matching` (the
  per-image matching, the score thresholds and ``VOCap.m``,
  :func:`voc_ap_from_curve`).

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
from .._deprecation import deprecated_names
from .annotations import GT_FILES, SETTINGS, WiderFaceGT, load_ground_truth
from .evaluate import IOU_ARITH_MODES, evaluate
from .matching import voc_ap_from_curve, wider_thresholds
from .overlap import best_overlaps, matlab_round
from .plot import plot_curves
from .predictions import (PRED_DIR_MARKER, check_pred_dir, check_pred_layout,
                          read_predictions, write_predictions)
from .results import WiderEvalResult, WiderSettingResult

__all__ = [
    # the names every benchmark has
    'load_ground_truth', 'read_predictions', 'write_predictions', 'evaluate',
    'plot_curves', 'WiderFaceGT', 'WiderEvalResult',
    # WIDER FACE's own
    'GT_FILES', 'SETTINGS', 'PRED_DIR_MARKER', 'check_pred_dir',
    'check_pred_layout', 'IOU_ARITH_MODES', 'voc_ap_from_curve',
    'wider_thresholds', 'best_overlaps', 'matlab_round', 'WiderSettingResult'
]

#: Names before #20, importable with a DeprecationWarning for one release.
_RENAMED = dict(
    load_wider_gt='load_ground_truth',
    read_pred_dir='read_predictions',
    write_pred_dir='write_predictions',
    evaluate_wider='evaluate',
    plot_pr_curves='plot_curves')
__getattr__ = deprecated_names(__name__, _RENAMED, globals())
