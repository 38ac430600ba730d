# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .hambox_head import HAMBoxHead

__all__ = ['HAMBoxHead']
