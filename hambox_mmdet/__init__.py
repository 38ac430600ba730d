# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBox for MMDetection 3.x.

Importing the package registers every component straight into mmdet's
registries (scope ``mmdet``), so a config only needs::

    custom_imports = dict(imports=['hambox_mmdet'], allow_failed_imports=False)

It also lets torch >= 2.6 load mmengine's checkpoints with the
``weights_only`` safety check kept on (see
:mod:`hambox_mmdet.utils.checkpoint`).
"""
from .utils import register_mmengine_safe_globals
from .version import __version__, version_info

register_mmengine_safe_globals()

from . import datasets, evaluation, models  # noqa: E402,F401

__all__ = ['__version__', 'version_info', 'datasets', 'evaluation', 'models']
