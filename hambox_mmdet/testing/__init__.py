# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Test data for users and tests, as ``mmdet.testing`` ships it: the small
generated face set in the official WIDER FACE layout. Imports no torch."""
from .tiny_widerface import (DEFAULT_ROOT, DEFAULTS, MANIFEST,
                             SETTING_MIN_SIZES, make_tiny_widerface,
                             read_manifest)

__all__ = [
    'make_tiny_widerface', 'read_manifest', 'DEFAULTS', 'DEFAULT_ROOT',
    'MANIFEST', 'SETTING_MIN_SIZES'
]
