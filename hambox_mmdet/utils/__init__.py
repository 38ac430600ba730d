# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .checkpoint import (check_state_dict_fits, history_buffer_getattr,
                         load_checkpoint_strict, mmengine_checkpoint_globals,
                         read_checkpoint, register_mmengine_safe_globals)
from .dist import setup_cpu_distributed
from .setup_env import register_all_modules

__all__ = [
    'check_state_dict_fits', 'load_checkpoint_strict', 'read_checkpoint',
    'history_buffer_getattr', 'mmengine_checkpoint_globals',
    'register_mmengine_safe_globals', 'setup_cpu_distributed',
    'register_all_modules'
]
