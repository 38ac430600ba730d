# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face ground truth: the ``.mat`` files of the Mathias et al.
(ECCV 2014) evaluation toolkit.

Layout (``scipy.io.loadmat``): a variable ``Annotations`` of shape (N, 1),
one struct per image with the fields

- ``imgname``: the image file name, e.g. ``'5002723411.jpg'``;
- ``imgsize``: ``(width, height, channels)`` of the image (the shipped
  files store the width first: every face fits ``x2 <= width``);
- ``objects``: (K, 6) integers ``x1 y1 x2 y2 0 ignore`` (inclusive pixel
  corners; the toolkit also reads (K, 4) rows, as ``ignore = 0``);
- ``flags``: not used by the toolkit.

A face is *ignored* (neither found nor missed) where its ``ignore`` flag is
set, or where its width ``|x2 - x1|`` or height ``|y2 - y1|`` is under the
toolkit's minimum (30 px by default; no +1 in that rule).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

#: The toolkit's default minimum face width and height (``--minw/--minh``).
MIN_FACE_SIZE = 30


def image_key(name: str) -> str:
    """The toolkit's image key: the base name up to its first dot.

    ``'.../2008_002251.jpg'`` and ``'2008_002251'`` both give
    ``'2008_002251'``.
    """
    return str(name).replace('\\', '/').split('/')[-1].split('.')[0]


def ignore_by_size(boxes: np.ndarray,
                   min_size: Union[int, Tuple[int, int]] = MIN_FACE_SIZE
                   ) -> np.ndarray:
    """The toolkit's small-face rule.

    Args:
        boxes (np.ndarray): (K, 4) ``x1 y1 x2 y2``.
        min_size (int | tuple[int, int]): minimum width and height (one
            value for both). Defaults to 30.

    Returns:
        np.ndarray: (K, ) bool, True where ``|x2 - x1| < min_w`` or
        ``|y2 - y1| < min_h``.
    """
    min_w, min_h = (min_size, min_size) if np.isscalar(min_size) \
        else tuple(min_size)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return (np.abs(boxes[:, 2] - boxes[:, 0]) < min_w) | \
        (np.abs(boxes[:, 3] - boxes[:, 1]) < min_h)


@dataclass
class FaceEvalGT:
    """The faces of one AFW / PASCAL Face annotation file.

    Attributes:
        ann_file (str): the file read.
        image_names (list[str]): N image file names, as in the file.
        image_keys (list[str]): N keys (:func:`image_key`), all distinct.
        image_sizes (np.ndarray): (N, 2) int64 ``width height``.
        face_offsets (np.ndarray): (N + 1, ) int64; the faces of image ``i``
            are ``face_offsets[i]:face_offsets[i + 1]``.
        boxes (np.ndarray): (M, 4) float64 ``x1 y1 x2 y2`` (as annotated).
        ignore_flags (np.ndarray): (M, ) bool, the file's ``ignore`` flags.
        ignore (np.ndarray): (M, ) bool, the faces that count as ignored:
            ``ignore_flags`` or smaller than ``min_size``.
        min_size (tuple[int, int]): minimum width and height applied.
    """

    ann_file: str
    image_names: List[str]
    image_keys: List[str]
    image_sizes: np.ndarray
    face_offsets: np.ndarray
    boxes: np.ndarray
    ignore_flags: np.ndarray
    ignore: np.ndarray
    min_size: Tuple[int, int]

    def __len__(self) -> int:
        return len(self.image_keys)

    @property
    def num_faces(self) -> int:
        """All faces, ignored ones included."""
        return int(len(self.boxes))

    @property
    def num_counted(self) -> int:
        """The faces that are not ignored (the recall's denominator)."""
        return int((~self.ignore).sum())

    @property
    def face_image(self) -> np.ndarray:
        """(M, ) int64: the image index of every face."""
        return np.repeat(
            np.arange(len(self), dtype=np.int64), np.diff(self.face_offsets))

    def faces_of(self, idx: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(boxes (K, 4), ignore (K, ))`` of image ``idx``."""
        start, end = self.face_offsets[idx], self.face_offsets[idx + 1]
        return self.boxes[start:end], self.ignore[start:end]


def image_indices(gt: FaceEvalGT, keys: Sequence[str]) -> np.ndarray:
    """(D, ) int64: the ground-truth image of each key, -1 if absent."""
    uniq, inverse = np.unique(np.asarray(keys, dtype=str),
                              return_inverse=True)
    lookup = {k: i for i, k in enumerate(gt.image_keys)}
    table = np.array([lookup.get(k, -1) for k in uniq.tolist()],
                     dtype=np.int64)
    return table[inverse.reshape(-1)] if len(uniq) else \
        np.zeros(0, dtype=np.int64)


def _field(entry: np.ndarray, name: str, where: str) -> np.ndarray:
    try:
        return np.asarray(entry[name])
    except (ValueError, KeyError, IndexError):
        raise ValueError(f'{where}: no field {name!r}') from None


def _numbers(value: np.ndarray, where: str, field: str) -> np.ndarray:
    if value.dtype == object or value.dtype.kind not in 'iufb':
        raise ValueError(f'{where}: field {field!r} is not numeric '
                         f'(dtype {value.dtype})')
    value = value.astype(np.float64)
    if not np.isfinite(value).all():
        raise ValueError(f'{where}: field {field!r} holds NaN or Inf')
    return value


def load_ground_truth(ann_file: Union[str, Path],
                      min_size: Union[int, Tuple[int, int]] = MIN_FACE_SIZE
                      ) -> FaceEvalGT:
    """Read an AFW / PASCAL Face annotation file of the toolkit.

    Args:
        ann_file (str | Path): e.g. ``new_annotations_AFW.mat`` or
            ``Annotations_Face_PASCALLayout_large_fixed.mat``.
        min_size (int | tuple[int, int]): faces narrower or lower than this
            are ignored. Defaults to 30 (the toolkit's default).

    Returns:
        FaceEvalGT: the images and faces, in the file's order.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a MATLAB file, no ``Annotations`` variable, or an
            entry with a missing or malformed field (the message names the
            file, the entry and the field).
    """
    from scipy.io import loadmat
    ann_file = str(ann_file)
    if not Path(ann_file).is_file():
        raise FileNotFoundError(f'{ann_file}: no such annotation file')
    try:
        mat = loadmat(ann_file)
    except Exception as e:  # scipy raises several types for a bad file
        raise ValueError(f'{ann_file}: not a readable MATLAB .mat file '
                         f'({type(e).__name__}: {e})') from None
    if 'Annotations' not in mat:
        found = sorted(k for k in mat if not k.startswith('__'))
        raise ValueError(f'{ann_file}: no variable "Annotations" (found '
                         f'{found})')
    anns = mat['Annotations'].reshape(-1)
    if anns.dtype.names is None:
        raise ValueError(f'{ann_file}: "Annotations" is not a struct array')
    names, keys, sizes, boxes, flags = [], [], [], [], []
    counts = np.zeros(len(anns), dtype=np.int64)
    for i, entry in enumerate(anns):
        where = f'{ann_file}: Annotations({i + 1})'
        name = _field(entry, 'imgname', where).reshape(-1)
        if name.size != 1 or not isinstance(name[0], str) or not name[0]:
            raise ValueError(f'{where}: field \'imgname\' is not a file '
                             'name')
        name = str(name[0])
        where = f'{where} ({name})'
        size = _numbers(_field(entry, 'imgsize', where), where, 'imgsize')
        size = size.reshape(-1)
        if size.size < 2 or (size[:2] <= 0).any():
            raise ValueError(f'{where}: field \'imgsize\' should be '
                             f'(width, height, channels), got {size.tolist()}')
        objects = _field(entry, 'objects', where)
        if objects.size == 0:
            objects = np.zeros((0, 6))
        objects = _numbers(objects, where, 'objects')
        if objects.ndim != 2 or objects.shape[1] not in (4, 6):
            raise ValueError(f'{where}: field \'objects\' should be K x 6 '
                             f'(x1 y1 x2 y2 0 ignore), got shape '
                             f'{objects.shape}')
        names.append(name)
        keys.append(image_key(name))
        sizes.append(size[:2])
        boxes.append(objects[:, :4])
        flags.append(objects[:, 5] != 0 if objects.shape[1] == 6 else
                     np.zeros(len(objects), dtype=bool))
        counts[i] = len(objects)
    if len(set(keys)) != len(keys):
        seen = set()
        dup = next(k for k in keys if k in seen or seen.add(k))
        raise ValueError(f'{ann_file}: two entries have the image key '
                         f'{dup!r}; detections could not be told apart')
    boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4))
    flags = np.concatenate(flags) if flags else np.zeros(0, dtype=bool)
    min_size = (min_size, min_size) if np.isscalar(min_size) \
        else tuple(min_size)
    return FaceEvalGT(
        ann_file=ann_file,
        image_names=names,
        image_keys=keys,
        image_sizes=np.asarray(sizes, dtype=np.int64).reshape(-1, 2),
        face_offsets=np.concatenate([[0], np.cumsum(counts)]),
        boxes=boxes,
        ignore_flags=flags,
        ignore=flags | ignore_by_size(boxes, min_size),
        min_size=min_size)


def write_ground_truth(ann_file: Union[str, Path],
                       image_names: Sequence[str],
                       image_sizes: np.ndarray,
                       boxes: Sequence[np.ndarray],
                       ignore_flags: Optional[Sequence[np.ndarray]] = None
                       ) -> None:
    """Write an annotation file in the toolkit's layout (as the shipped
    AFW / PASCAL files: ``objects`` K x 6 ``x1 y1 x2 y2 0 ignore``).

    Args:
        ann_file (str | Path): the ``.mat`` file (its folder is created).
        image_names (sequence[str]): N image file names.
        image_sizes (np.ndarray): (N, 2) ``width height``.
        boxes (sequence[np.ndarray]): N arrays (K_i, 4) ``x1 y1 x2 y2``,
            integers.
        ignore_flags (sequence[np.ndarray], optional): N arrays (K_i, ) of
            0 / 1. Defaults to None (all 0).
    """
    from scipy.io import savemat
    num = len(image_names)
    sizes = np.asarray(image_sizes, dtype=np.int64).reshape(num, 2)
    entries = np.empty((num, 1), dtype=[('imgname', 'O'), ('imgsize', 'O'),
                                        ('objects', 'O'), ('flags', 'O')])
    for i in range(num):
        box = np.asarray(boxes[i]).reshape(-1, 4)
        flag = np.zeros(len(box)) if ignore_flags is None else \
            np.asarray(ignore_flags[i]).reshape(-1)
        objects = np.zeros((len(box), 6), dtype=np.int64)
        objects[:, :4] = np.round(box)
        objects[:, 5] = flag != 0
        entries[i, 0] = (np.array([str(image_names[i])]),
                         np.array([[sizes[i, 0]], [sizes[i, 1]], [3]]),
                         objects, np.zeros((1, 1), dtype=np.int64))
    Path(ann_file).parent.mkdir(parents=True, exist_ok=True)
    savemat(str(ann_file), {'Annotations': entries})
