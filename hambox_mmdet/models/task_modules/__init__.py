# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .assigners import HAMBoxAssigner, LevelATSSAssigner
from .prior_generators import FaceAnchorGenerator

__all__ = ['HAMBoxAssigner', 'LevelATSSAssigner', 'FaceAnchorGenerator']
