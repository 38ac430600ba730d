# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .regression_aware_focal_loss import (COM_NORMALIZERS,
                                          RegressionAwareFocalLoss,
                                          com_normalizers)

__all__ = ['RegressionAwareFocalLoss', 'com_normalizers', 'COM_NORMALIZERS']
