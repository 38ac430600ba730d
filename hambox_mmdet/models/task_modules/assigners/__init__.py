# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .hambox_assigner import HAMBoxAssigner

__all__ = ['HAMBoxAssigner']
