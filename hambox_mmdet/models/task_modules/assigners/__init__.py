# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .hambox_assigner import HAMBoxAssigner
from .level_atss_assigner import LevelATSSAssigner

__all__ = ['HAMBoxAssigner', 'LevelATSSAssigner']
