# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .box_iou import column_tiles, pairwise_iou

__all__ = ['pairwise_iou', 'column_tiles']
