# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Keep ``import hambox_mmdet.deployment`` free of torch, mmcv and mmdet.

``import hambox_mmdet`` registers every component in mmdet's registries,
which imports torch, mmcv and mmdet. A deployed face detector
(:mod:`hambox_mmdet.deployment`) needs none of them, but Python runs the
package's ``__init__`` before any subpackage. So the ``__init__`` asks
:func:`importing_only_deployment` whether the import in progress is that of
the deployment subpackage in a process where mmdet is not loaded; if so it
skips the registration and calls :func:`register_when_mmdet_loads`, which
registers everything right after mmdet is first imported. Either way, once
mmdet is in use, all components are registered, whatever the import order.
"""
import importlib.abc
import importlib.util
import sys
from typing import Callable

LIGHT_SUBPACKAGE = 'hambox_mmdet.deployment'
#: Modules imported without registering (none imports torch, mmcv or mmdet):
#: the deployment subpackage and the output-safety helpers the ONNX demo
#: and the data generator use.
LIGHT_MODULES = (LIGHT_SUBPACKAGE, 'hambox_mmdet.safe_io')


def importing_only_deployment() -> bool:
    """Whether the package is being imported only for
    :mod:`hambox_mmdet.deployment` (or another of :data:`LIGHT_MODULES`)
    while mmdet is not loaded.

    Looks at the import machinery's frames above the package's
    ``__init__``: the innermost module being loaded other than the package
    itself is the one whose import triggered it.
    """
    if 'mmdet' in sys.modules:
        return False
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if (code.co_name == '_find_and_load_unlocked'
                and 'importlib' in code.co_filename):
            name = frame.f_locals.get('name')
            if isinstance(name, str) and name != 'hambox_mmdet':
                return any(name == m or name.startswith(m + '.')
                           for m in LIGHT_MODULES)
        frame = frame.f_back
    return False


class _ThenRun(importlib.abc.Loader):
    """Wraps a module's loader to run a callback after the module loaded."""

    def __init__(self, loader, callback: Callable[[], None]) -> None:
        self.loader = loader
        self.callback = callback

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = self.loader
        self.loader.exec_module(module)
        self.callback()

    def __getattr__(self, name):
        return getattr(self.loader, name)


class _AfterMMDet(importlib.abc.MetaPathFinder):
    """One-shot finder: loads ``mmdet`` as usual, then runs the callback."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'mmdet':
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenRun(spec.loader, self.callback)
        return spec


def register_when_mmdet_loads(register: Callable[[], None]) -> None:
    """Call ``register`` as soon as ``mmdet`` has been imported."""
    if 'mmdet' in sys.modules:
        register()
    elif not any(isinstance(f, _AfterMMDet) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterMMDet(register))
