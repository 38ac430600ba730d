# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The official FDDB evaluation (Jain and Learned-Miller, 2010), vectorised.

Reproduces the UMass ``evaluate`` program (discrete and continuous ROC over
all folds) with numpy, scipy and OpenCV's drawing routines. It has the
layout and the names of the other benchmarks
(:mod:`hambox_mmdet.evaluation.wider`,
:mod:`hambox_mmdet.evaluation.face_eval`):

- :mod:`.annotations`: the ``FDDB-folds`` files (:func:`load_ground_truth`
  -> :class:`FDDBGroundTruth`) and image sizes from the image headers (the
  readers live in :mod:`hambox_mmdet.datasets.annotations.fddb`);
- :mod:`.predictions`: detection files in the official layout
  (:func:`read_predictions`, :func:`write_predictions`);
- :mod:`.evaluate`: the score sweep (:func:`evaluate`);
- :mod:`.results`: :class:`FDDBResult` (the two ROC curves, their TPRs,
  table, JSON and the official ``DiscROC.txt`` / ``ContROC.txt``);
- :mod:`.plot`: the two ROC curves as a PNG (:func:`plot_curves`);
- FDDB's own: :mod:`.matching` (mask overlaps, the matching: the official
  program's solver, :mod:`.hungarian`, by default; or maximum-weight).
"""
from .._deprecation import deprecated_names
from .annotations import (FDDBGroundTruth, ellipse_bboxes, load_ground_truth,
                          read_ellipse_list, read_fold_list, read_image_sizes)
from .evaluate import evaluate
from .hungarian import OfficialSolverError, official_assignment
from .matching import MATCHING_MODES, pair_overlaps
from .plot import plot_curves
from .predictions import (read_prediction_file, read_predictions,
                          write_predictions)
from .results import FDDBResult

__all__ = [
    # the names every benchmark has
    'load_ground_truth', 'read_predictions', 'write_predictions', 'evaluate',
    'plot_curves', 'FDDBGroundTruth', 'FDDBResult',
    # FDDB's own
    'ellipse_bboxes', 'read_ellipse_list', 'read_fold_list',
    'read_image_sizes', 'read_prediction_file', 'pair_overlaps',
    'MATCHING_MODES', 'official_assignment', 'OfficialSolverError'
]

#: Names before #20, importable with a DeprecationWarning for one release.
_RENAMED = dict(
    load_fddb_folds='load_ground_truth',
    read_detections='read_predictions',
    read_detection_file='read_prediction_file',
    write_detections='write_predictions',
    evaluate_fddb='evaluate',
    plot_roc_curves='plot_curves')
__getattr__ = deprecated_names(__name__, _RENAMED, globals())
