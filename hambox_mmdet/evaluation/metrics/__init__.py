# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .wider_face_metric import WIDERFaceMetric, wider_image_key

__all__ = ['WIDERFaceMetric', 'wider_image_key']
