# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Shared fixtures: every component registered (autouse), the real WIDER
FACE material in ../shared, when present, and the generated tiny face set
(``tools/misc/make_tiny_widerface.py``)."""
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
WIDER_ROOT = Path(
    os.environ.get('HAMBOX_SHARED_WIDERFACE',
                   REPO_ROOT.parent / 'shared' / 'data' / 'widerface'))


@pytest.fixture(scope='session', autouse=True)
def registered_modules() -> None:
    """mmdet's and HAMBox's components in mmdet's registries for every test
    (``import hambox_mmdet`` registers nothing: OpenMMLab's
    ``register_all_modules``); the default scope is left alone, tests and
    Runners set their own. Fresh-interpreter tests check the registration
    itself (tests/test_utils/test_registration.py)."""
    from hambox_mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)


@pytest.fixture(scope='session')
def wider_root() -> Path:
    """The real WIDER FACE folder; skips the test where it is absent."""
    if not (WIDER_ROOT / 'wider_face_split').is_dir():
        pytest.skip(f'real WIDER FACE data not found at {WIDER_ROOT} '
                    '(../shared is only present in development and CI)')
    return WIDER_ROOT


@pytest.fixture(scope='session')
def make_tiny() -> ModuleType:
    """The generator behind ``tools/misc/make_tiny_widerface.py``."""
    from hambox_mmdet.testing import tiny_widerface
    return tiny_widerface


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory, make_tiny) -> Path:
    """A fresh generated tiny face set (the tool's defaults, as the quick
    start writes it) in the official WIDER FACE layout."""
    root = tmp_path_factory.mktemp('widerface_tiny')
    make_tiny.make_tiny_widerface(str(root))
    return root


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory, make_tiny) -> Path:
    """A small generated face set, written once per test session."""
    root = tmp_path_factory.mktemp('synthetic_widerface')
    make_tiny.make_tiny_widerface(
        str(root), num_train=24, num_val=12, img_size=(192, 160), seed=3)
    return root
