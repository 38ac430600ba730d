# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE evaluation ground truth: the official ``.mat`` files.

The reader is :mod:`hambox_mmdet.datasets.annotations.wider` (so that the
datasets need not import the evaluation); this module is the evaluation's
name for it.
"""
from ...datasets.annotations.wider import (GT_FILES, SETTINGS, WiderFaceGT,
                                           load_ground_truth, per_image_array)

__all__ = [
    'GT_FILES', 'SETTINGS', 'WiderFaceGT', 'load_ground_truth',
    'per_image_array'
]
