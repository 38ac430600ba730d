# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDB detection files in the official layout.

One file (for all folds, or one per fold): per image its path as in the
fold list (no extension), the number of boxes K, then K lines
``left top width height score``. Read strictly: a non-integer or negative
count, a box line without exactly five numbers, NaN / infinite values, a
file that ends before the announced boxes and an image listed twice are
errors naming the file and the 1-based line. A box of negative width or
height is read as written, with one warning per file giving their number.
"""
import os
import os.path as osp
import warnings
from functools import partial
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from ...datasets.annotations.blocks import iter_blocks, parse_rows


def _parse_boxes(path: str, rows: List[str], first: int) -> np.ndarray:
    """(K, 5) boxes of one block; ``first`` is the 0-based line of
    ``rows[0]`` in the file (for the error messages)."""
    return parse_rows(path, rows, first, (5, ),
                      '5 fields (left top width height score)',
                      (_not_finite, 'NaN or infinite value in'))


def _not_finite(boxes: np.ndarray) -> np.ndarray:
    """(K, ) bool: rows of ``boxes`` (K, 5) with a NaN or infinite value."""
    return ~np.isfinite(boxes).all(axis=1)


def normalise_key(name: str) -> str:
    """An image path as in the fold lists: no ``.jpg``, ``/`` separators."""
    name = name.strip().replace('\\', '/')
    if name.lower().endswith('.jpg'):
        name = name[:-4]
    return name


def read_prediction_file(path: str) -> Dict[str, np.ndarray]:
    """Read one detection file.

    Returns:
        dict[str, np.ndarray]: image path -> (K, 5) float64
        ``left top width height score``, in file order.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'FDDB detection file not found: {path}')
    with open(path, encoding='utf-8-sig', errors='replace') as f:
        lines = f.read().splitlines()
    dets = dict(
        iter_blocks(path, lines, 'box', partial(_parse_boxes, path),
                    key=normalise_key))
    warn_negative_sizes(path, dets)
    return dets


def warn_negative_sizes(path: str, dets: Mapping[str, np.ndarray]) -> int:
    """Warn once (with their number and the first image) about boxes of
    negative width or height: the layout is ``left top width height
    score``, and such a box is most often ``x1 y1 x2 y2`` written by
    mistake. They are kept as written. Returns their number."""
    counts = {k: int(np.count_nonzero((v[:, 2:4] < 0).any(axis=1)))
              for k, v in dets.items() if len(v)}
    total = sum(counts.values())
    if total:
        first = next(k for k, n in counts.items() if n)
        warnings.warn(
            f'{path}: {total} box(es) of negative width or height in '
            f'{sum(1 for n in counts.values() if n)} image(s) (first: '
            f'{first!r}); the layout is "left top width height score" '
            '(x1 y1 x2 y2 written by mistake?); they are kept as written',
            stacklevel=3)
    return total


def read_predictions(
        paths: Union[str, Sequence[str]]) -> Dict[str, np.ndarray]:
    """Read one or several detection files (e.g. one per fold), or every
    ``*.txt`` of a folder; an image in two files is an error."""
    if isinstance(paths, str):
        if osp.isdir(paths):
            files = sorted(
                osp.join(paths, n) for n in os.listdir(paths)
                if n.endswith('.txt'))
            if not files:
                raise FileNotFoundError(f'no .txt detection file in {paths}')
        else:
            files = [paths]
    else:
        files = list(paths)
    out: Dict[str, np.ndarray] = {}
    for path in files:
        dets = read_prediction_file(path)
        dup = next((k for k in dets if k in out), None)
        if dup is not None:
            raise ValueError(f'{path}: image {dup!r} is also in an earlier '
                             'detection file')
        out.update(dets)
    return out


def _fmt(v: float) -> str:
    # shortest text that reads back to the same double (the official tool
    # rounds coordinates to pixels: no rounding here may move one)
    return repr(float(v))


def write_predictions(path: str,
                      dets: Mapping[str, np.ndarray],
                      image_keys: Optional[Iterable[str]] = None) -> None:
    """Write detections in the official layout.

    Args:
        path (str): output file (its folder is created).
        dets (Mapping[str, np.ndarray]): image path -> (K, 5)
            ``left top width height score``.
        image_keys (Iterable[str], optional): the images, in this order
            (images without an entry get ``0`` boxes, as the official tool
            needs every image of the fold list). Defaults to ``dets``' keys.
    """
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    keys = list(dets) if image_keys is None else list(image_keys)
    parts: List[str] = []
    for key in keys:
        boxes = np.asarray(dets.get(key, np.zeros((0, 5))), np.float64)
        boxes = boxes.reshape(-1, 5)
        parts.append(f'{key}\n{len(boxes)}\n')
        if len(boxes):
            parts.append('\n'.join(' '.join(map(_fmt, row))
                                   for row in boxes.tolist()) + '\n')
    with open(path, 'w') as f:
        f.write(''.join(parts))
