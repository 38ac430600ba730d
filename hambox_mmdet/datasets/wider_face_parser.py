# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Readers for the official WIDER FACE text files.

``wider_face_{train,val}_bbx_gt.txt`` holds, per image::

    <event>/<name>.jpg
    <N>
    x1 y1 w h blur expression illumination invalid occlusion pose   # N lines

Quirks handled (all present in the distributed files):

- every face line ends with a trailing space;
- an image without faces is written either as ``N = 0`` followed by one line
  of ten zeros (the placeholder line is consumed, it is not a face; a missing
  placeholder is tolerated), or as ``N = 1`` with a single all-zero box (that
  box is kept as a face; it has zero size, so it is ignored);
- some boxes have ``w`` or ``h`` equal to 0, ``invalid = 1`` marks faces the
  annotators flagged as invalid: both are kept and reported by
  :meth:`WIDERFaceAnnotations.ignore_flags`;
- three faces have a negative width or height (train lines 161871, 177955,
  val line 34471): by default they are kept as zero-size boxes, so ignored.

Parsing is vectorised: the headers are located by walking the counts (one
Python step per image) and all face lines are converted by a single numpy
call; only when that fails is the file scanned line by line, to name the first
bad line. Every error is a :class:`ValueError` that names the file, the
1-based line number and what was expected.
"""
import os
import os.path as osp
import warnings
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

_FACE_LINE_DESC = (f'a face line of {NUM_FIELDS} numbers '
                   f'({" ".join(WIDER_FIELD_NAMES)})')
# Appended to every face line so that one numpy call also checks that every
# line holds exactly NUM_FIELDS numbers (the sentinel lands in column 10).
_INT_SENTINEL = np.iinfo(np.int64).min + 1
_FLOAT_SENTINEL = 'nan'

PathLike = Union[str, os.PathLike]


@dataclass
class WIDERFaceAnnotations:
    """Columnar WIDER FACE annotations of one ``*_bbx_gt.txt`` file.

    Faces of all images are stored in flat arrays; the faces of image ``i``
    are rows ``face_offsets[i]:face_offsets[i + 1]``. Indexing the object
    (``anns[i]``) returns a per-image record (views, no copy).

    Attributes:
        filename (str): The parsed file (used in messages).
        img_paths (list[str]): ``'<event>/<name>.jpg'`` of every image, in
            file order, length ``num_images``.
        face_offsets (np.ndarray): Shape (num_images + 1, ), int64.
        bboxes (np.ndarray): Shape (num_faces, 4), float32, ``x1 y1 x2 y2``
            with ``x2 = x1 + w`` and ``y2 = y1 + h``.
        attrs (dict[str, np.ndarray]): The six attributes
            (:data:`WIDER_ATTR_NAMES`), each of shape (num_faces, ), int64.
        line_numbers (np.ndarray): Shape (num_faces, ), int64, the 1-based
            line number of every face in the file.
        negative_size_lines (np.ndarray): 1-based line numbers of the faces
            whose width or height was negative in the file (stored as
            zero-size boxes, hence ignored).
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

    @property
    def num_images(self) -> int:
        """int: Number of images."""
        return len(self.img_paths)

    @property
    def num_faces(self) -> int:
        """int: Number of faces (sum of the per-image counts ``N``)."""
        return int(self.bboxes.shape[0])

    @property
    def num_faces_per_image(self) -> np.ndarray:
        """np.ndarray: Shape (num_images, ), int64."""
        return np.diff(self.face_offsets)

    def ignore_flags(self) -> np.ndarray:
        """Faces that must be ignored in training and evaluation.

        Returns:
            np.ndarray: Shape (num_faces, ), bool. True where ``invalid = 1``
            or the box has zero width or height.
        """
        return wider_ignore_flags(self.bboxes, self.attrs['invalid'])

    def __getitem__(self, idx: int) -> dict:
        """Record of image ``idx``.

        Returns:
            dict: ``img_path`` (str), ``bboxes`` (np.ndarray, (N, 4) float32)
            and one (N, ) int64 array per attribute name.
        """
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'image index {idx} out of range '
                             f'(0..{len(self) - 1})')
        start, end = self.face_offsets[idx], self.face_offsets[idx + 1]
        record = dict(
            img_path=self.img_paths[idx], bboxes=self.bboxes[start:end])
        for name in WIDER_ATTR_NAMES:
            record[name] = self.attrs[name][start:end]
        return record

    def __iter__(self) -> Iterator[dict]:
        for idx in range(len(self)):
            yield self[idx]


def wider_ignore_flags(bboxes: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """Ignore flags of WIDER FACE boxes.

    Args:
        bboxes (np.ndarray): Shape (N, 4), ``x1 y1 x2 y2``.
        invalid (np.ndarray): Shape (N, ), the ``invalid`` attribute.

    Returns:
        np.ndarray: Shape (N, ), bool; True for invalid faces and boxes with
        zero width or height.
    """
    return ((invalid != 0) | (bboxes[:, 2] <= bboxes[:, 0]) |
            (bboxes[:, 3] <= bboxes[:, 1]))


def _read_lines(path: PathLike) -> Tuple[str, List[str]]:
    """Read a text file into lines, trailing blank lines dropped."""
    filename = osp.abspath(osp.expanduser(str(path)))
    with open(filename, encoding='utf-8-sig') as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return filename, lines


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _is_face_line(line: str) -> bool:
    """Whether ``line`` holds exactly NUM_FIELDS numbers."""
    tokens = line.split()
    return len(tokens) == NUM_FIELDS and all(map(_is_number, tokens))


def _looks_like_image_path(line: str) -> bool:
    text = line.strip()
    return ('/' in text or '.' in text) and not _is_number(text) and \
        len(text.split()) == 1


def _parse_face_values(face_lines: Sequence[str]) -> Optional[np.ndarray]:
    """Convert face lines to a (F, NUM_FIELDS) array in one numpy call.

    Integers (the official files) take a fast int64 path; other numbers fall
    back to float64. A sentinel number appended to each line checks that each
    line holds exactly NUM_FIELDS numbers.

    Returns:
        np.ndarray | None: Shape (F, NUM_FIELDS), int64 or float64, or None
        if a line is malformed (then scan the lines to name it).
    """
    num_faces = len(face_lines)
    if num_faces == 0:
        return np.zeros((0, NUM_FIELDS), dtype=np.int64)
    for dtype, sentinel in ((np.int64, str(_INT_SENTINEL)), (np.float64,
                                                             _FLOAT_SENTINEL)):
        sep = f' {sentinel}\n'
        text = sep.join(face_lines) + sep
        try:
            # `fromstring` in text mode is the fastest numpy text-to-number
            # path; numpy >= 2.3 raises on unparsable data, older versions
            # warn and stop early, which the size check below catches.
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', DeprecationWarning)
                values = np.fromstring(text, dtype=dtype, sep=' ')
        except ValueError:
            continue
        if values.size != num_faces * (NUM_FIELDS + 1):
            # A wrong field count or data numpy could not read to its end.
            if dtype is np.int64:
                continue
            return None
        values = values.reshape(num_faces, NUM_FIELDS + 1)
        last = values[:, NUM_FIELDS]
        aligned = np.isnan(last).all() if dtype is np.float64 else \
            (last == _INT_SENTINEL).all()
        body = values[:, :NUM_FIELDS]
        if dtype is np.float64 and (not aligned
                                    or not np.isfinite(body).all()):
            return None
        if not aligned:
            # Field counts are wrong somewhere: the float pass will not help.
            return None
        return np.ascontiguousarray(body)
    return None


def _find_bad_face_line(
        filename: str, lines: Sequence[str],
        headers: Sequence[Tuple[int, int, int]]) -> Optional[str]:
    """Walk the face lines one by one and describe the first bad one.

    Args:
        filename (str): File name for messages.
        lines (Sequence[str]): All lines of the file.
        headers (Sequence[tuple]): ``(path_line_idx, first_face_idx, count)``
            of every image, 0-based.

    Returns:
        str | None: The error message (file, line, what was expected), or
        None if every face line holds NUM_FIELDS finite numbers.
    """
    for path_idx, first, count in headers:
        img_path = lines[path_idx].strip()
        for k in range(min(count, len(lines) - first)):
            idx = first + k
            line = lines[idx]
            tokens = line.split()
            problem = None
            if len(tokens) != NUM_FIELDS:
                problem = f'{len(tokens)} field(s)'
            else:
                bad = [(name, tok)
                       for name, tok in zip(WIDER_FIELD_NAMES, tokens)
                       if not _is_number(tok) or tok.lower().lstrip('+-') in (
                           'nan', 'inf', 'infinity')]
                if bad:
                    problem = (f'non-numeric field {bad[0][0]}='
                               f'{bad[0][1]!r}')
            if problem is None:
                continue
            hint = ''
            if _looks_like_image_path(line):
                hint = (f' (it looks like an image path: the file holds '
                        f'fewer face lines than the {count} declared on line '
                        f'{path_idx + 2})')
            return (f'{filename}, line {idx + 1}: expected {_FACE_LINE_DESC} '
                    f'for image {img_path!r} (face {k + 1} of {count}), got '
                    f'{problem}: {line.strip()!r}{hint}')
    return None


def parse_wider_bbx_gt(path: PathLike,
                       negative_size: str = 'ignore') -> WIDERFaceAnnotations:
    """Parse an official ``wider_face_{train,val}_bbx_gt.txt`` file.

    Args:
        path (str | PathLike): The file, read exactly as distributed.
        negative_size (str): What to do with a face whose width or height is
            negative. The official files hold three (train lines 161871 and
            177955, val line 34471), so the default ``'ignore'`` keeps such a
            face as a zero-size box at ``(x1, y1)`` (hence ignored) and lists
            its line in ``negative_size_lines``; ``'error'`` raises.
            Defaults to ``'ignore'``.

    Returns:
        WIDERFaceAnnotations: Columnar annotations (``anns[i]`` gives the
        record of image ``i``). Images without faces are kept.

    Raises:
        ValueError: On malformed input (a count line that is not a
            non-negative integer, a non-numeric field, a face line without
            exactly 10 fields, a truncated file, a non-integer attribute, a
            negative width or height if ``negative_size='error'``), naming
            the file, the 1-based line number and what was expected.
    """
    if negative_size not in ('ignore', 'error'):
        raise ValueError(f"negative_size must be 'ignore' or 'error', got "
                         f'{negative_size!r}')
    filename, lines = _read_lines(path)
    num_lines = len(lines)

    img_paths: List[str] = []
    headers: List[Tuple[int, int, int]] = []
    chunks: List[List[str]] = []

    def fail(message: str, current: Optional[Tuple[int, int, int]] = None):
        # A structural error is often the echo of a bad face line before it
        # (e.g. fewer face lines than N): name that line if there is one.
        scanned = headers + ([current] if current else [])
        raise ValueError(
            _find_bad_face_line(filename, lines, scanned) or message)

    i = 0
    while i < num_lines:
        img_path = lines[i].strip()
        if not img_path:
            fail(f'{filename}, line {i + 1}: expected an image path '
                 f'(event/name.jpg), got an empty line')
        if i + 1 >= num_lines:
            fail(f'{filename}, line {i + 2}: unexpected end of file: expected '
                 f'the face count of image {img_path!r} (line {i + 1})')
        count_text = lines[i + 1]
        try:
            count = int(count_text)
        except ValueError:
            hint = ''
            if _is_face_line(lines[i]):
                hint = (' (line {} is a face line: the previous image has '
                        'more face lines than its count)').format(i + 1)
            fail(
                f'{filename}, line {i + 2}: expected the face count (a '
                f'non-negative integer) of image {img_path!r} (line {i + 1}), '
                f'got {count_text.strip()!r}{hint}')
        if count < 0:
            fail(f'{filename}, line {i + 2}: expected the face count (a '
                 f'non-negative integer) of image {img_path!r}, got {count}')
        first = i + 2
        if count == 0 and first < num_lines and _is_face_line(lines[first]):
            # N = 0 is followed by one placeholder line of ten zeros.
            first += 1
        end = first + count
        if end > num_lines:
            fail(
                f'{filename}, line {i + 2}: image {img_path!r} declares '
                f'{count} face(s) but the file ends after '
                f'{num_lines - first} face line(s) (last line {num_lines}): '
                f'the file is truncated', (i, first, count))
        img_paths.append(img_path)
        headers.append((i, first, count))
        if count:
            chunks.append(lines[first:end])
        i = end

    face_lines = list(chain.from_iterable(chunks))
    values = _parse_face_values(face_lines)
    if values is None:
        raise ValueError(
            _find_bad_face_line(filename, lines, headers)
            or f'{filename}: the face lines could not be read as numbers')

    counts = np.fromiter((h[2] for h in headers),
                         dtype=np.int64,
                         count=len(headers))
    face_offsets = np.zeros(len(headers) + 1, dtype=np.int64)
    np.cumsum(counts, out=face_offsets[1:])
    firsts = np.fromiter((h[1] for h in headers),
                         dtype=np.int64,
                         count=len(headers))
    # 1-based line number of every face.
    line_numbers = (
        np.repeat(firsts - face_offsets[:-1], counts) +
        np.arange(face_offsets[-1], dtype=np.int64) + 1)

    wh = values[:, 2:4]
    negative = np.flatnonzero((wh < 0).any(axis=1))
    if negative.size and negative_size == 'error':
        row = int(negative[0])
        raise ValueError(
            f'{filename}, line {line_numbers[row]}: expected a non-negative '
            f'width and height, got w={values[row, 2]:g} '
            f'h={values[row, 3]:g}: {lines[line_numbers[row] - 1].strip()!r}')
    attr_values = values[:, 4:]
    if values.dtype != np.int64:
        fractional = np.flatnonzero((attr_values
                                     != np.floor(attr_values)).any(axis=1))
        if fractional.size:
            row = int(fractional[0])
            raise ValueError(
                f'{filename}, line {line_numbers[row]}: expected integer '
                f'attributes ({" ".join(WIDER_ATTR_NAMES)}), got '
                f'{lines[line_numbers[row] - 1].strip()!r}')

    bboxes = np.empty((values.shape[0], 4), dtype=np.float32)
    bboxes[:, :2] = values[:, :2]
    # A negative width or height becomes 0: a degenerate, ignored box.
    bboxes[:, 2:] = values[:, :2] + np.maximum(values[:, 2:4], 0)
    attr_values = attr_values.astype(np.int64)
    attrs = {
        name: np.ascontiguousarray(attr_values[:, k])
        for k, name in enumerate(WIDER_ATTR_NAMES)
    }
    return WIDERFaceAnnotations(
        filename=filename,
        img_paths=img_paths,
        face_offsets=face_offsets,
        bboxes=bboxes,
        attrs=attrs,
        line_numbers=line_numbers,
        negative_size_lines=line_numbers[negative])


def parse_wider_filelist(path: PathLike) -> List[str]:
    """Parse ``wider_face_test_filelist.txt`` (one image path per line).

    Args:
        path (str | PathLike): The file list.

    Returns:
        list[str]: ``'<event>/<name>.jpg'`` of every image, blank lines
        skipped.

    Raises:
        ValueError: If a line holds more than one field.
    """
    filename, lines = _read_lines(path)
    img_paths = []
    for idx, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        if len(text.split()) != 1:
            raise ValueError(f'{filename}, line {idx + 1}: expected one image '
                             f'path per line, got {text!r}')
        img_paths.append(text)
    return img_paths


def detect_wider_ann_format(path: PathLike) -> str:
    """Tell a ``*_bbx_gt.txt`` file from a plain file list.

    Args:
        path (str | PathLike): An annotation file.

    Returns:
        str: ``'bbx_gt'`` if line 2 is an integer (a face count), else
        ``'filelist'``.
    """
    filename = osp.expanduser(str(path))
    with open(filename, encoding='utf-8-sig') as f:
        f.readline()
        second = f.readline()
    try:
        int(second)
    except ValueError:
        return 'filelist'
    return 'bbx_gt'
