# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Where the tests find the real AFW / PASCAL Face files of the toolkit
(``../shared/data/face_eval`` or ``$HAMBOX_SHARED_FACE_EVAL``): its
annotation ``.mat`` files and the DPM detections; tests that need them skip
cleanly where they are absent."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FACE_EVAL = Path(
    os.environ.get('HAMBOX_SHARED_FACE_EVAL',
                   REPO.parent / 'shared' / 'data' / 'face_eval'))
AFW = FACE_EVAL / 'annotations' / 'new_annotations_AFW.mat'
PASCAL = FACE_EVAL / 'annotations' / \
    'Annotations_Face_PASCALLayout_large_fixed.mat'
needs_face_eval = pytest.mark.skipif(
    not AFW.is_file() or not PASCAL.is_file(),
    reason=f'AFW / PASCAL annotations not found at {FACE_EVAL} (CI has '
    'them)')
