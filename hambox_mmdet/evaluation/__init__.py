# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE evaluation: the numpy core and the mmengine metric.

Importing this package registers ``WIDERFaceMetric`` in mmdet's ``METRICS``.
"""
from .functional import (WiderEvalResult, WiderFaceGT, evaluate_wider,
                         load_wider_gt, plot_pr_curves, read_pred_dir,
                         write_pred_dir)
from .metrics import WIDERFaceMetric

__all__ = [
    'WiderEvalResult', 'WiderFaceGT', 'evaluate_wider', 'load_wider_gt',
    'plot_pr_curves', 'read_pred_dir', 'write_pred_dir', 'WIDERFaceMetric'
]
