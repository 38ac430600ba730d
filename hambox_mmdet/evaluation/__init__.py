# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE evaluation: the numpy core and the mmengine metric.

Importing this package registers ``WIDERFaceMetric`` in mmdet's ``METRICS``.
"""
from .wider import (WiderEvalResult, WiderFaceGT, evaluate_wider,
                    load_wider_gt, plot_pr_curves, read_pred_dir,
                    write_pred_dir)
from .fddb import FDDBResult, evaluate_fddb, load_fddb_folds
from .face_eval import (FaceEvalGT, FaceEvalResult, evaluate_face_eval,
                        load_face_eval_gt, read_face_eval_dets)
from .metrics import FaceEvalMetric, FDDBMetric, WIDERFaceMetric

__all__ = [
    'WiderEvalResult', 'WiderFaceGT', 'evaluate_wider', 'load_wider_gt',
    'plot_pr_curves', 'read_pred_dir', 'write_pred_dir', 'WIDERFaceMetric',
    'FDDBResult', 'evaluate_fddb', 'load_fddb_folds', 'FDDBMetric',
    'FaceEvalGT', 'FaceEvalResult', 'evaluate_face_eval',
    'load_face_eval_gt', 'read_face_eval_dets', 'FaceEvalMetric'
]
