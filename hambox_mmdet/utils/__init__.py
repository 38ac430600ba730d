# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .checkpoint import (history_buffer_getattr, mmengine_checkpoint_globals,
                         register_mmengine_safe_globals)
from .dist import setup_cpu_distributed

__all__ = [
    'history_buffer_getattr', 'mmengine_checkpoint_globals',
    'register_mmengine_safe_globals', 'setup_cpu_distributed'
]
