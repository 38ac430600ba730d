# Copyright (c) hambox_mmdet contributors. All rights reserved.
from ..utils.checkpoint import register_mmengine_safe_globals
from .dense_heads import HAMBoxHead
from .losses import RegressionAwareFocalLoss
from .task_modules import (FaceAnchorGenerator, HAMBoxAssigner,
                           LevelATSSAssigner)

# torch >= 2.6 loads mmengine checkpoints (mim test --checkpoint, resume)
# when a config's custom_imports is the only registration; idempotent, see
# hambox_mmdet/utils/checkpoint.py.
register_mmengine_safe_globals()

__all__ = [
    'HAMBoxHead', 'RegressionAwareFocalLoss', 'FaceAnchorGenerator',
    'HAMBoxAssigner', 'LevelATSSAssigner'
]
