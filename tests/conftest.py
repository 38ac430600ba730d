# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Shared fixtures: the real WIDER FACE material in ../shared, when present."""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
WIDER_ROOT = Path(
    os.environ.get('HAMBOX_SHARED_WIDERFACE',
                   REPO_ROOT.parent / 'shared' / 'data' / 'widerface'))


@pytest.fixture(scope='session')
def wider_root() -> Path:
    """The real WIDER FACE folder; skips the test where it is absent."""
    if not (WIDER_ROOT / 'wider_face_split').is_dir():
        pytest.skip(f'real WIDER FACE data not found at {WIDER_ROOT} '
                    '(../shared is only present in development and CI)')
    return WIDER_ROOT


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory) -> Path:
    """A fresh generated tiny face set in the official WIDER FACE layout."""
    from hambox_mmdet.datasets.synthetic_widerface import \
        ensure_synthetic_widerface
    root = tmp_path_factory.mktemp('widerface_tiny')
    ensure_synthetic_widerface(
        str(root), num_train=200, num_val=50, img_size=(448, 384), seed=0)
    return root
