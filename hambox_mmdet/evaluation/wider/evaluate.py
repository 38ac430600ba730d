# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The official WIDER FACE evaluation entry point, :func:`evaluate`, and its
steps.

``evaluation.m`` (``image_evaluation``, ``image_pr_info``,
``dataset_pr_info``), ``norm_score.m`` and ``VOCap.m``, vectorised: one
(P, G) overlap matrix per image, shared by the settings
(:func:`.matching.match_images`), and the per-threshold counts of all
images from one ``np.bincount`` + ``np.cumsum``
(:func:`.matching.threshold_bins`, :func:`setting_counts`). The steps are
listed in :mod:`hambox_mmdet.evaluation.wider`.
"""
import logging
import warnings
from typing import List, Mapping, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from .annotations import WiderFaceGT, per_image_array
from .matching import (ImageMatches, match_images, threshold_bins,
                       voc_ap_from_curve, wider_thresholds)
from .results import WiderEvalResult, WiderSettingResult

IOU_ARITH_MODES = ('auto', 'int32', 'float')


def check_predictions(
        preds: Mapping[str, np.ndarray], gt: WiderFaceGT
) -> Tuple[List[Optional[np.ndarray]], np.ndarray]:
    """Validate the predictions and align them with the ground truth.

    Args:
        preds (Mapping[str, np.ndarray]): image key -> (P, 5)
            ``x y w h score``.
        gt (WiderFaceGT): the ground truth.

    Returns:
        tuple[list, np.ndarray]: M arrays (P_i, 5) float64 in ``gt``'s
        order, None where an image has no entry, and (M,) int64, the boxes
        of negative width or height per image.

    Raises:
        ValueError: keys not in ``gt`` (the first five named), a bad shape
            or NaN / inf values.
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


def warn_negative_sizes(negative: np.ndarray, gt: WiderFaceGT) -> List[str]:
    """Log (mmengine logger, warning) how many boxes of negative width or
    height there are; they are scored as the official tool scores them.

    Args:
        negative (np.ndarray): (M,) int64 from :func:`check_predictions`.
        gt (WiderFaceGT): the ground truth.

    Returns:
        list[str]: the keys of the images that have such boxes.
    """
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
    return negative_keys


def overlap_arithmetic(gt: WiderFaceGT, iou_arith: str) -> np.ndarray:
    """(M,) bool: MATLAB's ``int32`` overlap arithmetic per image.

    ``'auto'``: where the ground truth was stored as integers (the official
    ``.mat`` files); ``'int32'`` / ``'float'``: everywhere / nowhere.
    """
    if iou_arith not in IOU_ARITH_MODES:
        raise ValueError(f'iou_arith must be one of {IOU_ARITH_MODES}, got '
                         f'{iou_arith!r}')
    if iou_arith == 'auto':
        return gt.int_boxes
    return np.full(len(gt), iou_arith == 'int32')


def score_range(arrays: Sequence[Optional[np.ndarray]]) -> Tuple[float,
                                                                 float]:
    """``(min_score, max_score)`` of ``norm_score.m``: it starts from
    ``max_score = 0`` and ``min_score = 1`` before taking the max / min over
    all predictions of all images."""
    min_score, max_score = 1.0, 0.0
    for a in arrays:
        if a is not None and len(a):
            min_score = min(min_score, float(a[:, 4].min()))
            max_score = max(max_score, float(a[:, 4].max()))
    return min_score, max_score


def normalise_scores(scores: np.ndarray, min_score: float,
                     max_score: float) -> np.ndarray:
    """``(s - min_score) / (max_score - min_score)``, as ``norm_score.m``.

    An empty range (every score equal to one value in [0, 1]) is the
    official ``0 / 0``: every normalised score is NaN, so no prediction
    passes any threshold and every AP is 0; replicated, with a warning
    (attributed to the caller of :func:`evaluate`).
    """
    if max_score == min_score:
        warnings.warn(
            'WIDER FACE evaluation: every prediction has the same score '
            f'({max_score!r}); the official normalisation divides 0 by 0, '
            'so every prediction drops out and every AP is 0. Give the '
            'predictions distinct scores.',
            stacklevel=3)
        return np.full(len(scores), np.nan)
    with np.errstate(over='ignore', invalid='ignore'):
        return (scores - min_score) / (max_score - min_score)


def setting_counts(matches: ImageMatches, kept_all: np.ndarray,
                   bins: np.ndarray,
                   thresh_num: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per threshold, the proposals and the recalled faces of one setting
    (``image_pr_info`` summed over the images, ``dataset_pr_info``).

    A prediction whose best face is matched but outside the setting's
    ``gt_list`` is ignored (no proposal); the first prediction on a kept
    face recalls it.

    Args:
        matches (ImageMatches): from :func:`.matching.match_images`.
        kept_all (np.ndarray): (F, ) bool, the faces of the setting's
            ``gt_list`` over all images (face order of
            :attr:`ImageMatches.faces`).
        bins (np.ndarray): (N, ) from :func:`.matching.threshold_bins`.
        thresh_num (int): number of thresholds.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``proposals`` and ``recalled``,
        (T,) int64 each, cumulative over the descending thresholds.
    """
    faces, matched = matches.faces, matches.matched
    kept = kept_all[faces]
    proposal = ~(matched & ~kept)
    hit = np.flatnonzero(matched & kept)
    _, first = np.unique(faces[hit], return_index=True)
    first_hit = hit[first]
    proposals = np.cumsum(
        np.bincount(bins[proposal], minlength=thresh_num + 1)[:thresh_num])
    recalled = np.cumsum(
        np.bincount(bins[first_hit], minlength=thresh_num + 1)[:thresh_num])
    return proposals, recalled


def setting_result(setting: str, proposals: np.ndarray, recalled: np.ndarray,
                   count_face: int, thresh_num: int) -> WiderSettingResult:
    """Precision, recall and VOC AP of one setting.

    ``precision = recalled / proposals`` with 0 for 0 / 0: that only happens
    where recalled = 0, i.e. recall 0, a point where recall does not
    change; and MATLAB's max in ``VOCap.m`` ignores the NaN it produces
    there, so the monotone precision and the AP are the official ones.
    ``recall = recalled / count_face``; without a face to find
    (``count_face = 0``) the AP is NaN, as the official 0 / 0 recall, with
    a warning (attributed to the caller of :func:`evaluate`).
    """
    precision = np.divide(
        recalled, proposals, out=np.zeros(thresh_num), where=proposals > 0)
    if count_face > 0:
        recall = recalled / count_face
        ap = voc_ap_from_curve(recall, precision)
    else:
        warnings.warn(
            f'WIDER FACE evaluation: no face to detect in setting '
            f'{setting!r} (count_face = 0); AP is undefined (NaN, as the '
            'official 0 / 0 recall)',
            stacklevel=3)
        recall = np.zeros(thresh_num)
        ap = float('nan')
    return WiderSettingResult(
        ap=ap,
        precision=precision,
        recall=recall,
        proposals=proposals,
        recalled=recalled,
        count_face=count_face)


def evaluate(preds: Mapping[str, np.ndarray],
             gt: WiderFaceGT,
             iou_thr: float = 0.5,
             thresh_num: int = 1000,
             only_present_images: bool = False,
             iou_arith: str = 'auto') -> WiderEvalResult:
    """The official WIDER FACE evaluation.

    The steps are listed in :mod:`hambox_mmdet.evaluation.wider`; each is
    a function here or in :mod:`.matching`: :func:`check_predictions`,
    :func:`warn_negative_sizes`, :func:`overlap_arithmetic`,
    :func:`score_range`, :func:`.matching.match_images`,
    :func:`normalise_scores`, :func:`.matching.threshold_bins`,
    :func:`setting_counts` and :func:`setting_result` per setting, and
    :class:`WiderEvalResult`.

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
    int_flags = overlap_arithmetic(gt, iou_arith)
    arrays, negative = check_predictions(preds, gt)
    negative_keys = warn_negative_sizes(negative, gt)
    present = np.array([a is not None for a in arrays], dtype=bool)
    num_pred = np.array([0 if a is None else len(a) for a in arrays],
                        dtype=np.int64)
    min_score, max_score = score_range(arrays)

    matches = match_images(arrays, gt, int_flags, iou_thr)
    norm = normalise_scores(matches.scores, min_score, max_score)
    bins = threshold_bins(norm, matches.segment, thresh_num)

    counted = present if only_present_images else np.ones(len(gt), bool)
    settings = {}
    for setting in gt.settings:
        kept_all = (np.concatenate(gt.kept[setting])
                    if matches.face_offsets[-1] else np.zeros(0, dtype=bool))
        proposals, recalled = setting_counts(matches, kept_all, bins,
                                             thresh_num)
        count_face = int(gt.num_kept[setting][counted].sum())
        settings[setting] = setting_result(setting, proposals, recalled,
                                           count_face, thresh_num)

    missing = [gt.image_keys[i] for i in np.flatnonzero(~present)]
    return WiderEvalResult(
        settings=settings,
        thresholds=wider_thresholds(thresh_num),
        num_images=len(gt),
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
