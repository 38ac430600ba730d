# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The ``name / count / rows`` text layout of the evaluation files.

FDDB ellipse lists and detection files hold, per image, its path, a count
K on the next line, then K lines of numbers; a WIDER FACE submission file
is one such block. :func:`iter_blocks` walks the blocks of a file,
:func:`read_count` reads a count line, :func:`parse_rows` reads one
block's numbers with numpy and :func:`raise_first_bad` names the first
rejected row; every error names the file and the 1-based line.
"""
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np


def read_count(path: str, lines: Sequence[str], i: int, noun: str) -> int:
    """The non-negative integer on ``lines[i]`` (0-based ``i``); raise
    naming the file and the line otherwise."""
    try:
        num = int(lines[i].strip())
    except ValueError:
        raise ValueError(f'{path}: line {i + 1}: {noun} count is not an '
                         f'integer: {lines[i].strip()!r}') from None
    if num < 0:
        raise ValueError(f'{path}: line {i + 1}: negative {noun} count {num}')
    return num


def iter_blocks(path: str,
                lines: Sequence[str],
                noun: str,
                parse: Callable[[List[str], int], np.ndarray],
                key: Optional[Callable[[str], str]] = None
                ) -> Iterator[Tuple[str, np.ndarray]]:
    """Walk the ``name / count / count lines`` blocks of a file.

    Args:
        path (str): the file (for the error messages).
        lines (Sequence[str]): its lines, without line ends.
        noun (str): what a row is (``'box'``, ``'face'``), for the messages.
        parse (Callable): ``parse(rows, first)`` reads a block's K rows (a
            list of str; ``first`` is the 0-based index of ``rows[0]`` in
            ``lines``) and raises on a malformed one. A file that ends
            inside a block has its rows parsed first, so the error names
            the first malformed line.
        key (Callable[[str], str], optional): maps the stripped name line to
            the image key; two blocks with the same key are an error.
            Defaults to the stripped name.

    Yields:
        tuple: ``(key, parse(rows, first))`` per block, in file order.
        Blank lines between blocks are skipped.
    """
    seen = set()
    i = 0
    while i < len(lines):
        name = lines[i].strip()
        if not name:
            i += 1
            continue
        k = name if key is None else key(name)
        if k in seen:
            raise ValueError(f'{path}: line {i + 1}: image {name!r} is '
                             'listed twice')
        seen.add(k)
        if i + 1 >= len(lines):
            raise ValueError(f'{path}: line {i + 2}: missing; expected the '
                             f'{noun} count of {name!r}')
        num = read_count(path, lines, i + 1, noun)
        rows = list(lines[i + 2:i + 2 + num])
        values = parse(rows, i + 2)
        if len(rows) < num:
            nouns = noun + ('es' if noun.endswith('x') else 's')
            raise ValueError(f'{path}: line {len(lines) + 1}: missing; line '
                             f'{i + 2} announces {num} {nouns} for {name!r}, '
                             f'the file has {len(rows)} more lines')
        yield k, values
        i += 2 + num


def parse_rows(
        path: str,
        rows: Sequence[str],
        first: int,
        num_fields: Sequence[int],
        expected: str,
        reject: Optional[Tuple[Callable[[np.ndarray], np.ndarray],
                               str]] = None) -> np.ndarray:
    """The numbers of one block as a (K, 5) float64 array.

    One :func:`numpy.loadtxt` call reads a well-formed block; a malformed
    one is scanned line by line only to name its first bad line.

    Args:
        path (str): the file (for the error messages).
        rows (Sequence[str]): the K rows of the block.
        first (int): 0-based line index of ``rows[0]`` in the file.
        num_fields (Sequence[int]): the field counts a row may have; the
            first five fields are kept.
        expected (str): how a row should look, for the messages
            (``'5 fields (left top width height score)'``).
        reject (tuple, optional): ``(test, what)``: ``test(values)`` maps
            (K, 5) values to a (K, ) bool mask of rows to refuse (NaN, a
            negative radius), reported as ``'<what> <row>'``. Rows are
            checked in file order, so the error names the first bad line
            of either kind. Defaults to None (no value check).

    Returns:
        np.ndarray: (K, 5) float64.
    """
    if not rows:
        return np.zeros((0, 5), dtype=np.float64)
    try:
        vals = np.loadtxt(rows, dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        vals = None
    error = None
    if (vals is not None and vals.shape[0] == len(rows)
            and vals.shape[1] in num_fields):
        out = np.ascontiguousarray(vals[:, :5])
    else:
        # slow path, only for malformed (or mixed-width) blocks: find the
        # first line that does not parse
        out = np.empty((len(rows), 5), dtype=np.float64)
        for j, line in enumerate(rows):
            fields = line.split()
            if len(fields) not in num_fields:
                error = (f'{path}: line {first + j + 1}: expected '
                         f'{expected}, got {len(fields)}: {line.strip()!r}')
            else:
                try:
                    out[j] = [float(v) for v in fields[:5]]
                except ValueError:
                    error = (f'{path}: line {first + j + 1}: non-numeric '
                             f'field in {line.strip()!r}')
            if error is not None:
                out = out[:j]
                break
    if reject is not None:
        test, what = reject
        raise_first_bad(path, rows, first, test(out), what)
    if error is not None:
        raise ValueError(error)
    return out


def raise_first_bad(path: str, rows: Sequence[str], first: int,
                    bad: np.ndarray, what: str) -> None:
    """Raise ``ValueError`` naming the first row where ``bad`` (K', ) is
    set (K' <= K rows from ``rows[0]``): ``'<path>: line <n>: <what> <row>'``.
    """
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(f'{path}: line {first + j + 1}: {what} '
                         f'{rows[j].strip()!r}')
