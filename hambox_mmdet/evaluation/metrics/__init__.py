# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .base_face_metric import BaseFaceMetric
from .face_eval_metric import FaceEvalMetric
from .fddb_metric import FDDBMetric, fddb_image_key
from .wider_face_metric import WIDERFaceMetric, wider_image_key

__all__ = [
    'BaseFaceMetric', 'WIDERFaceMetric', 'wider_image_key', 'FDDBMetric',
    'fddb_image_key', 'FaceEvalMetric'
]
