# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The official WIDER FACE evaluation: matching, PR curves and AP.

``evaluation.m`` (``image_evaluation``, ``image_pr_info``,
``dataset_pr_info``), ``norm_score.m`` and ``VOCap.m``, vectorised: one
(P, G) overlap matrix per image (:func:`best_overlaps`), shared by the
settings, and the per-threshold counts of all images from one
``np.bincount`` + ``np.cumsum``. The steps are listed in
:mod:`hambox_mmdet.evaluation.wider`.
"""
import logging
import warnings
from typing import List, Mapping, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from .annotations import WiderFaceGT, per_image_array
from .matching import voc_ap_from_curve, wider_thresholds
from .overlap import best_overlaps
from .results import WiderEvalResult, WiderSettingResult

IOU_ARITH_MODES = ('auto', 'int32', 'float')


def _check_preds(
        preds: Mapping[str, np.ndarray], gt: WiderFaceGT
) -> Tuple[List[Optional[np.ndarray]], np.ndarray]:
    """Validate predictions.

    Returns:
        tuple[list, np.ndarray]: M arrays (P_i, 5) or None if absent, and
        (M,) int64, the boxes of negative width or height per image.
    """
    unknown = [k for k in preds if k not in gt.key_to_index]
    if unknown:
        raise ValueError(f'predictions for {len(unknown)} image(s) that are '
                         f'not in the ground truth: {unknown[:5]}'
                         f'{" ..." if len(unknown) > 5 else ""}')
    arrays: List[Optional[np.ndarray]] = [None] * len(gt)
    negative = np.zeros(len(gt), dtype=np.int64)
    for key, arr in preds.items():
        a = per_image_array(arr, 5, f'predictions of {key!r}',
                            'x y w h score')
        i = gt.key_to_index[key]
        # read and scored by the official tool (see .overlap): not an error
        negative[i] = np.count_nonzero((a[:, 2:4] < 0).any(axis=1))
        arrays[i] = a
    return arrays, negative


def evaluate(preds: Mapping[str, np.ndarray],
             gt: WiderFaceGT,
             iou_thr: float = 0.5,
             thresh_num: int = 1000,
             only_present_images: bool = False,
             iou_arith: str = 'auto') -> WiderEvalResult:
    """The official WIDER FACE evaluation.

    The steps are listed in :mod:`hambox_mmdet.evaluation.wider`.

    Work is vectorised per image (one (P, G) overlap matrix per image,
    shared by all settings); the per-threshold counts come from one global
    ``np.bincount`` + ``np.cumsum`` over per-prediction threshold bins.

    Args:
        preds (Mapping[str, np.ndarray]): image key -> (P, 5) array
            ``x y w h score`` (any order; sorted here). An entry with zero
            boxes marks the image as present.
        gt (WiderFaceGT): the ground truth (:func:`load_ground_truth`).
        iou_thr (float): overlap threshold. Defaults to 0.5.
        thresh_num (int): number of score thresholds. Defaults to 1000.
        only_present_images (bool): count the faces of the present images
            only (not comparable with full-val numbers). Defaults to False:
            the faces of missing images count as missed, as officially.
        iou_arith (str): ``'auto'`` (MATLAB's ``int32`` arithmetic for
            ground truth loaded from integer boxes, float64 otherwise),
            ``'int32'`` or ``'float'`` (the Python ports); see
            :mod:`.overlap`. Defaults to ``'auto'``.

    Returns:
        WiderEvalResult: APs, PR curves and counters.

    Raises:
        ValueError: predictions for keys not in ``gt`` (named), bad shapes
            or NaN / inf values. Boxes of negative width or height are no
            error: they are scored as the official tool scores them, with a
            warning (mmengine logger) giving their number.
    """
    if iou_arith not in IOU_ARITH_MODES:
        raise ValueError(f'iou_arith must be one of {IOU_ARITH_MODES}, got '
                         f'{iou_arith!r}')
    arrays, negative = _check_preds(preds, gt)
    negative_keys = [gt.image_keys[i] for i in np.flatnonzero(negative)]
    if negative_keys:
        print_log(
            f'WIDER FACE evaluation: {int(negative.sum())} predicted box(es) '
            f'of negative width or height in {len(negative_keys)} image(s) '
            f'(first: {negative_keys[0]!r}); scored as the official tool '
            'does (x2 = x + w: a false positive, as no face is overlapped '
            'unless both sizes are above -1)',
            logger='current',
            level=logging.WARNING)
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
            ap = voc_ap_from_curve(recall, precision)
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
        score_range=(min_score, max_score),
        num_negative_size=int(negative.sum()),
        negative_size_keys=negative_keys)
