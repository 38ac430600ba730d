# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW and PASCAL Face evaluation, exact to the Mathias et al. (ECCV 2014)
toolkit, split by job:

- :mod:`.annotations`: the toolkit's ``.mat`` annotations
  (:func:`load_face_eval_gt`, :class:`FaceEvalGT`, the 30 px ignore rule);
- :mod:`.matching`: the size filter, the +1-pixel IoU and which face each
  detection takes (:func:`match_sorted`);
- :mod:`.curves`: the precision-recall curve and VOC AP
  (:func:`voc_ap_from_detections`);
- :mod:`.calibration`: the 5-iteration box-style calibration and the whole
  evaluation (:func:`evaluate_face_eval`, :class:`FaceEvalResult`);
- :mod:`.io`: the detection text file; :mod:`.plot`: the PR curve PNG.
"""
from .calibration import apply_box_style, box_style
from .curves import voc_ap_from_detections
from .evaluate import check_eval_args, evaluate_face_eval
from .annotations import (MIN_FACE_SIZE, FaceEvalGT, ignore_by_size,
                          image_indices, image_key, load_face_eval_gt,
                          write_face_eval_gt)
from .matching import (MatchResult, best_faces, keep_detections, match_sorted,
                       min_detection_size, toolkit_iou)
from .plot import plot_face_eval_pr
from .predictions import (FaceDetections, read_face_eval_dets,
                          write_face_eval_dets)
from .results import FaceEvalResult, PRCurve

__all__ = [
    'MIN_FACE_SIZE', 'FaceEvalGT', 'ignore_by_size', 'image_key',
    'load_face_eval_gt', 'write_face_eval_gt', 'FaceDetections',
    'read_face_eval_dets', 'write_face_eval_dets', 'FaceEvalResult',
    'MatchResult', 'PRCurve', 'apply_box_style', 'best_faces', 'box_style',
    'check_eval_args', 'evaluate_face_eval', 'image_indices',
    'keep_detections', 'match_sorted', 'min_detection_size', 'toolkit_iou',
    'voc_ap_from_detections', 'plot_face_eval_pr'
]
