# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Reference WIDER FACE evaluation: a plain transliteration of the MATLAB.

One Python loop per prediction (``image_evaluation``), one per threshold
(``image_pr_info``), one per point of the curve (``dataset_pr_info``,
``VOCap``), exactly in the order of the official ``evaluation.m``,
``norm_score.m``, ``boxoverlap.m`` and ``VOCap.m``. MATLAB semantics that
matter are emulated explicitly, independently of the vectorised code in
:mod:`hambox_mmdet.evaluation.wider`:

- ``max`` ignores NaN; ``[m, i] = max(v)`` returns the first maximum;
- ``x / 0`` gives NaN (0 / 0) or +-Inf;
- arithmetic between ``int32`` ground truth and ``double`` predictions is
  done in ``int32`` (round half away from zero, saturate), and
  ``int32 ./ int32`` rounds the quotient.

It is slow on purpose (it is the baseline of ``bench_wider_eval.py``) and is
used by the tests as the oracle of ``wider.evaluate``.
"""
import math
from typing import Dict, Mapping, Optional

import numpy as np

INT32_MIN = int(np.iinfo(np.int32).min)
INT32_MAX = int(np.iinfo(np.int32).max)


# ---------------------------------------------------------------- MATLAB ops
def m_round(x: np.ndarray) -> np.ndarray:
    """MATLAB round: half away from zero (np.round is half to even)."""
    x = np.asarray(x, dtype=np.float64)
    r = np.round(x)
    t = np.trunc(x)
    half = np.abs(x - t) == 0.5
    return np.where(half, t + np.sign(x), r)


def m_int32(x: np.ndarray) -> np.ndarray:
    """Conversion of a double to int32 (round, saturate); int64 holder."""
    with np.errstate(invalid='ignore'):
        r = m_round(x)
    r = np.where(np.isnan(r), 0.0, r)  # int32(NaN) is 0 in MATLAB
    return np.clip(r, INT32_MIN, INT32_MAX).astype(np.int64)


def sat(x: np.ndarray) -> np.ndarray:
    """Saturate an int64 holder to the int32 range."""
    return np.clip(x, INT32_MIN, INT32_MAX)


def m_idivide_round(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``int32 ./ int32``: the quotient rounded; x / 0 saturates."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    with np.errstate(divide='ignore', invalid='ignore'):
        q = m_round(a.astype(np.float64) / b.astype(np.float64))
    by_zero = np.where(a > 0, INT32_MAX, np.where(a < 0, INT32_MIN, 0))
    return sat(np.where(b == 0, by_zero, np.nan_to_num(q)).astype(np.int64))


def m_div(a: float, b: float) -> float:
    """Double division with MATLAB's x / 0."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return float('nan')
        return math.copysign(float('inf'), a) * math.copysign(1.0, b)
    return a / b


def m_max(a: float, b: float) -> float:
    """MATLAB max of two scalars: NaN is ignored."""
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return a if a >= b else b


def m_min(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return a if a <= b else b


def m_argmax(v: np.ndarray):
    """``[m, i] = max(v)``: first maximum, NaN ignored (0-based index)."""
    nan = np.isnan(v)
    if nan.all():
        return float('nan'), 0
    idx = int(np.argmax(np.where(nan, -np.inf, v)))  # first maximum
    return float(v[idx]), idx


# --------------------------------------------------------------- boxoverlap
def boxoverlap_double(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``boxoverlap.m`` with double a (G, 4 x1 y1 x2 y2) and b (4,)."""
    x1 = np.maximum(a[:, 0], b[0])
    y1 = np.maximum(a[:, 1], b[1])
    x2 = np.minimum(a[:, 2], b[2])
    y2 = np.minimum(a[:, 3], b[3])
    w = x2 - x1 + 1
    h = y2 - y1 + 1
    inter = w * h
    aarea = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    barea = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    with np.errstate(divide='ignore', invalid='ignore'):
        o = inter / (aarea + barea - inter)
    o[w <= 0] = 0
    o[h <= 0] = 0
    return o


def boxoverlap_int32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``boxoverlap.m`` with int32 a (int64 holder) and double b: every
    mixed operation returns int32, as in MATLAB."""
    x1 = np.maximum(a[:, 0], m_int32(b[0]))
    y1 = np.maximum(a[:, 1], m_int32(b[1]))
    x2 = np.minimum(a[:, 2], m_int32(b[2]))
    y2 = np.minimum(a[:, 3], m_int32(b[3]))
    w = sat(sat(x2 - x1) + 1)
    h = sat(sat(y2 - y1) + 1)
    inter = sat(w * h)
    aw = sat(sat(a[:, 2] - a[:, 0]) + 1)
    ah = sat(sat(a[:, 3] - a[:, 1]) + 1)
    aarea = sat(aw * ah)
    barea = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)  # double
    union = sat(m_int32(aarea.astype(np.float64) + barea) - inter)
    o = m_idivide_round(inter, union)
    o[w <= 0] = 0
    o[h <= 0] = 0
    return o


# --------------------------------------------------------------- evaluation.m
def image_evaluation(pred_info: np.ndarray, gt_bbx: np.ndarray,
                     ignore: np.ndarray, iou_thresh: float, int_gt: bool):
    """``image_evaluation``: loop over the (sorted) predictions."""
    n_pred = pred_info.shape[0]
    pred_recall = np.zeros(n_pred)
    recall_list = np.zeros(gt_bbx.shape[0])
    proposal_list = np.ones(n_pred)
    pred_info = pred_info.copy()
    pred_info[:, 2] = pred_info[:, 0] + pred_info[:, 2]
    pred_info[:, 3] = pred_info[:, 1] + pred_info[:, 3]
    if int_gt:
        gt = m_int32(gt_bbx)  # the class of the .mat boxes
        gt[:, 2] = sat(gt[:, 0] + gt[:, 2])
        gt[:, 3] = sat(gt[:, 1] + gt[:, 3])
    else:
        gt = gt_bbx.astype(np.float64)
        gt[:, 2] = gt[:, 0] + gt[:, 2]
        gt[:, 3] = gt[:, 1] + gt[:, 3]
    for h in range(n_pred):
        if int_gt:
            overlap_list = boxoverlap_int32(gt, pred_info[h, :4])
        else:
            overlap_list = boxoverlap_double(gt, pred_info[h, :4])
        max_overlap, idx = m_argmax(overlap_list.astype(np.float64))
        if max_overlap >= iou_thresh:
            if ignore[idx] == 0:
                recall_list[idx] = -1
                proposal_list[h] = -1
            elif recall_list[idx] == 0:
                recall_list[idx] = 1
        pred_recall[h] = np.count_nonzero(recall_list == 1)
    return pred_recall, proposal_list


def image_pr_info(thresh_num: int, pred_info: np.ndarray,
                  proposal_list: np.ndarray,
                  pred_recall: np.ndarray) -> np.ndarray:
    """``image_pr_info``: loop over the thresholds."""
    img_pr_info = np.zeros((thresh_num, 2))
    scores = pred_info[:, 4]
    for t in range(1, thresh_num + 1):
        thresh = 1 - t / thresh_num
        found = np.flatnonzero(scores >= thresh)
        if found.size == 0:
            img_pr_info[t - 1, 1] = 0
            img_pr_info[t - 1, 0] = 0
        else:
            r_index = int(found[-1])
            img_pr_info[t - 1, 0] = np.count_nonzero(
                proposal_list[:r_index + 1] == 1)
            img_pr_info[t - 1, 1] = pred_recall[r_index]
    return img_pr_info


def dataset_pr_info(thresh_num: int, org_pr_curve: np.ndarray,
                    count_face: int) -> np.ndarray:
    pr_curve = np.zeros((thresh_num, 2))
    for i in range(thresh_num):
        pr_curve[i, 0] = m_div(org_pr_curve[i, 1], org_pr_curve[i, 0])
        pr_curve[i, 1] = m_div(org_pr_curve[i, 1], float(count_face))
    return pr_curve


def vocap(rec: np.ndarray, prec: np.ndarray) -> float:
    """``VOCap.m``."""
    mrec = [0.0] + [float(x) for x in rec] + [1.0]
    mpre = [0.0] + [float(x) for x in prec] + [0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = m_max(mpre[i], mpre[i + 1])
    ap = 0.0
    for i in range(1, len(mrec)):
        if mrec[i] != mrec[i - 1]:  # NaN != NaN is true, as in MATLAB
            ap += (mrec[i] - mrec[i - 1]) * mpre[i]
    return ap


def norm_score(pred_list: list) -> list:
    """``norm_score.m``: note the initial max_score = 0, min_score = 1."""
    max_score = 0.0
    min_score = 1.0
    for p in pred_list:
        if p is None or p.shape[0] == 0:
            continue
        for s in p[:, 4].tolist():
            max_score = m_max(max_score, s)
            min_score = m_min(min_score, s)
    out = []
    for p in pred_list:
        if p is None or p.shape[0] == 0:
            out.append(p)
            continue
        q = p.copy()
        q[:, 4] = [m_div(s - min_score, max_score - min_score)
                   for s in p[:, 4].tolist()]
        out.append(q)
    return out


def reference_evaluate(preds: Mapping[str, np.ndarray],
                       gt,
                       iou_thr: float = 0.5,
                       thresh_num: int = 1000,
                       only_present_images: bool = False,
                       iou_arith: str = 'auto',
                       settings: Optional[tuple] = None) -> Dict[str, dict]:
    """Evaluate like the MATLAB code, loop by loop.

    Args:
        preds: image key -> (P, 5) ``x y w h score``; keys must be in gt.
        gt: a :class:`WiderFaceGT` (only ``image_keys``, ``boxes``,
            ``gt_lists`` and ``int_boxes`` are used).
        iou_thr, thresh_num, only_present_images, iou_arith: as in
            ``wider.evaluate``.

    Returns:
        dict: setting -> dict(ap, precision, recall, proposals, recalled,
        count_face); precision keeps MATLAB's NaN at 0 / 0.
    """
    known = set(gt.image_keys)
    for k in preds:
        if k not in known:
            raise ValueError(f'unknown image {k}')
    # read_pred.m: sort each image by score, descending (stable)
    pred_list = []
    for k in gt.image_keys:
        p = preds.get(k)
        if p is None:
            pred_list.append(None)
            continue
        p = np.asarray(p, dtype=np.float64).reshape(-1, 5)
        order = sorted(range(p.shape[0]), key=lambda h: -p[h, 4])
        pred_list.append(p[order])
    norm_pred_list = norm_score(pred_list)
    results = {}
    for setting in settings or gt.settings:
        org_pr_curve = np.zeros((thresh_num, 2))
        count_face = 0
        for i, key in enumerate(gt.image_keys):
            gt_bbx = gt.boxes[i]
            pred_info = norm_pred_list[i]
            keep_index = gt.gt_lists[setting][i]
            if only_present_images and key not in preds:
                continue
            count_face += len(keep_index)
            if gt_bbx.shape[0] == 0 or pred_info is None or \
                    pred_info.shape[0] == 0:
                continue
            ignore = np.zeros(gt_bbx.shape[0])
            if len(keep_index):
                ignore[np.asarray(keep_index, dtype=np.int64) - 1] = 1
            int_gt = {'auto': bool(gt.int_boxes[i]), 'int32': True,
                      'float': False}[iou_arith]
            pred_recall, proposal_list = image_evaluation(
                pred_info, gt_bbx, ignore, iou_thr, int_gt)
            img_pr_info = image_pr_info(thresh_num, pred_info, proposal_list,
                                        pred_recall)
            org_pr_curve[:, 0] += img_pr_info[:, 0]
            org_pr_curve[:, 1] += img_pr_info[:, 1]
        pr_curve = dataset_pr_info(thresh_num, org_pr_curve, count_face)
        results[setting] = dict(
            ap=vocap(pr_curve[:, 1], pr_curve[:, 0]),
            precision=pr_curve[:, 0],
            recall=pr_curve[:, 1],
            proposals=org_pr_curve[:, 0],
            recalled=org_pr_curve[:, 1],
            count_face=count_face)
    return results
