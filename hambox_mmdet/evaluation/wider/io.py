# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE submission files: ``<dir>/<event>/<image stem>.txt``.

The official layout (read by ``read_pred.m``): line 1 the image name, line 2
the count N, then N lines ``x y w h score``. Files are read strictly: what
the official reader cannot read (a non-integer count, a non-numeric field,
a wrong number of fields, fewer or more box lines than announced) and NaN /
inf values are errors naming the file and the 1-based line. A box of
negative width or height is read: the official tool scores it (see
:mod:`.overlap`) and so does :func:`evaluate_wider`, with a warning.
"""
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..blocks import parse_rows, raise_first_bad, read_count


def _pred_path(pred_dir: str, key: str) -> str:
    event, stem = key.split('/', 1)
    return osp.join(pred_dir, event, stem + '.txt')


def _parse_pred_file(path: str) -> np.ndarray:
    """One submission file -> (N, 5) float64 ``x y w h score``."""
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines()
    if len(lines) < 2:
        raise ValueError(f'{path}: line {len(lines) + 1}: missing; expected '
                         'the image name on line 1 and the box count on '
                         'line 2')
    num = read_count(path, lines, 1, 'box')
    box_lines = lines[2:2 + num]
    if len(box_lines) < num:
        raise ValueError(f'{path}: line {len(lines) + 1}: missing; line 2 '
                         f'announces {num} boxes, the file has '
                         f'{len(box_lines)} box lines')
    boxes = parse_rows(path, box_lines, 2, (5, ), '5 fields (x y w h score)')
    for j in range(2 + num, len(lines)):
        if lines[j].strip():
            raise ValueError(f'{path}: line {j + 1}: unexpected content after '
                             f'the {num} boxes announced on line 2')
    raise_first_bad(path, box_lines, 2, ~np.isfinite(boxes).all(axis=1),
                    'NaN or inf value in')
    # a negative width or height is no error: the official tool reads and
    # scores such a box; evaluate_wider does the same and counts them
    return boxes


def read_pred_dir(
        pred_dir: str,
        image_keys: Sequence[str]) -> Tuple[Dict[str, np.ndarray], List[str]]:
    """Read predictions in the official submission layout.

    ``<pred_dir>/<event>/<image stem>.txt``: line 1 the image name, line 2
    the count N, then N lines ``x y w h score``; trailing blank lines are
    allowed.

    Args:
        pred_dir (str): the submission folder.
        image_keys (Sequence[str]): keys ``'<event>/<stem>'`` to read
            (e.g. ``gt.image_keys``).

    Returns:
        tuple[dict[str, np.ndarray], list[str]]: key -> (N, 5) float64 for
        every file found (N may be 0), and the keys whose file is missing
        (no detections; callers report their number).

    Raises:
        FileNotFoundError: ``pred_dir`` is not a folder.
        ValueError: a malformed file (non-integer count, non-numeric field,
            wrong number of fields, fewer lines than announced, extra
            non-blank lines, NaN / inf), naming the file and the 1-based
            line. A box of negative width or height is read as it is (the
            official tool scores it; :func:`evaluate_wider` warns).
    """
    if not osp.isdir(pred_dir):
        raise FileNotFoundError(f'prediction folder not found: {pred_dir}')
    preds: Dict[str, np.ndarray] = {}
    missing: List[str] = []
    for key in image_keys:
        path = _pred_path(pred_dir, key)
        if not osp.isfile(path):
            missing.append(key)
            continue
        preds[key] = _parse_pred_file(path)
    return preds, missing


def write_pred_dir(out_dir: str,
                   preds: Mapping[str, np.ndarray],
                   fmt: Optional[str] = None) -> None:
    """Write predictions in the official submission layout.

    Args:
        out_dir (str): output folder (created).
        preds (Mapping[str, np.ndarray]): key ``'<event>/<stem>'`` -> (N, 5)
            ``x y w h score``.
        fmt (str, optional): %-format of one line, e.g.
            ``'%.3f %.3f %.3f %.3f %.6f'``. Defaults to None: the shortest
            text that reads back to the same float64 (``repr``), so that
            evaluating the files gives exactly the in-memory numbers.
    """
    for key, arr in preds.items():
        if '/' not in key:
            raise ValueError(f'image key {key!r} is not "<event>/<stem>"')
        arr = np.asarray(arr, dtype=np.float64).reshape(-1, 5)
        path = _pred_path(out_dir, key)
        os.makedirs(osp.dirname(path), exist_ok=True)
        if fmt is None:
            body = [' '.join(map(repr, row)) for row in arr.tolist()]
        else:
            body = [fmt % tuple(row) for row in arr.tolist()]
        stem = key.split('/', 1)[1]
        with open(path, 'w', encoding='utf-8') as f:
            f.write('\n'.join([stem, str(len(arr))] + body) + '\n')
