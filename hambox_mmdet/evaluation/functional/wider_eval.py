# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The official WIDER FACE Easy / Medium / Hard evaluation, vectorised.

This module reproduces the MATLAB ``eval_tools`` of WIDER FACE
(``wider_eval.m``, ``read_pred.m``, ``norm_score.m``, ``evaluation.m``,
``boxoverlap.m``, ``VOCap.m``) with numpy only. The steps, and where the
official code has a quirk that is replicated on purpose:

1. Each image's predictions are sorted by score, descending (stable, as
   MATLAB's ``sort(..., 'descend')``).
2. Scores are normalised globally, ``(s - min) / (max - min)``, where
   ``norm_score.m`` starts from ``max_score = 0`` and ``min_score = 1``
   before taking the max / min over all predictions of all images: the
   effective range is ``[min(1, smin), max(0, smax)]``. If that range is
   empty (every score equal to one value in ``[0, 1]``) the official division
   is ``0 / 0``, every normalised score is NaN, no prediction passes any
   threshold and every AP is 0. That is replicated, with a warning.
3. Per setting and image: ``count_face += len(gt_list)``, also for images
   without predictions; images without ground-truth boxes or without
   predictions are skipped for matching.
4. Matching (``image_evaluation``): each prediction takes the single face of
   highest overlap (the first one on ties); if that overlap is
   ``>= iou_thr``, a face outside ``gt_list`` makes the prediction ignored,
   and the first prediction on a kept face recalls it. Nothing is removed
   from the candidates: every prediction is matched independently, which is
   what makes the vectorised form exact.
5. ``image_pr_info``: thresholds ``thr_t = 1 - t / thresh_num`` in float64;
   at each threshold the predictions up to the last one with
   ``score >= thr_t`` count.
6. Sums over images; ``precision = recalled / proposals`` (0 where 0 / 0),
   ``recall = recalled / count_face``.
7. VOC AP: prepend (0, 0), append (1, 0), precision monotone from the right,
   sum of (delta recall) x precision.

Overlaps follow ``boxoverlap.m`` (``x2 = x + w``, +1 pixel on widths,
heights, areas and the intersection, overlap 0 where the intersection width
or height is <= 0). The official ground-truth ``face_bbx_list`` is stored as
MATLAB ``int32``, and MATLAB does arithmetic between an ``int32`` array and
a ``double`` in ``int32``: the prediction's corners are rounded to integers
(half away from zero), ``aarea + barea`` is rounded, and the final
``inter ./ union`` is an integer division rounded to the nearest integer, so
the official "IoU" is ``round(iou)`` in {0, 1, ...} and the best face is the
first face whose rounded overlap is maximal. ``iou_arith='auto'`` (default)
replicates this for ground truth loaded from integer-class boxes and uses
plain float64 overlaps otherwise; ``'int32'`` / ``'float'`` force one mode
(``'float'`` is what the popular Python ports compute).
"""
import os
import os.path as osp
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

SETTINGS = ('easy', 'medium', 'hard')
GT_FILES = {
    'all': 'wider_face_val.mat',
    'easy': 'wider_easy_val.mat',
    'medium': 'wider_medium_val.mat',
    'hard': 'wider_hard_val.mat',
}
IOU_ARITH_MODES = ('auto', 'int32', 'float')

_INT32_MIN = float(np.iinfo(np.int32).min)
_INT32_MAX = float(np.iinfo(np.int32).max)


# ---------------------------------------------------------------------------
# ground truth
# ---------------------------------------------------------------------------
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
        self.boxes = []
        for key, b in zip(self.image_keys, boxes):
            b = np.asarray(b, dtype=np.float64)
            if b.size == 0:
                b = b.reshape(0, 4)
            if b.ndim != 2 or b.shape[1] != 4:
                raise ValueError(f'ground truth of {key!r}: boxes must have '
                                 f'shape (N, 4), got {b.shape}')
            if not np.isfinite(b).all():
                raise ValueError(f'ground truth of {key!r}: non-finite box')
            self.boxes.append(b)
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


def load_wider_gt(gt_dir: str,
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


# ---------------------------------------------------------------------------
# matching
# ---------------------------------------------------------------------------
def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round``: to nearest, halves away from zero (float64 out)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    r = np.floor(a)
    r += (a - r) >= 0.5  # ``a - floor(a)`` is exact in binary floating point
    return np.copysign(r, x)


def _to_int32(x: np.ndarray) -> np.ndarray:
    """A double converted to MATLAB ``int32``: rounded and saturated."""
    return np.clip(matlab_round(x), _INT32_MIN, _INT32_MAX)


def best_overlaps(gt_boxes: np.ndarray, pred_boxes: np.ndarray,
                  int_arith: bool) -> Tuple[np.ndarray, np.ndarray]:
    """Best face and its overlap for every prediction (``boxoverlap.m``).

    Args:
        gt_boxes (np.ndarray): shape (G, 4), ``x y w h`` float64, G > 0.
        pred_boxes (np.ndarray): shape (P, 4), ``x y w h`` float64, with
            ``w, h >= 0``.
        int_arith (bool): replicate MATLAB's arithmetic for ``int32``
            ground truth (see the module docstring).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``best_idx`` (P,) int64, the first
        face of maximal overlap, and ``best_ov`` (P,) float64, its overlap.
    """
    if int_arith:
        gt_boxes = _to_int32(gt_boxes)  # a no-op for int32 ground truth
    gx1, gy1 = gt_boxes[:, 0], gt_boxes[:, 1]
    gx2 = gx1 + gt_boxes[:, 2]
    gy2 = gy1 + gt_boxes[:, 3]
    px1, py1 = pred_boxes[:, 0], pred_boxes[:, 1]
    px2 = px1 + pred_boxes[:, 2]
    py2 = py1 + pred_boxes[:, 3]
    # the gt area is computed from the corners, as in boxoverlap.m
    aarea = (gx2 - gx1 + 1) * (gy2 - gy1 + 1)  # (G,)
    barea = (px2 - px1 + 1) * (py2 - py1 + 1)  # (P,), always double
    if int_arith:
        # max(int32, double) and min(int32, double) return int32: the
        # prediction's corner is rounded (gt corners are integers already)
        px1, py1, px2, py2 = (_to_int32(v) for v in (px1, py1, px2, py2))
    x1 = np.maximum(px1[:, None], gx1[None, :])  # (P, G)
    y1 = np.maximum(py1[:, None], gy1[None, :])
    x2 = np.minimum(px2[:, None], gx2[None, :])
    y2 = np.minimum(py2[:, None], gy2[None, :])
    w = x2 - x1 + 1
    h = y2 - y1 + 1
    inter = w * h
    union = barea[:, None] + aarea[None, :]
    invalid = (w <= 0) | (h <= 0)
    # Only entries with w > 0 and h > 0 matter (the others are set to 0);
    # there 0 < w <= gt w + 1 and 0 < h <= gt h + 1, so 0 < inter <= aarea,
    # and with prediction sizes >= 0, barea >= 1: union >= 1, no division
    # by zero.
    if int_arith:
        # int32 + double -> int32. On the entries that matter the value is
        # >= 2, where floor(x + 0.5) is exactly MATLAB's round; saturation
        # as int32 conversion does
        union = np.minimum(np.floor(union + 0.5), _INT32_MAX)
    union -= inter
    with np.errstate(divide='ignore', invalid='ignore'):
        ov = inter / union
        if int_arith:
            # int32 ./ int32 rounds the quotient to the nearest integer. A
            # quotient p / q of int32 values >= 0 is either a half-integer
            # or at least 2^-32 away from one, so floor(x + 0.5) is exact
            ov = np.floor(ov + 0.5)
    ov[invalid] = 0.0
    best_idx = ov.argmax(axis=1)
    best_ov = np.take_along_axis(ov, best_idx[:, None], axis=1)[:, 0]
    return best_idx, best_ov


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOC AP of ``VOCap.m``.

    Prepends (recall 0, precision 0), appends (1, 0), makes precision
    monotone from the right with MATLAB's ``max`` (NaN ignored, ``np.fmax``)
    and sums ``delta recall x precision`` over the points where recall
    changes.

    Args:
        recall (np.ndarray): shape (T,).
        precision (np.ndarray): shape (T,).

    Returns:
        float: the AP.
    """
    mrec = np.concatenate(([0.0], np.asarray(recall, np.float64), [1.0]))
    mpre = np.concatenate(([0.0], np.asarray(precision, np.float64), [0.0]))
    mpre = np.fmax.accumulate(mpre[::-1])[::-1]
    i = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[i] - mrec[i - 1]) * mpre[i]))


def wider_thresholds(thresh_num: int = 1000) -> np.ndarray:
    """``thr_t = 1 - t / thresh_num`` for t = 1..thresh_num, float64 (T,)."""
    t = np.arange(1, thresh_num + 1, dtype=np.float64)
    return 1 - t / thresh_num


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------
@dataclass
class WiderSettingResult:
    """Result of one setting.

    Attributes:
        ap (float): VOC AP in [0, 1] (NaN when ``count_face`` is 0, as the
            official ``0 / 0`` recall).
        precision (np.ndarray): (T,) per threshold, 0 where no proposal.
        recall (np.ndarray): (T,) per threshold.
        proposals (np.ndarray): (T,) int64, non-ignored predictions.
        recalled (np.ndarray): (T,) int64, recalled kept faces.
        count_face (int): kept faces counted (``sum len(gt_list)``).
    """
    ap: float
    precision: np.ndarray
    recall: np.ndarray
    proposals: np.ndarray
    recalled: np.ndarray
    count_face: int


@dataclass
class WiderEvalResult:
    """Result of :func:`evaluate_wider`.

    Attributes:
        settings (dict[str, WiderSettingResult]): per setting.
        thresholds (np.ndarray): (T,) the score thresholds, descending.
        num_images (int): images of the ground truth.
        num_present_images (int): images with a prediction entry (an entry
            with zero boxes counts).
        num_missing_images (int): images without a prediction entry.
        num_images_with_predictions (int): images with at least one box.
        num_predictions (int): boxes over all images.
        missing_keys (list[str]): keys of the missing images.
        only_present_images (bool): whether ``count_face`` covers only the
            present images.
        iou_arith (str): the overlap arithmetic requested.
        score_range (tuple[float, float]): ``(min_score, max_score)`` of the
            global normalisation.
    """
    settings: Dict[str, WiderSettingResult]
    thresholds: np.ndarray
    num_images: int
    num_present_images: int
    num_missing_images: int
    num_images_with_predictions: int
    num_predictions: int
    missing_keys: List[str] = field(default_factory=list)
    only_present_images: bool = False
    iou_arith: str = 'auto'
    score_range: Tuple[float, float] = (1.0, 0.0)

    @property
    def aps(self) -> Dict[str, float]:
        """``{setting: AP}``."""
        return {s: r.ap for s, r in self.settings.items()}


def _check_preds(preds: Mapping[str, np.ndarray],
                 gt: WiderFaceGT) -> List[Optional[np.ndarray]]:
    """Validate predictions; returns M arrays (P_i, 5) or None if absent."""
    unknown = [k for k in preds if k not in gt.key_to_index]
    if unknown:
        raise ValueError(f'predictions for {len(unknown)} image(s) that are '
                         f'not in the ground truth: {unknown[:5]}'
                         f'{" ..." if len(unknown) > 5 else ""}')
    arrays: List[Optional[np.ndarray]] = [None] * len(gt)
    for key, arr in preds.items():
        a = np.asarray(arr, dtype=np.float64)
        if a.size == 0:
            a = a.reshape(0, 5)
        if a.ndim != 2 or a.shape[1] != 5:
            raise ValueError(f'predictions of {key!r}: expected shape (P, 5) '
                             f'(x y w h score), got {a.shape}')
        if not np.isfinite(a).all():
            raise ValueError(f'predictions of {key!r}: NaN or inf values')
        if (a[:, 2:4] < 0).any():
            raise ValueError(f'predictions of {key!r}: negative width or '
                             'height')
        arrays[gt.key_to_index[key]] = a
    return arrays


def evaluate_wider(preds: Mapping[str, np.ndarray],
                   gt: WiderFaceGT,
                   iou_thr: float = 0.5,
                   thresh_num: int = 1000,
                   only_present_images: bool = False,
                   iou_arith: str = 'auto') -> WiderEvalResult:
    """The official WIDER FACE evaluation (see the module docstring).

    Work is vectorised per image (one (P, G) overlap matrix per image,
    shared by all settings); the per-threshold counts come from one global
    ``np.bincount`` + ``np.cumsum`` over per-prediction threshold bins.

    Args:
        preds (Mapping[str, np.ndarray]): image key -> (P, 5) array
            ``x y w h score`` (any order; sorted here). An entry with zero
            boxes marks the image as present.
        gt (WiderFaceGT): the ground truth (:func:`load_wider_gt`).
        iou_thr (float): overlap threshold. Defaults to 0.5.
        thresh_num (int): number of score thresholds. Defaults to 1000.
        only_present_images (bool): count the faces of the present images
            only (not comparable with full-val numbers). Defaults to False:
            the faces of missing images count as missed, as officially.
        iou_arith (str): ``'auto'``, ``'int32'`` or ``'float'`` (see the
            module docstring). Defaults to ``'auto'``.

    Returns:
        WiderEvalResult: APs, PR curves and counters.

    Raises:
        ValueError: predictions for keys not in ``gt`` (named), bad shapes,
            NaN / inf values or negative sizes.
    """
    if iou_arith not in IOU_ARITH_MODES:
        raise ValueError(f'iou_arith must be one of {IOU_ARITH_MODES}, got '
                         f'{iou_arith!r}')
    arrays = _check_preds(preds, gt)
    num_images = len(gt)
    present = np.array([a is not None for a in arrays], dtype=bool)
    num_pred = np.array([0 if a is None else len(a) for a in arrays],
                        dtype=np.int64)
    if iou_arith == 'auto':
        int_flags = gt.int_boxes
    else:
        int_flags = np.full(num_images, iou_arith == 'int32')

    # global score normalisation (norm_score.m: max_score = 0, min_score = 1)
    min_score, max_score = 1.0, 0.0
    for a in arrays:
        if a is not None and len(a):
            min_score = min(min_score, float(a[:, 4].min()))
            max_score = max(max_score, float(a[:, 4].max()))

    # per-image matching, shared by the settings
    face_offsets = np.zeros(num_images + 1, dtype=np.int64)
    np.cumsum([len(b) for b in gt.boxes], out=face_offsets[1:])
    scores, matched, faces, segment = [], [], [], []
    for i in np.flatnonzero(num_pred > 0):
        if len(gt.boxes[i]) == 0:
            continue
        a = arrays[i]
        a = a[np.argsort(-a[:, 4], kind='stable')]
        best_idx, best_ov = best_overlaps(gt.boxes[i], a[:, :4],
                                          bool(int_flags[i]))
        scores.append(a[:, 4])
        matched.append(best_ov >= iou_thr)
        faces.append(best_idx + face_offsets[i])
        segment.append(np.full(len(a), len(segment), dtype=np.int64))
    if scores:
        scores = np.concatenate(scores)
        matched = np.concatenate(matched)
        faces = np.concatenate(faces)
        segment = np.concatenate(segment)
    else:
        scores = np.zeros(0)
        matched = np.zeros(0, dtype=bool)
        faces = segment = np.zeros(0, dtype=np.int64)

    if max_score == min_score:
        warnings.warn(
            'WIDER FACE evaluation: every prediction has the same score '
            f'({max_score!r}); the official normalisation divides 0 by 0, '
            'so every prediction drops out and every AP is 0. Give the '
            'predictions distinct scores.',
            stacklevel=2)
        norm = np.full(len(scores), np.nan)
    else:
        with np.errstate(over='ignore', invalid='ignore'):
            norm = (scores - min_score) / (max_score - min_score)

    # threshold bin of each prediction: it counts at threshold index k
    # (0-based) iff norm >= thr[k]; thr is descending, so iff k >= bin
    thresholds = wider_thresholds(thresh_num)
    bins = thresh_num - np.searchsorted(
        thresholds[::-1], norm, side='right').astype(np.int64)
    bins[np.isnan(norm)] = thresh_num  # NaN >= thr is false: never counted
    # image_pr_info counts everything up to the *last* prediction passing a
    # threshold: a suffix minimum per image (identical to the plain bins
    # when the normalised scores are sorted, i.e. always but for overflow)
    shift = segment * (thresh_num + 1)
    bins = np.minimum.accumulate((bins + shift)[::-1])[::-1] - shift

    if only_present_images:
        counted = present
    else:
        counted = np.ones(num_images, dtype=bool)
    settings = {}
    for setting in gt.settings:
        kept_all = (np.concatenate(gt.kept[setting])
                    if face_offsets[-1] else np.zeros(0, dtype=bool))
        kept = kept_all[faces]
        proposal = ~(matched & ~kept)
        hit = np.flatnonzero(matched & kept)
        _, first = np.unique(faces[hit], return_index=True)
        first_hit = hit[first]
        proposals = np.cumsum(
            np.bincount(bins[proposal],
                        minlength=thresh_num + 1)[:thresh_num])
        recalled = np.cumsum(
            np.bincount(bins[first_hit],
                        minlength=thresh_num + 1)[:thresh_num])
        count_face = int(gt.num_kept[setting][counted].sum())
        # 0 / 0 precision (no proposal above a threshold) is set to 0: it
        # only happens where recalled = 0, i.e. recall 0, a point where
        # recall does not change; and MATLAB's max in VOCap ignores the NaN
        # it produces there, so the monotone precision and the AP are the
        # same as the official ones.
        precision = np.divide(
            recalled,
            proposals,
            out=np.zeros(thresh_num),
            where=proposals > 0)
        if count_face > 0:
            recall = recalled / count_face
            ap = voc_ap(recall, precision)
        else:
            warnings.warn(
                f'WIDER FACE evaluation: no face to detect in setting '
                f'{setting!r} (count_face = 0); AP is undefined (NaN, as the '
                'official 0 / 0 recall)',
                stacklevel=2)
            recall = np.zeros(thresh_num)
            ap = float('nan')
        settings[setting] = WiderSettingResult(
            ap=ap,
            precision=precision,
            recall=recall,
            proposals=proposals,
            recalled=recalled,
            count_face=count_face)

    missing = [gt.image_keys[i] for i in np.flatnonzero(~present)]
    return WiderEvalResult(
        settings=settings,
        thresholds=thresholds,
        num_images=num_images,
        num_present_images=int(present.sum()),
        num_missing_images=len(missing),
        num_images_with_predictions=int((num_pred > 0).sum()),
        num_predictions=int(num_pred.sum()),
        missing_keys=missing,
        only_present_images=only_present_images,
        iou_arith=iou_arith,
        score_range=(min_score, max_score))


# ---------------------------------------------------------------------------
# submission files
# ---------------------------------------------------------------------------
def _pred_path(pred_dir: str, key: str) -> str:
    event, stem = key.split('/', 1)
    return osp.join(pred_dir, event, stem + '.txt')


def _scan_box_lines(path: str, box_lines: List[str]) -> np.ndarray:
    """Slow path: parse box lines one by one, naming the first bad line."""
    out = np.empty((len(box_lines), 5), dtype=np.float64)
    for j, line in enumerate(box_lines):
        fields = line.split()
        if len(fields) != 5:
            raise ValueError(f'{path}: line {j + 3}: expected 5 fields '
                             f'(x y w h score), got {len(fields)}')
        try:
            out[j] = [float(f) for f in fields]
        except ValueError:
            raise ValueError(f'{path}: line {j + 3}: non-numeric field in '
                             f'{line.strip()!r}') from None
    return out


def _parse_pred_file(path: str) -> np.ndarray:
    """One submission file -> (N, 5) float64 ``x y w h score``."""
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines()
    if len(lines) < 2:
        raise ValueError(f'{path}: line {len(lines) + 1}: missing; expected '
                         'the image name on line 1 and the box count on '
                         'line 2')
    try:
        num = int(lines[1].strip())
    except ValueError:
        raise ValueError(f'{path}: line 2: box count is not an integer: '
                         f'{lines[1].strip()!r}') from None
    if num < 0:
        raise ValueError(f'{path}: line 2: negative box count {num}')
    box_lines = lines[2:2 + num]
    if len(box_lines) < num:
        raise ValueError(f'{path}: line {len(lines) + 1}: missing; line 2 '
                         f'announces {num} boxes, the file has '
                         f'{len(box_lines)} box lines')
    boxes = np.zeros((0, 5))
    if num:
        try:
            # fast path: one numpy call for the whole block
            boxes = np.loadtxt(box_lines, dtype=np.float64, comments=None,
                               ndmin=2)
        except ValueError:
            boxes = None
        if boxes is None or boxes.shape != (num, 5):
            # a non-numeric field, a blank line or a wrong number of fields
            # somewhere: find the first bad line
            boxes = _scan_box_lines(path, box_lines)
    for j in range(2 + num, len(lines)):
        if lines[j].strip():
            raise ValueError(f'{path}: line {j + 1}: unexpected content after '
                             f'the {num} boxes announced on line 2')
    if num == 0:
        return boxes
    bad = ~np.isfinite(boxes).all(axis=1)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(f'{path}: line {j + 3}: NaN or inf value in '
                         f'{box_lines[j].strip()!r}')
    bad = (boxes[:, 2:4] < 0).any(axis=1)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(f'{path}: line {j + 3}: negative width or height '
                         f'in {box_lines[j].strip()!r}')
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
            non-blank lines, NaN / inf, negative size), naming the file and
            the 1-based line.
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


# ---------------------------------------------------------------------------
# plotting
# ---------------------------------------------------------------------------
def plot_pr_curves(result: WiderEvalResult,
                   out_png: str,
                   title: str = 'WIDER FACE val') -> None:
    """Save the precision-recall curves of the settings to a PNG.

    Uses matplotlib's Agg canvas directly (no pyplot, no global backend
    change).

    Args:
        result (WiderEvalResult): output of :func:`evaluate_wider`.
        out_png (str): output path.
        title (str): figure title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for setting, r in result.settings.items():
        ax.plot(r.recall, r.precision, label=f'{setting}: AP {r.ap:.4f}')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel('recall')
    ax.set_ylabel('precision')
    if result.only_present_images:
        title += f' ({result.num_present_images} present images only)'
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc='lower left')
    out_dir = osp.dirname(osp.abspath(out_png))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(out_png, dpi=100)
