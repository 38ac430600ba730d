# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face evaluation with the toolkit's box-style calibration.

The toolkit's plots (``plot_AP.py``) report the AP after a box-style
calibration: each of 5 iterations scores the detections (:mod:`.matching`),
then shifts and scales all of them by the mean centre offset (relative to
the detection's size) and the mean size ratio of the current true
positives; the AP (:mod:`.curves`) is that of the 5th scoring (4
transforms applied). :func:`evaluate_face_eval` gives it together with the
AP without calibration (the 1st scoring).
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .curves import PRCurve, voc_ap_from_detections
from .annotations import FaceEvalGT
from .matching import (FacePairs, MatchResult, keep_detections, match_sorted,
                       min_detection_size)


def box_style(gt: FaceEvalGT, boxes: np.ndarray,
              match: MatchResult) -> Optional[Tuple[float, ...]]:
    """Mean box-style offset of the true positives (the toolkit's
    ``VOCprRecordOptim`` statistics).

    Returns:
        tuple[float, float, float, float] | None: ``(tx, ty, sx, sy)``: mean
        ``(face centre - detection centre) / detection size`` in x and y,
        mean ``face size / detection size`` (sizes ``x2 - x1``, no +1), in
        the order of the true positives; None without a true positive.
    """
    idx = np.flatnonzero(match.tp)
    if not len(idx):
        return None
    det = boxes[idx]
    face = gt.boxes[match.face[idx]]
    det_w = det[:, 2] - det[:, 0]
    det_h = det[:, 3] - det[:, 1]
    with np.errstate(divide='ignore', invalid='ignore'):
        tx = ((face[:, 2] + face[:, 0]) / 2. -
              (det[:, 2] + det[:, 0]) / 2.) / det_w
        ty = ((face[:, 3] + face[:, 1]) / 2. -
              (det[:, 3] + det[:, 1]) / 2.) / det_h
        sx = (face[:, 2] - face[:, 0]) / det_w
        sy = (face[:, 3] - face[:, 1]) / det_h
    return tuple(float(np.mean(v)) for v in (tx, ty, sx, sy))


def apply_box_style(boxes: np.ndarray, style: Sequence[float]) -> np.ndarray:
    """Shift and scale boxes (the toolkit's ``transf_dets``).

    Args:
        boxes (np.ndarray): (D, 4) ``x1 y1 x2 y2``.
        style (sequence[float]): ``(tx, ty, sx, sy)`` of :func:`box_style`.

    Returns:
        np.ndarray: (D, 4): centre moved by ``(tx * w, ty * h)``, width and
        height multiplied by ``sx`` and ``sy``.
    """
    tx, ty, sx, sy = style
    half_w = (boxes[:, 2] - boxes[:, 0]) / 2.0
    half_h = (boxes[:, 3] - boxes[:, 1]) / 2.0
    cx = (boxes[:, 2] + boxes[:, 0]) / 2. + tx * half_w * 2
    cy = (boxes[:, 3] + boxes[:, 1]) / 2. + ty * half_h * 2
    return np.stack([cx - half_w * sx, cy - half_h * sy, cx + half_w * sx,
                     cy + half_h * sy], axis=1)


@dataclass
class FaceEvalResult:
    """AP of one detection set on AFW or PASCAL Face.

    Attributes:
        ap (float): AP without calibration, in [0, 1].
        ap_calibrated (float): AP after the box-style calibration.
        curve (PRCurve): the curve without calibration.
        curve_calibrated (PRCurve): the curve after calibration.
        box_styles (list[tuple]): ``(tx, ty, sx, sy)`` of each transform
            applied before the calibrated scoring.
        num_calib_iters (int): scorings in the calibration (5).
        num_images (int): images in the ground truth.
        num_faces (int): faces, ignored ones included.
        num_counted (int): faces not ignored.
        num_detections (int): detections given.
        num_kept (int): detections left by the size filter.
        num_unknown_image (int): detections on images not in the ground
            truth (false positives, as in the toolkit).
        num_images_with_dets (int): ground-truth images with a detection.
    """
    ap: float
    ap_calibrated: float
    curve: PRCurve
    curve_calibrated: PRCurve
    box_styles: List[Tuple[float, ...]] = field(default_factory=list)
    num_calib_iters: int = 5
    num_images: int = 0
    num_faces: int = 0
    num_counted: int = 0
    num_detections: int = 0
    num_kept: int = 0
    num_unknown_image: int = 0
    num_images_with_dets: int = 0

    def to_dict(self) -> dict:
        """The numbers, JSON-ready (APs as fractions)."""
        return dict(
            ap=self.ap,
            ap_calibrated=self.ap_calibrated,
            num_calib_iters=self.num_calib_iters,
            box_styles=[list(s) for s in self.box_styles],
            num_images=self.num_images,
            num_faces=self.num_faces,
            num_faces_counted=self.num_counted,
            num_detections=self.num_detections,
            num_detections_kept=self.num_kept,
            num_detections_unknown_image=self.num_unknown_image,
            num_images_with_detections=self.num_images_with_dets)


def check_eval_args(iou_thr: float, num_calib_iters: int) -> None:
    """Raise ValueError unless ``0 <= iou_thr < 1`` and
    ``num_calib_iters >= 1`` (the arguments of :func:`evaluate_face_eval`,
    also checked early by :class:`FaceEvalMetric`)."""
    if not 0 <= iou_thr < 1:
        raise ValueError(f'iou_thr must be in [0, 1), got {iou_thr}')
    if num_calib_iters < 1:
        raise ValueError('num_calib_iters must be >= 1 (1: no calibration), '
                         f'got {num_calib_iters}')


def evaluate_face_eval(gt: FaceEvalGT,
                       image_idx: np.ndarray,
                       scores: np.ndarray,
                       boxes: np.ndarray,
                       iou_thr: float = 0.5,
                       min_det_size: Optional[int] = None,
                       num_calib_iters: int = 5) -> FaceEvalResult:
    """AP with and without the toolkit's box-style calibration.

    Args:
        gt (FaceEvalGT): from :func:`load_face_eval_gt`.
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
