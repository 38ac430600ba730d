# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE data: the dataset reading the official text files, face
training transforms and a generated tiny face set.

Importing this package registers ``WIDERFaceTxtDataset`` in mmdet's
``DATASETS`` and ``LoadWIDERFaceAnnotations``, ``RandomSquareCrop``,
``DataAnchorSampling`` in mmdet's ``TRANSFORMS``.
"""
from .transforms import (DataAnchorSampling, LoadWIDERFaceAnnotations,
                         RandomSquareCrop)
from .wider_face_parser import (WIDER_ATTR_NAMES, WIDERFaceAnnotations,
                                parse_wider_bbx_gt, parse_wider_filelist)
from .wider_face_txt import WIDERFaceTxtDataset


def __getattr__(name: str):
    # The generator is imported lazily, so that
    # ``python -m hambox_mmdet.datasets.synthetic_widerface`` runs cleanly.
    if name in ('make_synthetic_widerface', 'ensure_synthetic_widerface'):
        from . import synthetic_widerface
        return getattr(synthetic_widerface, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'WIDERFaceTxtDataset', 'WIDERFaceAnnotations', 'WIDER_ATTR_NAMES',
    'parse_wider_bbx_gt', 'parse_wider_filelist', 'LoadWIDERFaceAnnotations',
    'RandomSquareCrop', 'DataAnchorSampling', 'make_synthetic_widerface',
    'ensure_synthetic_widerface'
]
