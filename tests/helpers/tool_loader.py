# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The repository's scripts under ``tools/`` loaded from their paths.

``tools/`` is a folder of scripts, not a package: a test that must call a
script's functions in-process loads it here, once per session, under the
script's own name (as ``python tools/...`` would run it), instead of putting
``tools/`` on the import path. Tests that only need the command line run the
script in a subprocess."""
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools'


def load_tool(relpath: str) -> ModuleType:
    """The module of ``tools/<relpath>`` (e.g. ``'deployment/export_onnx.py'``),
    loaded once and kept in ``sys.modules`` under the file's stem."""
    path = (TOOLS / relpath).resolve()
    name = path.stem
    module = sys.modules.get(name)
    if module is not None and getattr(module, '__file__', None) == str(path):
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
