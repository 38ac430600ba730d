# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Face detection benchmarks: the numpy evaluations and the mmengine
metrics.

One subpackage per benchmark, all with the same modules and names
(``annotations``, ``predictions``, ``evaluate``, ``results``, ``plot``;
``load_ground_truth``, ``read_predictions``, ``write_predictions``,
``evaluate``, ``plot_curves``):

- :mod:`.wider`: WIDER FACE Easy / Medium / Hard AP (the official MATLAB
  tool);
- :mod:`.fddb`: FDDB discrete / continuous ROC (the official program);
- :mod:`.face_eval`: AFW and PASCAL Face AP (the Mathias et al. toolkit);

and their metrics in :mod:`.metrics`. Use them through the subpackage::

    from hambox_mmdet.evaluation import wider
    gt = wider.load_ground_truth('eval_tools/ground_truth')
    preds, missing = wider.read_predictions('preds', gt.image_keys)
    result = wider.evaluate(preds, gt)

Importing this package registers ``WIDERFaceMetric``, ``FDDBMetric`` and
``FaceEvalMetric`` in mmdet's ``METRICS``.
"""
from . import face_eval, fddb, wider
from ._deprecation import deprecated_names
from .face_eval import FaceEvalGT, FaceEvalResult
from .fddb import FDDBGroundTruth, FDDBResult
from .metrics import FaceEvalMetric, FDDBMetric, WIDERFaceMetric
from .wider import WiderEvalResult, WiderFaceGT

__all__ = [
    'wider', 'fddb', 'face_eval', 'WiderFaceGT', 'WiderEvalResult',
    'WIDERFaceMetric', 'FDDBGroundTruth', 'FDDBResult', 'FDDBMetric',
    'FaceEvalGT', 'FaceEvalResult', 'FaceEvalMetric'
]

#: Names before #20, importable with a DeprecationWarning for one release:
#: the functions are now reached through their benchmark's subpackage.
_RENAMED = dict(
    evaluate_wider='wider.evaluate',
    load_wider_gt='wider.load_ground_truth',
    plot_pr_curves='wider.plot_curves',
    read_pred_dir='wider.read_predictions',
    write_pred_dir='wider.write_predictions',
    evaluate_fddb='fddb.evaluate',
    load_fddb_folds='fddb.load_ground_truth',
    evaluate_face_eval='face_eval.evaluate',
    load_face_eval_gt='face_eval.load_ground_truth',
    read_face_eval_dets='face_eval.read_predictions')
__getattr__ = deprecated_names(__name__, _RENAMED, globals())
