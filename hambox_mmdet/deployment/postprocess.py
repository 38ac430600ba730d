# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""mmdet's anchor-head post-processing in numpy and OpenCV (no torch).

Each function reproduces one step of mmdet 3.x's
``BaseDenseHead.predict_by_feat`` for anchor heads with
``DeltaXYWHBBoxCoder``, in float32 as mmdet computes it:

- :func:`grid_anchors`: ``AnchorGenerator.single_level_grid_priors``;
- :func:`select_topk`: ``filter_scores_and_topk`` (score > threshold, then
  the ``nms_pre`` best of a level);
- :func:`decode_deltas`: ``delta2bbox`` (means / stds, ``wh_ratio_clip``,
  optional centre clamp, clipping to the image);
- :func:`batched_nms`: mmcv's ``batched_nms`` (classes kept apart by an
  offset, IoU without the +1, a box suppressed when IoU > threshold).
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np


def grid_anchors(base_anchors: np.ndarray, stride: Sequence[float],
                 featmap_size: Tuple[int, int]) -> np.ndarray:
    """Anchors of one level, in the order of the head's flattened output.

    Args:
        base_anchors (np.ndarray): (A, 4) anchors of the cell at (0, 0),
            x1 y1 x2 y2 (already shifted by the generator's centre offset).
        stride (Sequence[float]): (stride_w, stride_h) of the level.
        featmap_size (tuple[int, int]): (H, W) of the level's output.

    Returns:
        np.ndarray: (H * W * A, 4) float32, row-major over (H, W, A).
    """
    feat_h, feat_w = featmap_size
    shift_x = np.arange(feat_w, dtype=np.float32) * np.float32(stride[0])
    shift_y = np.arange(feat_h, dtype=np.float32) * np.float32(stride[1])
    xx, yy = np.meshgrid(shift_x, shift_y)  # (H, W), x fastest
    shifts = np.stack([xx, yy, xx, yy], axis=-1).reshape(-1, 1, 4)
    anchors = np.asarray(base_anchors, dtype=np.float32)[None] + shifts
    return anchors.reshape(-1, 4)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function of float32 logits (stable for large |x|)."""
    x = x.astype(np.float32, copy=False)
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                    np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))).astype(
                        np.float32)


def level_scores(cls_out: np.ndarray, num_classes: int,
                 use_sigmoid: bool) -> np.ndarray:
    """Class scores of one image and level from the raw head output.

    Args:
        cls_out (np.ndarray): (A * C', H, W) logits, C' = ``num_classes``
            (sigmoid) or ``num_classes + 1`` (softmax, background last).
        num_classes (int): C.
        use_sigmoid (bool): sigmoid or softmax classification.

    Returns:
        np.ndarray: (H * W * A, C) float32 scores.
    """
    channels = num_classes if use_sigmoid else num_classes + 1
    logits = cls_out.transpose(1, 2, 0).reshape(-1, channels)
    if use_sigmoid:
        return sigmoid(logits)
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True))[:, :-1].astype(np.float32)


def select_topk(scores: np.ndarray, score_thr: float,
                topk: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores above ``score_thr``, the ``topk`` best (mmdet's
    ``filter_scores_and_topk``).

    Args:
        scores (np.ndarray): (N, C) scores of one level.
        score_thr (float): keep scores strictly above it.
        topk (int): at most this many; ``-1`` or less keeps all.

    Returns:
        tuple: kept scores (K, ), their anchor indices (K, ) and class
        labels (K, ), best first.
    """
    flat = scores.reshape(-1)
    valid = np.flatnonzero(flat > score_thr)
    if topk < 0 or topk > len(valid):
        topk = len(valid)
    valid_scores = flat[valid]
    if topk < len(valid):
        part = np.argpartition(-valid_scores, topk - 1)[:topk]
    else:
        part = np.arange(len(valid))
    order = part[np.argsort(-valid_scores[part], kind='stable')]
    keep = valid[order]
    num_classes = scores.shape[1]
    return flat[keep], keep // num_classes, keep % num_classes


def decode_deltas(anchors: np.ndarray,
                  deltas: np.ndarray,
                  means: Sequence[float],
                  stds: Sequence[float],
                  wh_ratio_clip: float = 16 / 1000,
                  add_ctr_clamp: bool = False,
                  ctr_clamp: float = 32,
                  max_shape: Optional[Tuple[int, int]] = None
                  ) -> np.ndarray:
    """mmdet's ``delta2bbox`` for (N, 4) anchors and deltas, float32.

    Args:
        anchors (np.ndarray): (N, 4) x1 y1 x2 y2.
        deltas (np.ndarray): (N, 4) dx dy dw dh, normalised.
        means, stds (Sequence[float]): the coder's target means / stds.
        wh_ratio_clip (float): |dw|, |dh| clamped to |log(wh_ratio_clip)|.
        add_ctr_clamp (bool): also clamp the centre shift to ``ctr_clamp``
            pixels (and dw, dh from above by the same bound).
        ctr_clamp (float): the centre clamp in pixels.
        max_shape (tuple[int, int], optional): (H, W) to clip boxes to.

    Returns:
        np.ndarray: (N, 4) float32 boxes x1 y1 x2 y2.
    """
    anchors = anchors.astype(np.float32, copy=False)
    deltas = deltas.astype(np.float32, copy=False)
    denorm = deltas * np.asarray(stds, np.float32) + np.asarray(
        means, np.float32)
    dxy, dwh = denorm[:, :2], denorm[:, 2:]
    pxy = (anchors[:, :2] + anchors[:, 2:]) * np.float32(0.5)
    pwh = anchors[:, 2:] - anchors[:, :2]
    dxy_wh = pwh * dxy
    max_ratio = np.float32(np.abs(np.log(wh_ratio_clip)))
    if add_ctr_clamp:
        dxy_wh = np.clip(dxy_wh, -ctr_clamp, ctr_clamp).astype(np.float32)
        dwh = np.minimum(dwh, max_ratio)
    else:
        dwh = np.clip(dwh, -max_ratio, max_ratio)
    gxy = pxy + dxy_wh
    gwh = pwh * np.exp(dwh)
    boxes = np.concatenate([gxy - gwh * np.float32(0.5),
                            gxy + gwh * np.float32(0.5)], axis=1)
    if max_shape is not None:
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, max_shape[1])
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, max_shape[0])
    return boxes.astype(np.float32, copy=False)


def batched_nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                iou_threshold: float) -> np.ndarray:
    """Greedy NMS per class (mmcv's ``batched_nms`` with ``type='nms'``).

    Classes are kept apart as mmcv does, by shifting each class's boxes by
    ``label * (max coordinate + 1)``; OpenCV's ``NMSBoxes`` then runs the
    greedy loop in C++ with the same rule as mmcv's CPU kernel (IoU of
    x1 y1 x2 y2 boxes without the +1, suppressed when IoU > threshold,
    visited by descending score).

    Args:
        boxes (np.ndarray): (N, 4) x1 y1 x2 y2.
        scores (np.ndarray): (N, ).
        labels (np.ndarray): (N, ) class indices.
        iou_threshold (float): the NMS IoU threshold.

    Returns:
        np.ndarray: (K, ) int64 indices of the kept boxes, best score first.
    """
    if len(boxes) == 0:
        return np.zeros((0, ), np.int64)
    boxes = boxes.astype(np.float64)
    if labels.max() > 0:
        offsets = labels.astype(np.float64) * (boxes.max() + 1)
        boxes = boxes + offsets[:, None]
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1)
    order_scores = scores.astype(np.float64)
    if order_scores.min() <= 0:  # NMSBoxes keeps scores > 0 only
        order_scores = order_scores - order_scores.min() + 1
    keep = cv2.dnn.NMSBoxes(xywh.tolist(), order_scores.tolist(), 0.,
                            float(iou_threshold))
    keep = np.asarray(keep, np.int64).reshape(-1)
    # NMSBoxes visits equal scores in input order; order the result by score
    return keep[np.argsort(-scores[keep], kind='stable')]


def match_detections(ref: np.ndarray, test: np.ndarray, score_thr: float,
                     box_tol: float = 0.5, score_tol: float = 1e-3) -> dict:
    """Compare two (N, 5) detection sets above a score threshold.

    Every box of one set scoring at least ``score_thr + score_tol`` must
    have a partner in the other set (scoring at least ``score_thr -
    score_tol``) within ``box_tol`` pixels in every coordinate and
    ``score_tol`` in score; boxes within ``score_tol`` of the threshold may
    be missing on one side (float noise decides on which side they fall).

    Returns:
        dict: ``ok``, ``num_ref`` and ``num_test`` (boxes with score >=
        ``score_thr``), ``max_box_diff``, ``max_score_diff`` over the
        matched pairs and ``unmatched`` (count of boxes without a partner).
    """
    out = dict(num_ref=int((ref[:, 4] >= score_thr).sum()),
               num_test=int((test[:, 4] >= score_thr).sum()),
               max_box_diff=0.0, max_score_diff=0.0, unmatched=0)
    unmatched = 0
    for a, b in ((ref, test), (test, ref)):
        sure = a[a[:, 4] >= score_thr + score_tol]
        cand = b[b[:, 4] >= score_thr - score_tol]
        if len(sure) == 0:
            continue
        if len(cand) == 0:
            unmatched += len(sure)
            continue
        box_d = np.abs(sure[:, None, :4] - cand[None, :, :4]).max(-1)
        score_d = np.abs(sure[:, None, 4] - cand[None, :, 4])
        cost = np.where((box_d <= box_tol) & (score_d <= score_tol),
                        box_d + score_d, np.inf)
        best = cost.argmin(1)
        found = np.isfinite(cost[np.arange(len(sure)), best])
        unmatched += int((~found).sum())
        if found.any():
            rows = np.flatnonzero(found)
            out['max_box_diff'] = max(out['max_box_diff'],
                                      float(box_d[rows, best[rows]].max()))
            out['max_score_diff'] = max(out['max_score_diff'],
                                        float(score_d[rows,
                                                      best[rows]].max()))
    out['unmatched'] = unmatched
    out['ok'] = unmatched == 0
    return out
