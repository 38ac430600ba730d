# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""What every face metric takes from mmdet's data samples."""
from typing import Any, Tuple

import numpy as np


def sample_dict(data_sample: Any) -> dict:
    """A data sample as a dict (``DetDataSample`` or already a dict)."""
    if hasattr(data_sample, 'to_dict'):
        return data_sample.to_dict()
    return data_sample


def predicted_boxes(data_sample: dict) -> Tuple[np.ndarray, np.ndarray]:
    """The predicted boxes and scores of one sample, as float64 arrays.

    Args:
        data_sample (dict): With ``pred_instances`` holding ``bboxes``
            (P, 4) ``x1 y1 x2 y2`` and ``scores`` (P, ), tensors or arrays.

    Returns:
        tuple[np.ndarray, np.ndarray]: boxes (P, 4) ``x1 y1 x2 y2`` and
        scores (P, ).
    """
    pred = data_sample['pred_instances']
    boxes, scores = (np.asarray(
        x.detach().cpu().numpy() if hasattr(x, 'detach') else x,
        dtype=np.float64) for x in (pred['bboxes'], pred['scores']))
    return boxes.reshape(-1, 4), scores.reshape(-1)


def xywh_score(boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``x1 y1 x2 y2`` boxes (P, 4) and scores (P, ) -> (P, 5)
    ``left top width height score``, the layout of the WIDER FACE and FDDB
    detection files."""
    out = np.empty((len(boxes), 5), dtype=np.float64)
    out[:, :2] = boxes[:, :2]
    out[:, 2:4] = boxes[:, 2:4] - boxes[:, :2]
    out[:, 4] = scores
    return out
