# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The toolkit's box-style calibration of AFW / PASCAL Face detections.

The toolkit's plots (``plot_AP.py``) report the AP after a box-style
calibration: each of 5 iterations scores the detections (:mod:`.matching`),
then shifts and scales all of them by the mean centre offset (relative to
the detection's size) and the mean size ratio of the current true
positives; the AP (:mod:`.curves`) is that of the 5th scoring (4
transforms applied). This module holds the transform (:func:`box_style`,
:func:`apply_box_style`); :func:`.evaluate.evaluate` runs the
scorings and gives the AP after calibration together with the AP without
it (the 1st scoring).
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from .annotations import FaceEvalGT
from .matching import MatchResult


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
