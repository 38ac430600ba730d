# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The official FDDB evaluation (Jain and Learned-Miller, 2010), vectorised.

Reproduces the UMass ``evaluate`` program (discrete and continuous ROC over
all folds) with numpy, scipy and OpenCV's drawing routines, split by job:

- :mod:`.annotations`: the ``FDDB-folds`` files (:func:`load_fddb_folds`,
  :class:`FDDBGroundTruth`) and image sizes from the image headers;
- :mod:`.matching`: mask overlaps, the matching (the official program's
  solver, :mod:`.hungarian`, by default; or maximum-weight), the score
  sweep (:func:`evaluate_fddb`), with its result in :mod:`.results`;
- :mod:`.io`: detection files in the official layout;
- :mod:`.plot`: the two ROC curves as a PNG.
"""
from .annotations import (FDDBGroundTruth, ellipse_bboxes, load_fddb_folds,
                          read_ellipse_list, read_fold_list, read_image_sizes)
from .hungarian import OfficialSolverError, official_assignment
from .evaluate import evaluate_fddb
from .matching import MATCHING_MODES, pair_overlaps
from .plot import plot_roc_curves
from .predictions import (read_detection_file, read_detections,
                          write_detections)
from .results import FDDBResult

__all__ = [
    'FDDBGroundTruth', 'ellipse_bboxes', 'load_fddb_folds',
    'read_ellipse_list', 'read_fold_list', 'read_image_sizes',
    'read_detection_file', 'read_detections', 'write_detections',
    'evaluate_fddb', 'pair_overlaps', 'plot_roc_curves', 'FDDBResult',
    'MATCHING_MODES', 'official_assignment', 'OfficialSolverError'
]
