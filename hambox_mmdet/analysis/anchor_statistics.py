# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBox Fig. 1: how many anchors standard IoU matching gives each face.

For a range of anchor scales ``s`` (anchor side ``s x 4 x stride``), the
mean number of anchors matched per face and the share of faces matched at
all, with the anchors of :class:`~hambox_mmdet.models.FaceAnchorGenerator`
(the anchors the detector trains with) and the matching rule of
:mod:`hambox_mmdet.analysis.matching`.
"""
from typing import Dict, Sequence

import numpy as np

from ..models import FaceAnchorGenerator
from .matching import match_counts


def anchor_scale_statistics(faces: np.ndarray,
                            image_ids: np.ndarray,
                            scales: Sequence[float],
                            iou_thr: float = 0.35,
                            **generator_kwargs) -> Dict[str, np.ndarray]:
    """Matching statistics for a range of anchor scales.

    Args:
        faces (np.ndarray): Shape (F, 4), x1 y1 x2 y2 of all faces of all
            images.
        image_ids (np.ndarray): Shape (F, ), the image of each face.
        scales (Sequence[float]): Anchor scales ``s`` to evaluate.
        iou_thr (float): Matching threshold. Defaults to 0.35.
        **generator_kwargs: Further :class:`FaceAnchorGenerator` arguments
            (``strides``, ``ratios``, ``center_offset``, ...).

    Returns:
        dict: ``scale`` (S, ); ``mean_matched`` (S, ): anchors matched per
        face, on average; ``share_matched`` (S, ): the share of faces with
        at least one; ``counts`` (S, F), int64: the per-face counts. The
        mean and share are NaN where there is no face.
    """
    faces = np.asarray(faces, dtype=np.float64).reshape(-1, 4)
    counts = np.zeros((len(scales), len(faces)), dtype=np.int64)
    for row, scale in enumerate(scales):
        generator = FaceAnchorGenerator(
            anchor_scale=scale, **generator_kwargs)
        counts[row] = match_counts(generator, faces, image_ids, iou_thr)
    num_faces = len(faces) if len(faces) else np.nan
    return dict(
        scale=np.asarray(scales, dtype=np.float64),
        mean_matched=counts.sum(axis=1) / num_faces,
        share_matched=(counts > 0).sum(axis=1) / num_faces,
        counts=counts)
