# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Readers for the official WIDER FACE text files.

``wider_face_{train,val}_bbx_gt.txt`` holds, per image, ``<event>/<name>.jpg``,
a count ``N`` and ``N`` lines ``x1 y1 w h blur expression illumination
invalid occlusion pose``, with these quirks: face lines end with a space; an
image without faces is ``N = 0`` plus a placeholder line of ten zeros (not a
face; tolerated if missing) or ``N = 1`` plus an all-zero box (kept as a
zero-size face); zero-size and ``invalid = 1`` faces are kept and flagged by
:meth:`WIDERFaceAnnotations.ignore_flags`; three faces have a negative width
or height (train lines 161871 and 177955, val line 34471). The headers are
walked in Python, one step per image, then one :func:`numpy.loadtxt` call
converts all face lines. Errors name the file, the 1-based line and what was
expected: also for an image listed twice (both lines; the official files
list each image once), a file that is not UTF-8 text and a ``.mat`` file
given in place of the text file.
"""
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from itertools import chain
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

#: Names of the six per-face attributes, in file order (columns 4..9).
WIDER_ATTR_NAMES = ('blur', 'expression', 'illumination', 'invalid',
                    'occlusion', 'pose')
#: Names of the ten fields of a face line.
WIDER_FIELD_NAMES = ('x1', 'y1', 'w', 'h') + WIDER_ATTR_NAMES
NUM_FIELDS = len(WIDER_FIELD_NAMES)
PathLike = Union[str, os.PathLike]


@dataclass
class WIDERFaceAnnotations:
    """Columnar WIDER FACE annotations of one ``*_bbx_gt.txt`` file.

    The faces of image ``i`` are rows ``face_offsets[i]:face_offsets[i + 1]``
    of the flat arrays; ``anns[i]`` gives that image's record (views).

    Attributes:
        filename (str): The parsed file.
        img_paths (list[str]): ``'<event>/<name>.jpg'`` per image.
        face_offsets (np.ndarray): (num_images + 1, ) int64.
        bboxes (np.ndarray): (num_faces, 4) float32 ``x1 y1 x2 y2``, with
            ``x2 = x1 + w`` and ``y2 = y1 + h``.
        attrs (dict[str, np.ndarray]): The six attributes
            (:data:`WIDER_ATTR_NAMES`), each (num_faces, ) int64.
        line_numbers (np.ndarray): (num_faces, ) int64, 1-based file lines.
        negative_size_lines (np.ndarray): 1-based lines of the faces whose
            width or height was negative (stored as zero-size boxes).
    """

    filename: str
    img_paths: List[str]
    face_offsets: np.ndarray
    bboxes: np.ndarray
    attrs: Dict[str, np.ndarray]
    line_numbers: np.ndarray
    negative_size_lines: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.img_paths)

    num_images = property(__len__, doc='int: Number of images.')

    @property
    def num_faces(self) -> int:
        """int: Number of faces (sum of the per-image counts ``N``)."""
        return int(self.bboxes.shape[0])

    @property
    def num_faces_per_image(self) -> np.ndarray:
        """np.ndarray: (num_images, ) int64."""
        return np.diff(self.face_offsets)

    def ignore_flags(self) -> np.ndarray:
        """np.ndarray: (num_faces, ) bool, True for the faces to ignore in
        training and evaluation (``invalid = 1`` or zero width or height)."""
        b = self.bboxes
        return (self.attrs['invalid'] != 0) | (b[:, 2] <= b[:, 0]) | \
            (b[:, 3] <= b[:, 1])

    def __getitem__(self, idx: int) -> dict:
        """Record of image ``idx``: ``img_path`` (str), ``bboxes`` ((N, 4)
        float32) and one (N, ) int64 array per attribute name."""
        if not -len(self) <= idx < len(self):
            raise IndexError(f'image index {idx} out of range '
                             f'(0..{len(self) - 1})')
        start, end = self.face_offsets[idx % len(self):][:2]
        return dict(
            img_path=self.img_paths[idx],
            bboxes=self.bboxes[start:end],
            **{name: v[start:end]
               for name, v in self.attrs.items()})

    def __iter__(self) -> Iterator[dict]:
        return map(self.__getitem__, range(len(self)))


#: What an image path of the annotation files ends with.
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')


def _decode(filename: str, data: bytes) -> str:
    """UTF-8 text (a byte-order mark dropped), or ValueError naming the
    file, what it seems to be and the line of the first undecodable byte."""
    if data.startswith(b'MATLAB'):
        raise ValueError(
            f'{filename} is a MATLAB .mat file, not a text annotation file: '
            'ann_file must be wider_face_{train,val}_bbx_gt.txt or '
            'wider_face_test_filelist.txt (wider_face_split/); the .mat '
            'files of eval_tools/ground_truth are for the evaluation '
            '(WIDERFaceMetric gt_dir)')
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        line = data.count(b'\n', 0, e.start) + 1
        kind = ('a binary file' if b'\x00' in data[:4096] else
                'not UTF-8 text')
        raise ValueError(
            f'{filename}, line {line}: byte {data[e.start:e.start + 1]!r} '
            f'at offset {e.start} is not UTF-8: the file is {kind}, not a '
            'WIDER FACE annotation file as distributed') from None


def _read_lines(path: PathLike) -> Tuple[str, List[str]]:
    """The absolute file name and its lines, trailing blank lines dropped."""
    filename = osp.abspath(osp.expanduser(str(path)))
    with open(filename, 'rb') as f:
        lines = _decode(filename, f.read()).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return filename, lines


def _check_unique(filename: str, lines: Sequence[str],
                  path_lines: Sequence[int]) -> None:
    """Raise ValueError naming both lines of an image listed twice
    (0-based ``path_lines``). The official files list every image once; a
    second record would split or duplicate one image's faces."""
    seen: Dict[str, int] = {}
    for i in path_lines:
        name = lines[i].strip()
        if name in seen:
            raise ValueError(
                f'{filename}, line {i + 1}: image {name!r} is listed again '
                f'(first on line {seen[name] + 1}); each image must be '
                'listed once')
        seen[name] = i


def _is_number(token: str) -> bool:
    """Whether ``token`` is a finite number."""
    try:
        return math.isfinite(float(token))
    except ValueError:
        return False


def _is_face_line(line: str) -> bool:
    tokens = line.split()
    return len(tokens) == NUM_FIELDS and all(map(_is_number, tokens))


def _bad_face_line(filename: str, lines: Sequence[str],
                   headers: Sequence[Tuple[int, int, int]]) -> Optional[str]:
    """Describe the first face line that is not NUM_FIELDS finite numbers,
    or return None (only called on errors)."""
    for path_idx, first, count in headers:
        for k, line in enumerate(lines[first:first + count]):
            tokens = line.split()
            bad = [f'{n}={t!r}' for n, t in zip(WIDER_FIELD_NAMES, tokens)
                   if not _is_number(t)]
            if len(tokens) != NUM_FIELDS:
                problem = f'{len(tokens)} field(s)'
            elif bad:
                problem = f'non-numeric field {bad[0]}'
            else:
                continue
            hint = (f' (it looks like an image path: the file holds fewer '
                    f'face lines than the {count} declared on line '
                    f'{path_idx + 2})') if len(tokens) == 1 and bad else ''
            return (f'{filename}, line {first + k + 1}: expected a face line '
                    f'of {NUM_FIELDS} numbers ({" ".join(WIDER_FIELD_NAMES)}) '
                    f'for image {lines[path_idx].strip()!r} (face {k + 1} of '
                    f'{count}), got {problem}: {line.strip()!r}{hint}')
    return None


def _walk_headers(filename: str,
                  lines: Sequence[str]) -> List[Tuple[int, int, int]]:
    """``(path line, first face line, N)`` of every image, 0-based.

    A structural error is often the echo of a bad face line before it (fewer
    face lines than ``N``, say): that line is named when there is one.
    """
    headers: List[Tuple[int, int, int]] = []

    def fail(message: str, current: Optional[tuple] = None):
        raise ValueError(
            _bad_face_line(filename, lines, headers + [current or (0, 0, 0)])
            or f'{filename}, line {message}')

    i, num_lines = 0, len(lines)
    while i < num_lines:
        img_path, count_text = lines[i].strip(), ''
        if not img_path:
            fail(f'{i + 1}: expected an image path (event/name.jpg), got an '
                 'empty line')
        try:
            count_text = lines[i + 1].strip()
            count = int(count_text)
        except (IndexError, ValueError):
            count = -1
        if count < 0:
            hint = (f' (line {i + 1} is a face line: the previous image has '
                    'more face lines than its count)'
                    if _is_face_line(lines[i]) else '')
            got = f'got {count_text!r}' if i + 1 < num_lines else \
                'the file ends'
            fail(f'{i + 2}: expected the face count (a non-negative integer) '
                 f'of image {img_path!r} (line {i + 1}), {got}{hint}')
        first = i + 2
        if count == 0 and first < num_lines and _is_face_line(lines[first]):
            first += 1  # the placeholder line of N = 0
        if first + count > num_lines:
            fail(
                f'{i + 2}: image {img_path!r} declares {count} face(s) but '
                f'the file ends after {num_lines - first} face line(s): the '
                'file is truncated', (i, first, count))
        headers.append((i, first, count))
        i = first + count
    return headers


def parse_wider_bbx_gt(path: PathLike,
                       negative_size: str = 'ignore') -> WIDERFaceAnnotations:
    """Parse an official ``wider_face_{train,val}_bbx_gt.txt`` file.

    Args:
        path (str | PathLike): The file, read exactly as distributed.
        negative_size (str): A face with a negative width or height (three in
            the official files): ``'ignore'`` keeps it as a zero-size box at
            ``(x1, y1)`` (hence ignored) and lists its line in
            ``negative_size_lines``; ``'error'`` raises. Defaults to
            ``'ignore'``.

    Returns:
        WIDERFaceAnnotations: Columnar annotations, images without faces
        included.

    Raises:
        ValueError: On a bad count, a face line that is not 10 finite
            numbers, a truncated file, a non-integer attribute or (with
            ``negative_size='error'``) a negative size, naming file and line.
    """
    if negative_size not in ('ignore', 'error'):
        raise ValueError(f"negative_size must be 'ignore' or 'error', got "
                         f'{negative_size!r}')
    filename, lines = _read_lines(path)
    headers = _walk_headers(filename, lines)
    _check_unique(filename, lines, [h[0] for h in headers])
    face_lines = list(
        chain.from_iterable(lines[f:f + n] for _, f, n in headers))
    values = np.zeros((0, NUM_FIELDS), dtype=np.int64)
    for dtype in (np.int64, np.float64) if face_lines else ():
        try:  # float64 only where some number is not an integer
            values = np.loadtxt(
                face_lines, dtype=dtype, comments=None, ndmin=2)
            break
        except ValueError:
            values = None
    # loadtxt skips blank lines and reads nan / inf: check both.
    if values is None or values.shape != (len(face_lines), NUM_FIELDS) or \
            not np.isfinite(values).all():
        raise ValueError(
            _bad_face_line(filename, lines, headers)
            or f'{filename}: the face lines could not be read as numbers')

    path_idx, firsts, counts = np.array(
        headers, dtype=np.int64).reshape(-1, 3).T
    face_offsets = np.concatenate([[0], np.cumsum(counts)])
    line_numbers = np.repeat(firsts - face_offsets[:-1], counts) + \
        np.arange(face_offsets[-1]) + 1

    def check(bad_rows: np.ndarray, expected: str) -> None:
        if bad_rows.size:
            line = line_numbers[bad_rows[0]]
            raise ValueError(f'{filename}, line {line}: expected {expected}, '
                             f'got {lines[line - 1].strip()!r}')

    negative = np.flatnonzero((values[:, 2:4] < 0).any(axis=1))
    if negative_size == 'error':
        check(negative, 'a non-negative width and height')
    attr_values = values[:, 4:]
    check(np.flatnonzero((attr_values % 1 != 0).any(axis=1)),
          f'integer attributes ({" ".join(WIDER_ATTR_NAMES)})')

    bboxes = np.empty((len(values), 4), dtype=np.float32)
    bboxes[:, :2] = values[:, :2]
    # A negative width or height becomes 0: a degenerate, ignored box.
    bboxes[:, 2:] = values[:, :2] + np.maximum(values[:, 2:4], 0)
    return WIDERFaceAnnotations(
        filename=filename,
        img_paths=[lines[k].strip() for k in path_idx.tolist()],
        face_offsets=face_offsets,
        bboxes=bboxes,
        attrs={
            name: attr_values[:, k].astype(np.int64)
            for k, name in enumerate(WIDER_ATTR_NAMES)
        },
        line_numbers=line_numbers,
        negative_size_lines=line_numbers[negative])


def parse_wider_filelist(path: PathLike) -> List[str]:
    """Parse ``wider_face_test_filelist.txt``: the image paths
    (``'<event>/<name>.jpg'``), one per line, blank lines skipped.

    Raises:
        ValueError: If a line holds more than one field.
    """
    filename, lines = _read_lines(path)
    for idx, line in enumerate(lines):
        if len(line.split()) > 1:
            raise ValueError(f'{filename}, line {idx + 1}: expected one image '
                             f'path per line, got {line.strip()!r}')
    _check_unique(filename, lines,
                  [i for i, line in enumerate(lines) if line.strip()])
    return [line.strip() for line in lines if line.strip()]


def _looks_like_image_path(line: str) -> bool:
    tokens = line.split()
    return len(tokens) == 1 and ('/' in tokens[0] or tokens[0].lower(
    ).endswith(IMAGE_SUFFIXES))


def detect_wider_ann_format(path: PathLike) -> str:
    """``'filelist'`` if the second non-blank line of ``path`` is an image
    path (or the file has one), else ``'bbx_gt'``.

    Anything else on line 2 (a count, or a malformed one such as ``12a``)
    means ``bbx_gt``, whose reader then names line 2 if the count is bad.

    Raises:
        ValueError: the file is not UTF-8 text (a ``.mat`` file, say).
    """
    filename = osp.abspath(osp.expanduser(str(path)))
    with open(filename, 'rb') as f:
        head = f.read(1 << 16)
    lines = _decode(filename, head[:head.rfind(b'\n') + 1] or head
                    ).splitlines()
    lines = [line for line in lines if line.strip()]
    if len(lines) < 2:
        return 'filelist'
    return 'filelist' if _looks_like_image_path(lines[1]) else 'bbx_gt'
