# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Deployment: a torch-free face detector on onnxruntime.

``from hambox_mmdet.deployment import ONNXFaceDetector`` imports only
numpy, OpenCV and (when a detector is created) onnxruntime: no module of
this subpackage, nor the package's ``__init__``, imports torch, mmcv or
mmdet (``tests/test_deployment/test_torch_free.py`` checks it in a fresh
interpreter), and importing it registers nothing. Export a model with
``tools/deployment/export_onnx.py``.
"""
from .onnx_detector import (METADATA_FORMAT, METADATA_KEY, ONNXFaceDetector,
                            read_metadata)
from .postprocess import match_detections

__all__ = [
    'ONNXFaceDetector', 'METADATA_KEY', 'METADATA_FORMAT', 'read_metadata',
    'match_detections'
]
