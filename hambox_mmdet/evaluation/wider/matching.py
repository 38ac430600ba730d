# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Precision-recall thresholds and the AP of the official WIDER FACE tool
(``evaluation.m``'s thresholds and ``VOCap.m``).

The evaluation itself, with the matching, is :func:`.evaluate.evaluate`.
"""
import numpy as np


def voc_ap_from_curve(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOC AP of ``VOCap.m``.

    Prepends (recall 0, precision 0), appends (1, 0), makes precision
    monotone from the right with MATLAB's ``max`` (NaN ignored, ``np.fmax``)
    and sums ``delta recall x precision`` over the points where recall
    changes.

    Args:
        recall (np.ndarray): shape (T,).
        precision (np.ndarray): shape (T,).

    Returns:
        float: the AP.
    """
    # Not mmdet's ``average_precision(mode='area')``: it computes the same
    # float64 sum but returns it as float32 (up to ~3e-8 off, where this
    # evaluator is held to 1e-12 of the MATLAB transliteration), and its
    # ``np.maximum`` would spread a NaN precision that MATLAB's ``max``
    # ignores. The test suite checks that it equals float32(voc_ap_from_curve).
    mrec = np.concatenate(([0.0], np.asarray(recall, np.float64), [1.0]))
    mpre = np.concatenate(([0.0], np.asarray(precision, np.float64), [0.0]))
    mpre = np.fmax.accumulate(mpre[::-1])[::-1]
    i = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[i] - mrec[i - 1]) * mpre[i]))


def wider_thresholds(thresh_num: int = 1000) -> np.ndarray:
    """``thr_t = 1 - t / thresh_num`` for t = 1..thresh_num, float64 (T,)."""
    t = np.arange(1, thresh_num + 1, dtype=np.float64)
    return 1 - t / thresh_num
