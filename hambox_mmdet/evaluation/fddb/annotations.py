# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDB ground truth: the official ``FDDB-folds`` files, and the image
sizes from the image headers.

The reader is :mod:`hambox_mmdet.datasets.annotations.fddb` (so that the
datasets need not import the evaluation); this module is the evaluation's
name for it.
"""
from ...datasets.annotations.fddb import (NUM_FOLDS, FDDBGroundTruth,
                                          check_folds, ellipse_bboxes,
                                          load_ground_truth, read_ellipse_list,
                                          read_fold_list, read_image_sizes)

__all__ = [
    'NUM_FOLDS', 'FDDBGroundTruth', 'check_folds', 'ellipse_bboxes',
    'load_ground_truth', 'read_ellipse_list', 'read_fold_list',
    'read_image_sizes'
]
