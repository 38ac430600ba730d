# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .wider_eval import (SETTINGS, WiderEvalResult, WiderFaceGT,
                         WiderSettingResult, best_overlaps, evaluate_wider,
                         load_wider_gt, matlab_round, plot_pr_curves,
                         read_pred_dir, voc_ap, wider_thresholds,
                         write_pred_dir)

__all__ = [
    'SETTINGS', 'WiderEvalResult', 'WiderFaceGT', 'WiderSettingResult',
    'best_overlaps', 'evaluate_wider', 'load_wider_gt', 'matlab_round',
    'plot_pr_curves', 'read_pred_dir', 'voc_ap', 'wider_thresholds',
    'write_pred_dir'
]
