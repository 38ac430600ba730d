# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE data: the dataset reading the official text files and face
training transforms (the generated tiny face set is written by
``tools/misc/make_tiny_widerface.py``).

Importing this package registers ``WIDERFaceTxtDataset`` in mmdet's
``DATASETS`` and ``LoadWIDERFaceAnnotations``, ``RandomSquareCrop``,
``DataAnchorSampling`` in mmdet's ``TRANSFORMS``.
"""
from .face_eval import FaceEvalDataset
from .fddb import FDDBDataset
from .transforms import (DataAnchorSampling, LoadWIDERFaceAnnotations,
                         RandomSquareCrop)
from .wider_face_parser import (WIDER_ATTR_NAMES, WIDERFaceAnnotations,
                                parse_wider_bbx_gt, parse_wider_filelist)
from .wider_face_txt import WIDERFaceTxtDataset

__all__ = [
    'WIDERFaceTxtDataset', 'WIDERFaceAnnotations', 'WIDER_ATTR_NAMES',
    'parse_wider_bbx_gt', 'parse_wider_filelist', 'LoadWIDERFaceAnnotations',
    'RandomSquareCrop', 'DataAnchorSampling', 'FDDBDataset',
    'FaceEvalDataset'
]
