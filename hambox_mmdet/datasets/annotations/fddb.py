# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDB ground truth: the official ``FDDB-folds`` files.

``FDDB-fold-XX.txt`` lists the images of fold XX (paths without extension,
one per line); ``FDDB-fold-XX-ellipseList.txt`` gives, per image, its path,
the number of faces, then one line per face
``major_axis_radius minor_axis_radius angle center_x center_y 1`` (radii are
half-axes in pixels, the angle is in radians). Malformed files fail with the
file and the 1-based line.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from .blocks import iter_blocks, parse_rows

NUM_FOLDS = 10


def fold_list_file(folds_dir: str, fold: int) -> str:
    """``<folds_dir>/FDDB-fold-XX.txt``."""
    return osp.join(folds_dir, f'FDDB-fold-{fold:02d}.txt')


def fold_ellipse_file(folds_dir: str, fold: int) -> str:
    """``<folds_dir>/FDDB-fold-XX-ellipseList.txt``."""
    return osp.join(folds_dir, f'FDDB-fold-{fold:02d}-ellipseList.txt')


def check_folds(folds: Union[int, Sequence[int], None]) -> List[int]:
    """Normalise a fold choice (None = all ten) to a sorted list of ints."""
    if folds is None:
        return list(range(1, NUM_FOLDS + 1))
    if isinstance(folds, (int, np.integer)):
        folds = [int(folds)]
    out = sorted({int(f) for f in folds})
    bad = [f for f in out if not 1 <= f <= NUM_FOLDS]
    if bad or not out:
        raise ValueError(f'FDDB folds must be in 1..{NUM_FOLDS}, got '
                         f'{list(folds)!r}')
    return out


def read_fold_list(path: str) -> List[str]:
    """Image paths of one ``FDDB-fold-XX.txt``, in order (blank lines
    skipped)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'FDDB fold list not found: {path}')
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def _bad_ellipses(ellipses: np.ndarray) -> np.ndarray:
    """(N, ) bool: rows of ``ellipses`` (N, 5) with a NaN or infinite value
    or a negative radius."""
    return (~np.isfinite(ellipses).all(axis=1) |
            (ellipses[:, :2] < 0).any(axis=1))


def read_ellipse_list(path: str) -> Tuple[List[str], List[np.ndarray]]:
    """Read one ``FDDB-fold-XX-ellipseList.txt``.

    Returns:
        tuple: the image paths (M, in file order) and M float64 arrays of
        shape (N_i, 5): ``major_radius minor_radius angle(rad) cx cy``.

    Raises:
        ValueError: naming the file and the 1-based line of the first
            malformed line (a non-integer or negative count, a face line
            without five numbers, a NaN / infinite value or a negative
            radius, a file that ends before the announced faces, an image
            listed twice).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'FDDB ellipse list not found: {path}')
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()

    def parse(rows: List[str], first: int) -> np.ndarray:
        return parse_rows(
            path, rows, first, (5, 6), '6 fields (major_radius minor_radius '
            'angle center_x center_y 1)',
            (_bad_ellipses, 'NaN, infinite value or negative radius:'))

    blocks = list(iter_blocks(path, lines, 'face', parse))
    return [k for k, _ in blocks], [faces for _, faces in blocks]


def ellipse_bboxes(ellipses: np.ndarray) -> np.ndarray:
    """Axis-aligned bounding boxes of ellipses.

    Args:
        ellipses (np.ndarray): (N, 5) ``major minor angle(rad) cx cy``.

    Returns:
        np.ndarray: (N, 4) float64 ``x1 y1 x2 y2`` (the tight box of the
        rotated ellipse; the sign convention of the angle does not matter).
    """
    e = np.asarray(ellipses, dtype=np.float64).reshape(-1, 5)
    a, b, t = e[:, 0], e[:, 1], e[:, 2]
    half_w = np.sqrt((a * np.cos(t))**2 + (b * np.sin(t))**2)
    half_h = np.sqrt((a * np.sin(t))**2 + (b * np.cos(t))**2)
    return np.stack([e[:, 3] - half_w, e[:, 4] - half_h, e[:, 3] + half_w,
                     e[:, 4] + half_h], axis=1)


class FDDBGroundTruth:
    """The faces of the evaluated FDDB folds.

    Args:
        image_keys (Sequence[str]): M image paths as in the fold lists
            (``'2002/08/11/big/img_591'``), in evaluation order.
        ellipses (Sequence[np.ndarray]): M arrays (N_i, 5)
            ``major_radius minor_radius angle(rad) cx cy``.
        folds (Sequence[int], optional): the fold of each image.

    Attributes:
        key_to_index (dict[str, int]): image path -> position.
        num_faces (int): sum of N_i (5,171 for the ten folds).
    """

    def __init__(self,
                 image_keys: Sequence[str],
                 ellipses: Sequence[np.ndarray],
                 folds: Optional[Sequence[int]] = None) -> None:
        self.image_keys = [str(k) for k in image_keys]
        if len(ellipses) != len(self.image_keys):
            raise ValueError(f'{len(self.image_keys)} images but '
                             f'{len(ellipses)} ellipse arrays')
        self.ellipses = [
            np.asarray(e, dtype=np.float64).reshape(-1, 5) for e in ellipses
        ]
        self.key_to_index = {k: i for i, k in enumerate(self.image_keys)}
        if len(self.key_to_index) != len(self.image_keys):
            raise ValueError('FDDB ground truth: an image is listed twice')
        self.folds = (np.zeros(len(self.image_keys), dtype=np.int64)
                      if folds is None else np.asarray(folds, np.int64))
        self.num_faces = int(sum(len(e) for e in self.ellipses))

    def __len__(self) -> int:
        return len(self.image_keys)


def load_ground_truth(folds_dir: str,
                      folds: Union[int, Sequence[int], None] = None,
                      check_lists: bool = True) -> FDDBGroundTruth:
    """Read the ellipse lists of the chosen folds (default: all ten).

    Args:
        folds_dir (str): the ``FDDB-folds`` folder (``~`` expanded).
        folds (int | Sequence[int], optional): folds 1..10. Defaults to
            every fold whose ellipse list is in ``folds_dir`` (all ten in
            the official folder).
        check_lists (bool): also read ``FDDB-fold-XX.txt`` (where present)
            and require the same images in the same order. Defaults to True.

    Returns:
        FDDBGroundTruth: the images of the folds in fold order.
    """
    folds_dir = osp.expanduser(folds_dir)
    keys: List[str] = []
    ellipses: List[np.ndarray] = []
    fold_of: List[int] = []
    if folds is None:
        folds = [
            f for f in range(1, NUM_FOLDS + 1)
            if osp.isfile(fold_ellipse_file(folds_dir, f))
        ]
        if not folds:
            raise FileNotFoundError(
                f'no FDDB-fold-XX-ellipseList.txt in {folds_dir}')
    for fold in check_folds(folds):
        ell_file = fold_ellipse_file(folds_dir, fold)
        paths, ells = read_ellipse_list(ell_file)
        list_file = fold_list_file(folds_dir, fold)
        if check_lists and osp.isfile(list_file):
            listed = read_fold_list(list_file)
            if listed != paths:
                pos = next((n for n, (a, b) in enumerate(zip(listed, paths))
                            if a != b), min(len(listed), len(paths)))
                raise ValueError(
                    f'{list_file} and {ell_file} disagree at image '
                    f'{pos + 1}: {len(listed)} vs {len(paths)} images'
                    + (f', {listed[pos]!r} vs {paths[pos]!r}'
                       if pos < min(len(listed), len(paths)) else ''))
        dup = set(paths) & set(keys)
        if dup:
            raise ValueError(f'{ell_file}: image {sorted(dup)[0]!r} is '
                             'already in another fold')
        keys += paths
        ellipses += ells
        fold_of += [fold] * len(paths)
    return FDDBGroundTruth(keys, ellipses, fold_of)


def read_image_sizes(images_dir: str,
                     image_keys: Sequence[str],
                     suffix: str = '.jpg') -> np.ndarray:
    """Image sizes from the image file headers (the pixels are not decoded).

    Args:
        images_dir (str): ``originalPics`` folder.
        image_keys (Sequence[str]): M paths without extension.
        suffix (str): file extension. Defaults to ``'.jpg'``.

    Returns:
        np.ndarray: (M, 2) int64 ``height width``.
    """
    from PIL import Image
    images_dir = osp.expanduser(images_dir)
    sizes = np.empty((len(image_keys), 2), dtype=np.int64)
    for i, key in enumerate(image_keys):
        path = osp.join(images_dir, key + suffix)
        try:
            with Image.open(path) as img:
                width, height = img.size
        except FileNotFoundError:
            raise FileNotFoundError(f'FDDB image not found: {path}') from None
        except OSError as e:
            raise ValueError(f'{path}: cannot read the image header: '
                             f'{e}') from None
        sizes[i] = (height, width)
    return sizes
