# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW and PASCAL Face evaluation, exact to the Mathias et al. (ECCV 2014)
toolkit. It has the layout and the names of the other benchmarks
(:mod:`hambox_mmdet.evaluation.wider`, :mod:`hambox_mmdet.evaluation.fddb`):

- :mod:`.annotations`: the toolkit's ``.mat`` annotations
  (:func:`load_ground_truth` -> :class:`FaceEvalGT`, the 30 px ignore rule;
  the reader lives in :mod:`hambox_mmdet.datasets.annotations.face_eval`);
- :mod:`.predictions`: the detection text file (:func:`read_predictions`
  -> :class:`FaceDetections`, :func:`write_predictions`);
- :mod:`.evaluate`: the AP with and without the box-style calibration
  (:func:`evaluate`);
- :mod:`.results`: :class:`FaceEvalResult` (table and JSON) and
  :class:`PRCurve`;
- :mod:`.plot`: the PR curves as a PNG (:func:`plot_curves`);
- the toolkit's own steps: :mod:`.matching` (the size filter, the +1-pixel
  IoU and which face each detection takes, :func:`match_sorted`),
  :mod:`.curves` (the precision-recall curve and VOC AP,
  :func:`voc_ap_from_detections`) and :mod:`.calibration` (the box-style
  transform).
"""
from .._deprecation import deprecated_names
from .annotations import (MIN_FACE_SIZE, FaceEvalGT, ignore_by_size,
                          image_indices, image_key, load_ground_truth,
                          write_ground_truth)
from .calibration import apply_box_style, box_style
from .curves import voc_ap_from_detections
from .evaluate import check_eval_args, evaluate
from .matching import (MatchResult, best_faces, keep_detections, match_sorted,
                       min_detection_size, toolkit_iou)
from .plot import plot_curves
from .predictions import FaceDetections, read_predictions, write_predictions
from .results import FaceEvalResult, PRCurve

__all__ = [
    # the names every benchmark has
    'load_ground_truth', 'read_predictions', 'write_predictions', 'evaluate',
    'plot_curves', 'FaceEvalGT', 'FaceEvalResult',
    # AFW / PASCAL Face's own
    'MIN_FACE_SIZE', 'write_ground_truth', 'ignore_by_size', 'image_key',
    'image_indices', 'FaceDetections', 'PRCurve', 'MatchResult',
    'apply_box_style', 'best_faces', 'box_style', 'check_eval_args',
    'keep_detections', 'match_sorted', 'min_detection_size', 'toolkit_iou',
    'voc_ap_from_detections'
]

#: Names before #20, importable with a DeprecationWarning for one release.
_RENAMED = dict(
    load_face_eval_gt='load_ground_truth',
    write_face_eval_gt='write_ground_truth',
    read_face_eval_dets='read_predictions',
    write_face_eval_dets='write_predictions',
    evaluate_face_eval='evaluate',
    plot_face_eval_pr='plot_curves')
__getattr__ = deprecated_names(__name__, _RENAMED, globals())
