# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face ground truth: the ``.mat`` files of the Mathias et al.
(ECCV 2014) toolkit, the 30 px ignore rule and the toolkit's image keys.

The reader is :mod:`hambox_mmdet.datasets.annotations.face_eval` (so that
the datasets need not import the evaluation); this module is the
evaluation's name for it.
"""
from ...datasets.annotations.face_eval import (MIN_FACE_SIZE, FaceEvalGT,
                                               ignore_by_size, image_indices,
                                               image_key, load_ground_truth,
                                               write_ground_truth)

__all__ = [
    'MIN_FACE_SIZE', 'FaceEvalGT', 'ignore_by_size', 'image_indices',
    'image_key', 'load_ground_truth', 'write_ground_truth'
]
