# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .data_anchor_sampling import DataAnchorSampling
from .loading import LoadWIDERFaceAnnotations
from .random_square_crop import RandomSquareCrop

__all__ = [
    'LoadWIDERFaceAnnotations', 'RandomSquareCrop', 'DataAnchorSampling'
]
