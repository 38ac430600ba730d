# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBox for MMDetection 3.x.

Registration follows the OpenMMLab convention: ``import hambox_mmdet``
imports nothing but the version (no torch, mmcv or mmdet) and registers
nothing. Each component subpackage registers its own classes in mmdet's
registries (scope ``mmdet``) when imported, so a config names them::

    custom_imports = dict(
        imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
                 'hambox_mmdet.evaluation'],
        allow_failed_imports=False)

and a script calls :func:`hambox_mmdet.utils.register_all_modules` (also
reachable as ``hambox_mmdet.register_all_modules``), as mmdet's tools do.

.. note::
   Up to version 0.1.0 importing the package itself registered everything,
   and the documented config line was
   ``custom_imports = dict(imports=['hambox_mmdet'], ...)``. That line now
   registers nothing: a config that still uses it fails when the runner
   builds the first HAMBox component, with mmengine's
   ``KeyError: '... is not in the mmdet::model registry'`` (or
   ``task util``, ``dataset``, ``metric`` ...). Name the three subpackages
   as above instead.

Torch-free by structure: :mod:`hambox_mmdet.deployment` (ONNX inference)
and :mod:`hambox_mmdet.safe_io` import neither torch, mmcv nor mmdet.

Torch >= 2.6 loads mmengine's checkpoints with the ``weights_only`` check
kept on once :func:`hambox_mmdet.utils.register_mmengine_safe_globals` has
run; importing :mod:`hambox_mmdet.models` and
:func:`~hambox_mmdet.utils.register_all_modules` call it (see
:mod:`hambox_mmdet.utils.checkpoint`).
"""
from .version import __version__, version_info

__all__ = ['__version__', 'version_info', 'register_all_modules']


def __getattr__(name: str):
    # Lazy: ``hambox_mmdet.utils`` imports torch, mmengine and (when called)
    # mmdet; only asking for the function loads them.
    if name == 'register_all_modules':
        from .utils.setup_env import register_all_modules
        return register_all_modules
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
