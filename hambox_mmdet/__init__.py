# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBox for MMDetection 3.x.

Importing the package registers every component straight into mmdet's
registries (scope ``mmdet``), so a config only needs::

    custom_imports = dict(imports=['hambox_mmdet'], allow_failed_imports=False)

It also lets torch >= 2.6 load mmengine's checkpoints with the
``weights_only`` safety check kept on (see
:mod:`hambox_mmdet.utils.checkpoint`).
"""
from ._import_mode import (importing_only_deployment,
                           register_when_mmdet_loads)
from .version import __version__, version_info


def _register_all() -> None:
    from .utils import register_mmengine_safe_globals
    register_mmengine_safe_globals()
    from . import datasets, evaluation, models  # noqa: F401


# `import hambox_mmdet.deployment` (torch-free ONNX inference) in a process
# without mmdet registers nothing yet, only once mmdet is imported
# (hambox_mmdet/_import_mode.py); every other import registers at once.
if importing_only_deployment():
    register_when_mmdet_loads(_register_all)
else:
    _register_all()

__all__ = ['__version__', 'version_info', 'datasets', 'evaluation', 'models']
