# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE submission files: ``<dir>/<event>/<image stem>.txt``.

The official layout (read by ``read_pred.m``): line 1 the image name, line 2
the count N, then N lines ``x y w h score``. Files are read strictly: what
the official reader cannot read (a non-integer count, a non-numeric field,
a wrong number of fields, fewer or more box lines than announced) and NaN /
inf values are errors naming the file and the 1-based line. A box of
negative width or height is read: the official tool scores it (see
:mod:`.overlap`) and so does :func:`evaluate`, with a warning.

The folder is checked too (:func:`check_pred_layout`): a ``.txt`` file that
is not ``<event>/<stem>.txt`` of a ground-truth image (one folder level too
deep or too shallow, ``<stem>.jpg.txt``, an image that is not in the
ground truth) is an error naming it, and so is a folder in which no file
matches any image: either would otherwise give AP 0 as a result.
:func:`write_predictions` writes only into a new or empty folder or one it
wrote before (its marker :data:`PRED_DIR_MARKER` lists its files): the
files of an earlier run that the new predictions do not replace are
removed, so the folder never holds a mix of two runs.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ...safe_io import describe_entries, read_marker, write_text
from ...datasets.annotations.blocks import (parse_rows, raise_first_bad,
                                            read_count)

#: The marker of a submission folder written by :func:`write_predictions`.
PRED_DIR_MARKER = '.hambox_wider_predictions.json'
#: Image extensions recognised in a misnamed ``<stem>.jpg.txt``.
_IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def _pred_path(pred_dir: str, key: str) -> str:
    event, stem = key.split('/', 1)
    return osp.join(pred_dir, event, stem + '.txt')


def _parse_pred_file(path: str) -> np.ndarray:
    """One submission file -> (N, 5) float64 ``x y w h score``."""
    with open(path, encoding='utf-8-sig', errors='replace') as f:
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
    # scores such a box; evaluate does the same and counts them
    return boxes


def _txt_files(pred_dir: str) -> List[str]:
    """The ``.txt`` files under ``pred_dir``, relative, ``/``-separated
    (hidden files and folders skipped)."""
    found = []
    for folder, dirs, files in os.walk(pred_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        rel = osp.relpath(folder, pred_dir).replace(os.sep, '/')
        for name in sorted(files):
            if name.endswith('.txt') and not name.startswith('.'):
                found.append(name if rel == '.' else f'{rel}/{name}')
    return found


def check_pred_layout(pred_dir: str, image_keys: Sequence[str]) -> int:
    """Raise unless every ``.txt`` file under ``pred_dir`` is
    ``<event>/<stem>.txt`` of one of ``image_keys`` and at least one is.

    Returns:
        int: the number of files that match an image.

    Raises:
        ValueError: naming the files that do not follow the layout (the
            first three, with the reason: too deep, not in an event folder,
            ``<stem>.jpg.txt``, not a ground-truth image), or saying that
            no file matches any of the images.
    """
    keys = set(image_keys)
    stems = {k.split('/', 1)[1]: k for k in keys}
    events = {k.split('/', 1)[0] for k in keys}
    files = _txt_files(pred_dir)
    bad = []
    for rel in files:
        parts = rel.split('/')
        stem = parts[-1][:-4]
        base, ext = osp.splitext(stem)
        if len(parts) == 2 and f'{parts[0]}/{stem}' in keys:
            continue
        if ext.lower() in _IMAGE_EXTS and (
                f'{parts[0]}/{base}' in keys or base in stems):
            why = (f'named after the image file: the official name is '
                   f'{base}.txt')
        elif len(parts) == 1:
            why = ('not in an event folder (expected <event>/<stem>.txt'
                   + (f': {stems[stem]}.txt' if stem in stems else '') + ')')
        elif len(parts) > 2:
            why = (f'{len(parts) - 2} folder level(s) too deep (give the '
                   'folder that holds the event folders'
                   + (f': {osp.join(pred_dir, *parts[:-2])}'
                      if parts[-2] in events else '') + ')')
        elif stem in stems:
            why = f'in the wrong event folder ({stems[stem]}.txt expected)'
        else:
            why = 'not an image of the ground truth'
        bad.append(f'{rel} ({why})')
    matched = len(files) - len(bad)
    if bad:
        raise ValueError(
            f'{pred_dir}: {len(bad)} of {len(files)} .txt file(s) do not '
            'follow the official layout <event>/<image stem>.txt of the '
            f'ground-truth images: {"; ".join(bad[:3])}'
            + (f' (+{len(bad) - 3} more)' if len(bad) > 3 else ''))
    if not matched:
        raise ValueError(
            f'{pred_dir}: no prediction file <event>/<image stem>.txt for '
            f'any of the {len(keys)} ground-truth images (the folder holds '
            'no .txt file)')
    return matched


def read_predictions(
        pred_dir: str,
        image_keys: Sequence[str],
        check_layout: bool = True
) -> Tuple[Dict[str, np.ndarray], List[str]]:
    """Read predictions in the official submission layout.

    ``<pred_dir>/<event>/<image stem>.txt``: line 1 the image name, line 2
    the count N, then N lines ``x y w h score``; trailing blank lines are
    allowed.

    Args:
        pred_dir (str): the submission folder.
        image_keys (Sequence[str]): keys ``'<event>/<stem>'`` to read
            (e.g. ``gt.image_keys``).
        check_layout (bool): first check the folder with
            :func:`check_pred_layout` (every ``.txt`` file is that of an
            image, and one at least). Defaults to True.

    Returns:
        tuple[dict[str, np.ndarray], list[str]]: key -> (N, 5) float64 for
        every file found (N may be 0), and the keys whose file is missing
        (no detections; callers report their number).

    Raises:
        FileNotFoundError: ``pred_dir`` is not a folder.
        ValueError: files that do not follow the layout, or none that
            matches an image (see :func:`check_pred_layout`); a malformed
            file (non-integer count, non-numeric field,
            wrong number of fields, fewer lines than announced, extra
            non-blank lines, NaN / inf), naming the file and the 1-based
            line. A box of negative width or height is read as it is (the
            official tool scores it; :func:`evaluate` warns).
    """
    if not osp.isdir(pred_dir):
        raise FileNotFoundError(f'prediction folder not found: {pred_dir}')
    if check_layout:
        check_pred_layout(pred_dir, image_keys)
    preds: Dict[str, np.ndarray] = {}
    missing: List[str] = []
    for key in image_keys:
        path = _pred_path(pred_dir, key)
        if not osp.isfile(path):
            missing.append(key)
            continue
        preds[key] = _parse_pred_file(path)
    return preds, missing


def _claim_pred_dir(out_dir: str) -> List[str]:
    """The files an earlier :func:`write_predictions` left in ``out_dir``
    (relative); raise if the folder holds anything else."""
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise FileExistsError(f'{out_dir} is a file, not a folder')
    if not osp.isdir(out_dir):
        return []
    marker = read_marker(out_dir, PRED_DIR_MARKER)
    ours = set(marker.get('files', [])) if marker else set()
    found = []
    for folder, dirs, files in os.walk(out_dir):
        rel = osp.relpath(folder, out_dir).replace(os.sep, '/')
        for name in files:
            path = name if rel == '.' else f'{rel}/{name}'
            if path != PRED_DIR_MARKER and path not in ours and not (
                    name.startswith('.') and '.tmp-' in name):
                found.append(path)
    if found:
        raise FileExistsError(
            f'{out_dir} holds files that write_predictions did not write '
            f'({len(found)}: {describe_entries(found)}'
            + (f'; no {PRED_DIR_MARKER}' if marker is None else '')
            + '): refusing to write the predictions there, where they would '
            'mix with them; give a new or empty folder')
    return sorted(ours)


def check_pred_dir(out_dir: str) -> None:
    """Raise :class:`FileExistsError` now if :func:`write_predictions` would
    refuse ``out_dir`` (so a test run fails before inference, not after)."""
    _claim_pred_dir(out_dir)


def _write_marker(out_dir: str, files: Sequence[str]) -> None:
    write_text(osp.join(out_dir, PRED_DIR_MARKER),
               json.dumps(dict(written_by='hambox_mmdet write_predictions',
                               files=sorted(files)), indent=1) + '\n')


def write_predictions(out_dir: str,
                      preds: Mapping[str, np.ndarray],
                      fmt: Optional[str] = None) -> List[str]:
    """Write predictions in the official submission layout.

    ``out_dir`` must be new, empty, or a folder this function wrote before
    (its marker, :data:`PRED_DIR_MARKER`, lists the files): the files of the
    earlier run that are not written again are removed, so the folder holds
    exactly ``preds``. Each file is written under a temporary name and
    moved into place.

    Args:
        out_dir (str): output folder (created).
        preds (Mapping[str, np.ndarray]): key ``'<event>/<stem>'`` -> (N, 5)
            ``x y w h score``.
        fmt (str, optional): %-format of one line, e.g.
            ``'%.3f %.3f %.3f %.3f %.6f'``. Defaults to None: the shortest
            text that reads back to the same float64 (``repr``), so that
            evaluating the files gives exactly the in-memory numbers.

    Returns:
        list[str]: the files of an earlier run that were removed (relative
        paths).

    Raises:
        FileExistsError: ``out_dir`` holds files this function did not
            write (naming them); nothing is written then.
    """
    for key in preds:
        if '/' not in key:
            raise ValueError(f'image key {key!r} is not "<event>/<stem>"')
    out_dir = str(out_dir)
    previous = _claim_pred_dir(out_dir)
    new = sorted(osp.relpath(_pred_path('.', k), '.').replace(os.sep, '/')
                 for k in preds)
    os.makedirs(out_dir, exist_ok=True)
    # the marker claims the old and the new files while they are written,
    # so that an interrupted run can be rerun
    _write_marker(out_dir, sorted(set(previous) | set(new)))
    for key, arr in preds.items():
        arr = np.asarray(arr, dtype=np.float64).reshape(-1, 5)
        path = _pred_path(out_dir, key)
        os.makedirs(osp.dirname(path), exist_ok=True)
        if fmt is None:
            body = [' '.join(map(repr, row)) for row in arr.tolist()]
        else:
            body = [fmt % tuple(row) for row in arr.tolist()]
        stem = key.split('/', 1)[1]
        write_text(path, '\n'.join([stem, str(len(arr))] + body) + '\n')
    stale = sorted(set(previous) - set(new))
    for rel in stale:
        path = osp.join(out_dir, *rel.split('/'))
        if osp.isfile(path):
            os.remove(path)
        folder = osp.dirname(path)
        if folder != osp.normpath(out_dir) and osp.isdir(folder) and \
                not os.listdir(folder):
            os.rmdir(folder)
    _write_marker(out_dir, new)
    return stale
