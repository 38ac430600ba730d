# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face precision-recall curve and AP: the toolkit's
``drawPrfast`` curve over all detections in score order and its ``VOCap``
(VOC all-point AP, precision made monotone)."""
from typing import Tuple

import numpy as np


def voc_ap_from_detections(
        tp: np.ndarray, fp: np.ndarray,
        num_pos: int) -> Tuple[float, np.ndarray, np.ndarray]:
    """VOC all-point AP (the toolkit's ``VOCap`` on ``drawPrfast``'s curve).

    Args:
        tp (np.ndarray): (D, ) bool or 0/1, true positives in score order.
        fp (np.ndarray): (D, ) bool or 0/1, false positives.
        num_pos (int): faces counted (> 0).

    Returns:
        tuple[float, np.ndarray, np.ndarray]: ``(ap, recall (D, ),
        precision (D, ))``.
    """
    ctp = np.cumsum(tp, dtype=np.float64)
    cfp = np.cumsum(fp, dtype=np.float64)
    recall = ctp / num_pos
    with np.errstate(divide='ignore', invalid='ignore'):
        precision = ctp / (cfp + ctp)
    mrec = np.concatenate([[0.], recall, [1.]])
    mpre = np.concatenate([[0.], precision, [0.]])
    # precision made monotone from the right (NaNs only precede the first
    # decision, where the recall does not change, so they never count)
    mpre[1:] = np.fmax.accumulate(mpre[:0:-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    ap = float(np.sum((mrec[steps] - mrec[steps - 1]) * mpre[steps]))
    return ap, recall, precision
