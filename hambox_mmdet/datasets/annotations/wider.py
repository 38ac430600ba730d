# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE evaluation ground truth: the official ``.mat`` files.

``eval_tools/ground_truth`` holds ``wider_face_val.mat`` (the image list,
read by ``read_pred.m``) and ``wider_{easy,medium,hard}_val.mat`` (the same
boxes plus ``gt_list``, the faces that count in each setting, read by
``evaluation.m``).
"""
import os.path as osp
from typing import Dict, List, Mapping, Sequence, Tuple, Union

import numpy as np

SETTINGS = ('easy', 'medium', 'hard')
GT_FILES = {
    'all': 'wider_face_val.mat',
    'easy': 'wider_easy_val.mat',
    'medium': 'wider_medium_val.mat',
    'hard': 'wider_hard_val.mat',
}


def per_image_array(arr, width: int, what: str, layout: str) -> np.ndarray:
    """One image's boxes as a float64 array of shape (N, ``width``).

    Args:
        arr (array-like): the boxes; an empty one becomes (0, ``width``).
        width (int): the number of columns.
        what (str): whose boxes, for the messages
            (``"ground truth of 'e/a'"``).
        layout (str): the columns, for the messages (``'x y w h'``).

    Raises:
        ValueError: on another shape or a NaN / infinite value.
    """
    a = np.asarray(arr, dtype=np.float64)
    if a.size == 0:
        a = a.reshape(0, width)
    if a.ndim != 2 or a.shape[1] != width:
        raise ValueError(f'{what}: expected shape (N, {width}) ({layout}), '
                         f'got {a.shape}')
    if not np.isfinite(a).all():
        raise ValueError(f'{what}: NaN or inf values')
    return a


class WiderFaceGT:
    """WIDER FACE evaluation ground truth.

    Args:
        image_keys (Sequence[str]): M image keys ``'<event>/<image stem>'``,
            in the official order.
        boxes (Sequence[np.ndarray]): M arrays of shape (N_i, 4), the faces
            of each image as ``x y w h``.
        gt_lists (Mapping[str, Sequence[np.ndarray]]): for each setting
            (e.g. ``'easy'``), M arrays of 1-based face indices, the
            official ``gt_list`` (any integer dtype; cast to int64 here).
        int_boxes (bool | Sequence[bool]): whether the boxes of each image
            were stored with an integer class (the official ``.mat`` files
            store ``int32``), which selects MATLAB's integer arithmetic for
            ``iou_arith='auto'``. Defaults to False.

    Attributes:
        image_keys (list[str]): the M keys.
        key_to_index (dict[str, int]): key -> position.
        boxes (list[np.ndarray]): M float64 arrays of shape (N_i, 4).
        gt_lists (dict[str, list[np.ndarray]]): int64 1-based indices.
        kept (dict[str, list[np.ndarray]]): M bool masks of shape (N_i,).
        num_kept (dict[str, np.ndarray]): shape (M,), ``len(gt_list)`` per
            image (what ``count_face`` adds up).
        int_boxes (np.ndarray): shape (M,), bool.
        settings (tuple[str]): the setting names, in order.
    """

    def __init__(self,
                 image_keys: Sequence[str],
                 boxes: Sequence[np.ndarray],
                 gt_lists: Mapping[str, Sequence[np.ndarray]],
                 int_boxes: Union[bool, Sequence[bool]] = False) -> None:
        self.image_keys = [str(k) for k in image_keys]
        num_images = len(self.image_keys)
        self.key_to_index = {k: i for i, k in enumerate(self.image_keys)}
        if len(self.key_to_index) != num_images:
            dup = sorted({k for k in self.image_keys
                          if self.image_keys.count(k) > 1})
            raise ValueError(f'duplicate image keys in the ground truth: '
                             f'{dup[:5]}')
        if len(boxes) != num_images:
            raise ValueError(f'{len(boxes)} box arrays for {num_images} '
                             'images')
        self.boxes = [
            per_image_array(b, 4, f'ground truth of {key!r}', 'x y w h')
            for key, b in zip(self.image_keys, boxes)
        ]
        self.int_boxes = np.broadcast_to(
            np.asarray(int_boxes, dtype=bool), (num_images, )).copy()
        self.settings = tuple(gt_lists)
        self.gt_lists: Dict[str, List[np.ndarray]] = {}
        self.kept: Dict[str, List[np.ndarray]] = {}
        self.num_kept: Dict[str, np.ndarray] = {}
        for setting, lists in gt_lists.items():
            if len(lists) != num_images:
                raise ValueError(f'setting {setting!r}: {len(lists)} '
                                 f'gt_list entries for {num_images} images')
            idx_lists, masks = [], []
            for key, b, idx in zip(self.image_keys, self.boxes, lists):
                # uint8 / uint16 in the official files: cast before any
                # arithmetic (``idx - 1`` on uint8 would wrap around)
                idx = np.asarray(idx).astype(np.int64).reshape(-1)
                if idx.size and (idx.min() < 1 or idx.max() > len(b)):
                    raise ValueError(
                        f'setting {setting!r}, image {key!r}: gt_list index '
                        f'out of range 1..{len(b)}: {idx.min()}..'
                        f'{idx.max()}')
                mask = np.zeros(len(b), dtype=bool)
                mask[idx - 1] = True
                idx_lists.append(idx)
                masks.append(mask)
            self.gt_lists[setting] = idx_lists
            self.kept[setting] = masks
            self.num_kept[setting] = np.array([len(i) for i in idx_lists],
                                              dtype=np.int64)

    def __len__(self) -> int:
        return len(self.image_keys)

    def subset(self, image_keys: Sequence[str]) -> 'WiderFaceGT':
        """A ground truth restricted to ``image_keys`` (in that order)."""
        idx = [self.key_to_index[k] for k in image_keys]
        return WiderFaceGT([self.image_keys[i] for i in idx],
                           [self.boxes[i] for i in idx], {
                               s: [self.gt_lists[s][i] for i in idx]
                               for s in self.settings
                           }, self.int_boxes[idx])


def _mat_field(mat: dict, name: str, path: str) -> np.ndarray:
    if name not in mat:
        raise ValueError(f'{path}: missing field {name!r}')
    return mat[name]


def _cells(arr: np.ndarray) -> list:
    """Elements of a MATLAB cell array as loaded by scipy (column order)."""
    return list(np.asarray(arr, dtype=object).ravel(order='F'))


def _mat_str(x) -> str:
    x = np.asarray(x)
    if x.dtype == object:
        x = np.asarray(x.ravel()[0])
    return str(x.ravel()[0]) if x.size else ''


def _load_mat(path: str, with_gt_list: bool) -> Tuple[list, list, list, list]:
    """Keys, boxes, integer flags and gt_lists (None) of one .mat file."""
    from scipy.io import loadmat
    if not osp.isfile(path):
        raise FileNotFoundError(f'WIDER FACE ground-truth file not found: '
                                f'{path}')
    try:
        mat = loadmat(path)
    except Exception as e:  # scipy raises several types for bad files
        raise ValueError(f'{path}: cannot read the .mat file ({e})') from e
    events = _cells(_mat_field(mat, 'event_list', path))
    files = _cells(_mat_field(mat, 'file_list', path))
    bbx = _cells(_mat_field(mat, 'face_bbx_list', path))
    gtl = _cells(_mat_field(mat, 'gt_list', path)) if with_gt_list else None
    if not (len(events) == len(files) == len(bbx)) or (
            gtl is not None and len(gtl) != len(events)):
        raise ValueError(f'{path}: event_list, file_list, face_bbx_list'
                         f'{", gt_list" if with_gt_list else ""} have '
                         'different numbers of events')
    keys, boxes, int_flags, gt_lists = [], [], [], []
    for e, event in enumerate(events):
        name = _mat_str(event)
        ev_files = _cells(files[e])
        ev_boxes = _cells(bbx[e])
        ev_gt = _cells(gtl[e]) if gtl is not None else None
        if len(ev_boxes) != len(ev_files) or (ev_gt is not None and
                                              len(ev_gt) != len(ev_files)):
            raise ValueError(f'{path}: event {name!r} has {len(ev_files)} '
                             'files but a different number of box / gt_list '
                             'entries')
        for j, f in enumerate(ev_files):
            keys.append(f'{name}/{_mat_str(f)}')
            b = np.asarray(ev_boxes[j])
            int_flags.append(bool(np.issubdtype(b.dtype, np.integer)))
            b = b.astype(np.float64)
            if b.size == 0:
                b = b.reshape(0, 4)
            if b.ndim != 2 or b.shape[1] != 4:
                raise ValueError(f'{path}: face_bbx_list of {keys[-1]!r} has '
                                 f'shape {b.shape}, expected (N, 4)')
            boxes.append(b)
            if ev_gt is not None:
                g = np.asarray(ev_gt[j])
                if g.size and not np.issubdtype(g.dtype, np.number):
                    raise ValueError(f'{path}: gt_list of {keys[-1]!r} is '
                                     f'not numeric ({g.dtype})')
                gt_lists.append(g.astype(np.int64).reshape(-1))
    return keys, boxes, int_flags, gt_lists


def load_ground_truth(gt_dir: str,
                      settings: Sequence[str] = SETTINGS) -> WiderFaceGT:
    """Load the official evaluation ground truth.

    Reads ``wider_face_val.mat`` (the image list, as ``read_pred.m``) and
    ``wider_{easy,medium,hard}_val.mat`` (boxes and ``gt_list``, as
    ``evaluation.m``) from ``gt_dir`` (``eval_tools/ground_truth``).

    Args:
        gt_dir (str): folder with the four .mat files (``~`` expanded).
        settings (Sequence[str]): settings to load. Defaults to all three.

    Returns:
        WiderFaceGT: 3,226 images for the official val set.

    Raises:
        FileNotFoundError: a .mat file is missing (the message names it).
        ValueError: a file cannot be read, lacks a field, or disagrees with
            ``wider_face_val.mat`` on the image list or the boxes.
    """
    gt_dir = osp.expanduser(str(gt_dir))
    base = osp.join(gt_dir, GT_FILES['all'])
    keys, boxes, int_flags, _ = _load_mat(base, with_gt_list=False)
    gt_lists = {}
    for setting in settings:
        if setting not in GT_FILES or setting == 'all':
            raise ValueError(f'unknown WIDER FACE setting {setting!r}')
        path = osp.join(gt_dir, GT_FILES[setting])
        s_keys, s_boxes, _, s_gt = _load_mat(path, with_gt_list=True)
        # evaluation.m pairs predictions and boxes by position: both files
        # must describe the same images, in the same order, with the same
        # boxes
        if s_keys != keys:
            bad = next((a, b) for a, b in zip(s_keys + [None], keys + [None])
                       if a != b)
            raise ValueError(f'{path}: image list differs from {base} '
                             f'(first difference: {bad[0]!r} vs {bad[1]!r})')
        for k, a, b in zip(keys, s_boxes, boxes):
            if not np.array_equal(a, b):
                raise ValueError(f'{path}: face_bbx_list of {k!r} differs '
                                 f'from {base}')
        gt_lists[setting] = s_gt
    try:
        return WiderFaceGT(keys, boxes, gt_lists, int_flags)
    except ValueError as e:
        raise ValueError(f'{gt_dir}: {e}') from e
