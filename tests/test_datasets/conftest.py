# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Fixtures of the data tests: an independent naive reader of the official
text files and a small generated face set. The real WIDER FACE folder comes
from ``tests/conftest.py``'s ``wider_root`` (read-only; it skips, with the
reason, where ../shared/data/widerface is absent)."""
from pathlib import Path
from typing import Callable

import pytest


def _naive_count(path: Path) -> dict:
    """An independent, plain line-by-line reading of a ``*_bbx_gt.txt``.

    Returns:
        dict: ``images``, ``faces`` (sum of the counts N), ``ignored``
        (``invalid = 1`` or ``w <= 0`` or ``h <= 0``), ``empty`` (images with
        N = 0 or a single all-zero box) and ``paths`` (image paths in order).
    """
    with open(path) as f:
        lines = [line.rstrip('\n') for line in f]
    images = faces = ignored = empty = 0
    paths = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        images += 1
        paths.append(lines[i].strip())
        n = int(lines[i + 1])
        i += 2
        if n == 0:
            empty += 1
            if i < len(lines) and len(lines[i].split()) == 10:
                i += 1
            continue
        all_zero = True
        for k in range(n):
            fields = [int(v) for v in lines[i + k].split()]
            assert len(fields) == 10, lines[i + k]
            x, y, w, h, blur, expr, illum, invalid, occ, pose = fields
            faces += 1
            if invalid == 1 or w <= 0 or h <= 0:
                ignored += 1
            all_zero = all_zero and not any(fields)
        empty += n == 1 and all_zero
        i += n
    return dict(
        images=images, faces=faces, ignored=ignored, empty=empty, paths=paths)


@pytest.fixture(scope='session')
def naive_count() -> Callable[[Path], dict]:
    """The independent line-by-line reader, see :func:`_naive_count`."""
    return _naive_count
