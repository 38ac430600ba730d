# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .dense_heads import HAMBoxHead
from .losses import RegressionAwareFocalLoss
from .task_modules import (FaceAnchorGenerator, HAMBoxAssigner,
                           LevelATSSAssigner)

__all__ = [
    'HAMBoxHead', 'RegressionAwareFocalLoss', 'FaceAnchorGenerator',
    'HAMBoxAssigner', 'LevelATSSAssigner'
]
