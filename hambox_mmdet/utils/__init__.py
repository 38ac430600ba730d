# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .checkpoint import (mmengine_checkpoint_globals,
                         register_mmengine_safe_globals)

__all__ = ['mmengine_checkpoint_globals', 'register_mmengine_safe_globals']
