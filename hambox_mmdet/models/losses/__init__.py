# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .regression_aware_focal_loss import RegressionAwareFocalLoss

__all__ = ['RegressionAwareFocalLoss']
