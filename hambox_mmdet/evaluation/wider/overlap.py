# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""``boxoverlap.m`` of the WIDER FACE ``eval_tools``, with MATLAB arithmetic.

Overlaps follow ``boxoverlap.m`` (``x2 = x + w``, +1 pixel on widths,
heights, areas and the intersection, overlap 0 where the intersection width
or height is <= 0). The official ground-truth ``face_bbx_list`` is stored as
MATLAB ``int32``, and MATLAB does arithmetic between an ``int32`` array and
a ``double`` in ``int32``: the prediction's corners are rounded to integers
(half away from zero), ``aarea + barea`` is rounded, and the final
``inter ./ union`` is an integer division rounded to the nearest integer, so
the official "IoU" is ``round(iou)`` in {0, 1, ...} and the best face is the
first face whose rounded overlap is maximal. ``int_arith=True`` replicates
this; ``False`` gives plain float64 overlaps (what the popular Python ports
compute).

A prediction of negative width or height goes through the same arithmetic,
as in the official tool: with ``w <= -1`` (or ``h <= -1``) its corners are
reversed by at least one pixel, the intersection width ``min(x2) - max(x1)
+ 1`` is <= 0 against every face (also after MATLAB's monotone rounding),
its overlap is 0 and it is a false positive. Only ``-1 < w < 0`` can
overlap a face, and then exactly as MATLAB computes it.
"""
from typing import Tuple

import numpy as np

_INT32_MIN = float(np.iinfo(np.int32).min)
_INT32_MAX = float(np.iinfo(np.int32).max)


def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round``: to nearest, halves away from zero (float64 out)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    r = np.floor(a)
    r += (a - r) >= 0.5  # ``a - floor(a)`` is exact in binary floating point
    return np.copysign(r, x)


def _to_int32(x: np.ndarray) -> np.ndarray:
    """A double converted to MATLAB ``int32``: rounded and saturated."""
    return np.clip(matlab_round(x), _INT32_MIN, _INT32_MAX)


def best_overlaps(gt_boxes: np.ndarray, pred_boxes: np.ndarray,
                  int_arith: bool) -> Tuple[np.ndarray, np.ndarray]:
    """Best face and its overlap for every prediction (``boxoverlap.m``).

    Args:
        gt_boxes (np.ndarray): shape (G, 4), ``x y w h`` float64, G > 0.
        pred_boxes (np.ndarray): shape (P, 4), ``x y w h`` float64, finite
            (a negative ``w`` or ``h`` is scored as officially, see the
            module docstring).
        int_arith (bool): replicate MATLAB's arithmetic for ``int32``
            ground truth (see the module docstring).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``best_idx`` (P,) int64, the first
        face of maximal overlap, and ``best_ov`` (P,) float64, its overlap.
    """
    if int_arith:
        gt_boxes = _to_int32(gt_boxes)  # a no-op for int32 ground truth
    gx1, gy1 = gt_boxes[:, 0], gt_boxes[:, 1]
    gx2 = gx1 + gt_boxes[:, 2]
    gy2 = gy1 + gt_boxes[:, 3]
    px1, py1 = pred_boxes[:, 0], pred_boxes[:, 1]
    px2 = px1 + pred_boxes[:, 2]
    py2 = py1 + pred_boxes[:, 3]
    # the gt area is computed from the corners, as in boxoverlap.m
    aarea = (gx2 - gx1 + 1) * (gy2 - gy1 + 1)  # (G,)
    barea = (px2 - px1 + 1) * (py2 - py1 + 1)  # (P,), always double
    if int_arith:
        # max(int32, double) and min(int32, double) return int32: the
        # prediction's corner is rounded (gt corners are integers already)
        px1, py1, px2, py2 = (_to_int32(v) for v in (px1, py1, px2, py2))
    x1 = np.maximum(px1[:, None], gx1[None, :])  # (P, G)
    y1 = np.maximum(py1[:, None], gy1[None, :])
    x2 = np.minimum(px2[:, None], gx2[None, :])
    y2 = np.minimum(py2[:, None], gy2[None, :])
    w = x2 - x1 + 1
    h = y2 - y1 + 1
    inter = w * h
    union = barea[:, None] + aarea[None, :]
    invalid = (w <= 0) | (h <= 0)
    # Only entries with w > 0 and h > 0 matter (the others are set to 0).
    # There 0 < w <= gt w + 1 and 0 < h <= gt h + 1, so 0 < inter <= aarea;
    # and w <= (pred x2 - pred x1) + 1, so a prediction size <= -1 makes
    # w <= 0 (also with rounded corners: round is monotone and
    # round(x - 1) <= round(x) - 1). So both prediction sizes are > -1,
    # barea > 0, and in float64 union = aarea + barea - inter >= barea > 0.
    if int_arith:
        # int32 + double -> int32. On the entries that matter the value is
        # > 0, where floor(x + 0.5) is exactly MATLAB's round; saturation
        # as int32 conversion does
        union = np.minimum(np.floor(union + 0.5), _INT32_MAX)
    union -= inter
    # In int32, union >= 0, and union == 0 only for a prediction of
    # negative size (barea < 0.5) covering a face: inter / 0 is +inf here
    # and intmax in MATLAB, both above any other overlap of the image (a
    # finite rounded overlap reaching intmax needs a 2^31-pixel face), so
    # the best face and the match are the same.
    with np.errstate(divide='ignore', invalid='ignore'):
        ov = inter / union
        if int_arith:
            # int32 ./ int32 rounds the quotient to the nearest integer. A
            # quotient p / q of int32 values >= 0 is either a half-integer
            # or at least 2^-32 away from one, so floor(x + 0.5) is exact
            ov = np.floor(ov + 0.5)
    ov[invalid] = 0.0
    best_idx = ov.argmax(axis=1)
    best_ov = np.take_along_axis(ov, best_idx[:, None], axis=1)[:, 0]
    return best_idx, best_ov
