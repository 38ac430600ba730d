# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The AFW / PASCAL Face evaluation entry point: the AP with and without
the toolkit's box-style calibration (scoring in :mod:`.matching`, the curve
and its AP in :mod:`.curves`, the calibration transform in
:mod:`.calibration`)."""
from typing import List, Optional, Tuple

import numpy as np

from .annotations import FaceEvalGT
from .calibration import apply_box_style, box_style
from .curves import voc_ap_from_detections
from .matching import (FacePairs, MatchResult, keep_detections, match_sorted,
                       min_detection_size)
from .results import FaceEvalResult, PRCurve


def check_eval_args(iou_thr: float, num_calib_iters: int) -> None:
    """Raise ValueError unless ``0 <= iou_thr < 1`` and
    ``num_calib_iters >= 1`` (the arguments of :func:`evaluate`,
    also checked early by :class:`FaceEvalMetric`)."""
    if not 0 <= iou_thr < 1:
        raise ValueError(f'iou_thr must be in [0, 1), got {iou_thr}')
    if num_calib_iters < 1:
        raise ValueError('num_calib_iters must be >= 1 (1: no calibration), '
                         f'got {num_calib_iters}')


def evaluate(gt: FaceEvalGT,
             image_idx: np.ndarray,
             scores: np.ndarray,
             boxes: np.ndarray,
             iou_thr: float = 0.5,
             min_det_size: Optional[int] = None,
             num_calib_iters: int = 5) -> FaceEvalResult:
    """AP with and without the toolkit's box-style calibration.

    Args:
        gt (FaceEvalGT): from :func:`load_ground_truth`.
        image_idx (np.ndarray): (D, ) int64 image of each detection
            (:func:`image_indices`; -1: not in ``gt``).
        scores (np.ndarray): (D, ) scores, finite.
        boxes (np.ndarray): (D, 4) ``x1 y1 x2 y2``, finite, in the order of
            the file (it breaks score ties).
        iou_thr (float): a face is hit above this IoU. Defaults to 0.5.
        min_det_size (int, optional): detections are kept where a side
            exceeds it. Defaults to None: ``int(sqrt(0.5 * w * h))`` of
            ``gt.min_size`` (21 for 30 px).
        num_calib_iters (int): scorings of the calibration; its AP is that
            of the last one. Defaults to 5 (the toolkit's ``--nit``).

    Returns:
        FaceEvalResult: the APs, curves and counts.
    """
    check_eval_args(iou_thr, num_calib_iters)
    if gt.num_counted == 0:
        raise ValueError(f'{gt.ann_file}: no face left to find (all '
                         f'{gt.num_faces} are ignored)')
    image_idx = np.asarray(image_idx, dtype=np.int64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(image_idx) == len(scores) == len(boxes):
        raise ValueError(f'{len(image_idx)} image indices, {len(scores)} '
                         f'scores and {len(boxes)} boxes differ in number')
    if not (np.isfinite(scores).all() and np.isfinite(boxes).all()):
        raise ValueError('detections with a NaN or infinite score or box')
    if len(image_idx) and not -1 <= image_idx.min() <= image_idx.max() < \
            len(gt):
        raise ValueError(f'image indices must be in [-1, {len(gt)}), got '
                         f'{image_idx.min()} ... {image_idx.max()}')
    if min_det_size is None:
        min_det_size = min_detection_size(gt.min_size)
    keep = np.flatnonzero(keep_detections(boxes, min_det_size))
    order = keep[np.argsort(-scores[keep], kind='stable')]
    img, cur, sc = image_idx[order], boxes[order], scores[order]

    def curve_of(match: MatchResult) -> PRCurve:
        ap, rec, prec = voc_ap_from_detections(match.tp, match.fp,
                                               gt.num_counted)
        return PRCurve(ap, rec, prec, sc, int(match.tp.sum()),
                       int(match.fp.sum()))

    styles: List[Tuple[float, ...]] = []
    plain = calibrated = None
    pairs = FacePairs(gt, img)
    for it in range(num_calib_iters):
        match = match_sorted(gt, img, cur, iou_thr, pairs)
        if it == 0:
            plain = curve_of(match)
        style = box_style(gt, cur, match)
        if it == num_calib_iters - 1 or style is None:
            # without a true positive the toolkit's transform is NaN and
            # every later scoring has none either: AP 0, as here
            calibrated = curve_of(match)
            break
        styles.append(style)
        cur = apply_box_style(cur, style)
    return FaceEvalResult(
        ap=plain.ap,
        ap_calibrated=calibrated.ap,
        curve=plain,
        curve_calibrated=calibrated,
        box_styles=styles,
        num_calib_iters=num_calib_iters,
        num_images=len(gt),
        num_faces=gt.num_faces,
        num_counted=gt.num_counted,
        num_detections=len(scores),
        num_kept=len(keep),
        num_unknown_image=int((image_idx < 0).sum()),
        num_images_with_dets=int(len(np.unique(image_idx[image_idx >= 0]))))
