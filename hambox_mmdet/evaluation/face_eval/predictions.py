# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The toolkit's detection file: one box per line, ``image score x1 y1 x2
y2``.

The image is named with or without its extension (the toolkit keys images
by the base name up to the first dot: ``24795717``, ``2008_002251.jpg``); a
leading folder (``afw/24795717.jpg``) is dropped here, where the toolkit
would match nothing.
Blank lines are skipped; anything else that the toolkit could not read (a
missing or extra field, a non-numeric value) and NaN or infinite numbers
fail with the file and line. A UTF-8 byte-order mark is skipped.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from .annotations import image_key


@dataclass
class FaceDetections:
    """Detections read from (or to be written to) a toolkit file.

    Attributes:
        names (np.ndarray): (D, ) str, the image as written.
        scores (np.ndarray): (D, ) float64.
        boxes (np.ndarray): (D, 4) float64 ``x1 y1 x2 y2``.
        lines (np.ndarray): (D, ) int64, 1-based line numbers (0 where not
            read from a file).
    """
    names: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def keys(self) -> np.ndarray:
        """(D, ) str: the toolkit's image keys (:func:`image_key`)."""
        if not len(self.names):
            return np.zeros(0, dtype=str)
        uniq, inverse = np.unique(self.names, return_inverse=True)
        return np.array([image_key(n) for n in uniq.tolist()],
                        dtype=str)[inverse.reshape(-1)]


def _bad_line(path: str, lines: Sequence[str], line_no: np.ndarray,
              reason: str) -> ValueError:
    i = int(line_no[0])
    return ValueError(f'{path}, line {i}: {reason}: {lines[i - 1].strip()!r}'
                      + (f' ({len(line_no)} such lines)'
                         if len(line_no) > 1 else ''))


def read_predictions(path: Union[str, Path]) -> FaceDetections:
    """Read a detection file of the toolkit.

    Args:
        path (str | Path): the text file.

    Returns:
        FaceDetections: the boxes in the file's order (it breaks score ties).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line without exactly 6 fields, a non-numeric field, or
            a NaN or infinite number; the message gives the file and line.
    """
    path = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f'{path}: no such detection file')
    # utf-8-sig: a byte-order mark (Windows editors write one) would
    # otherwise stick to the first image name, which then matches no image
    with open(path, encoding='utf-8-sig', errors='replace') as f:
        lines = f.read().splitlines()
    fields = [line.split() for line in lines]
    num_fields = np.fromiter(map(len, fields), dtype=np.int64,
                             count=len(fields))
    line_no = np.flatnonzero(num_fields) + 1
    bad = np.flatnonzero((num_fields != 6) & (num_fields != 0)) + 1
    if len(bad):
        raise _bad_line(path, lines, bad,
                        'expected 6 fields "image score x1 y1 x2 y2"')
    if not len(line_no):
        return FaceDetections(
            np.zeros(0, dtype=str), np.zeros(0), np.zeros((0, 4)),
            np.zeros(0, dtype=np.int64))
    table = np.array([fields[i - 1] for i in line_no.tolist()], dtype=str)
    try:
        numbers = table[:, 1:].astype(np.float64)
    except ValueError:
        ok = np.array([_is_float_row(row) for row in table[:, 1:].tolist()])
        raise _bad_line(path, lines, line_no[~ok],
                        'score or box is not a number') from None
    finite = np.isfinite(numbers).all(axis=1)
    if not finite.all():
        raise _bad_line(path, lines, line_no[~finite],
                        'NaN or infinite score or box')
    return FaceDetections(table[:, 0], numbers[:, 0], numbers[:, 1:],
                          line_no.astype(np.int64))


def _is_float_row(row: Sequence[str]) -> bool:
    try:
        [float(v) for v in row]
    except ValueError:
        return False
    return True


def write_predictions(path: Union[str, Path], names: Sequence[str],
                      scores: np.ndarray, boxes: np.ndarray) -> None:
    """Write detections in the toolkit's layout.

    Numbers are written with Python's shortest exact representation, so
    :func:`read_predictions` gives back the same floats.

    Args:
        path (str | Path): the text file (its folder is created).
        names (sequence[str]): (D, ) image names (no whitespace).
        scores (np.ndarray): (D, ) scores.
        boxes (np.ndarray): (D, 4) ``x1 y1 x2 y2``.
    """
    names = [str(n) for n in names]
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(names) == len(scores) == len(boxes):
        raise ValueError(f'{len(names)} names, {len(scores)} scores and '
                         f'{len(boxes)} boxes differ in number')
    if any(not n or len(n.split()) != 1 for n in names):
        raise ValueError('image names must be non-empty, without spaces')
    rows = np.column_stack([scores, boxes]).tolist()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(f'{n} {" ".join(map(repr, r))}\n'
                     for n, r in zip(names, rows))
