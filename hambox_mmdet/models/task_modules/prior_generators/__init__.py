# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .face_anchor_generator import FaceAnchorGenerator

__all__ = ['FaceAnchorGenerator']
