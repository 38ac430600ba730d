# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Deployment: a torch-free face detector on onnxruntime.

``from hambox_mmdet.deployment import ONNXFaceDetector`` imports only
numpy, OpenCV and (when a detector is created) onnxruntime: importing this
subpackage first does not load torch, mmcv or mmdet (see
``hambox_mmdet/_import_mode.py``). Export a model with
``tools/deployment/export_onnx.py``.
"""
from .onnx_detector import (METADATA_FORMAT, METADATA_KEY, ONNXFaceDetector,
                            read_metadata)
from .postprocess import match_detections

__all__ = [
    'ONNXFaceDetector', 'METADATA_KEY', 'METADATA_FORMAT', 'read_metadata',
    'match_detections'
]
