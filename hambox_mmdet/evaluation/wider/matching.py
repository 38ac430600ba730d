# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Matching, score thresholds and AP of the official WIDER FACE tool,
vectorised.

- :func:`match_images`: ``evaluation.m``'s ``image_evaluation`` for every
  image at once: one (P, G) overlap matrix per image
  (:func:`.overlap.best_overlaps`), shared by the settings;
- :func:`wider_thresholds` and :func:`threshold_bins`: the thresholds of
  ``image_pr_info`` and the first one each prediction counts at, so that the
  per-threshold counts of all images are one ``np.bincount`` +
  ``np.cumsum``;
- :func:`voc_ap_from_curve`: ``VOCap.m``.

:func:`.evaluate.evaluate` chains them.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from .annotations import WiderFaceGT
from .overlap import best_overlaps


@dataclass
class ImageMatches:
    """What each prediction of the matched images took, flat over images.

    Only images with both predictions and ground-truth faces are matched;
    their predictions are in image order, each image's sorted by score
    (descending, stable).

    Attributes:
        scores (np.ndarray): (N, ) float64 raw scores.
        matched (np.ndarray): (N, ) bool, best overlap ``>= iou_thr``.
        faces (np.ndarray): (N, ) int64, the face of best overlap, as an
            index into all faces of the ground truth (image order).
        segment (np.ndarray): (N, ) int64, the matched image (0, 1, ...
            over the matched images only) of each prediction.
        face_offsets (np.ndarray): (M + 1, ) int64, the first face of each
            image in that flat order (``face_offsets[-1]``: all faces).
    """
    scores: np.ndarray
    matched: np.ndarray
    faces: np.ndarray
    segment: np.ndarray
    face_offsets: np.ndarray


def match_images(arrays: Sequence[Optional[np.ndarray]], gt: WiderFaceGT,
                 int_flags: np.ndarray, iou_thr: float) -> ImageMatches:
    """``image_evaluation`` of every image, shared by the settings.

    Each prediction takes the single face of highest overlap (the first one
    on ties); nothing is removed from the candidates, so every prediction
    is matched independently (which setting keeps the face is decided per
    setting from :attr:`ImageMatches.faces`).

    Args:
        arrays (Sequence[np.ndarray | None]): M arrays (P_i, 5)
            ``x y w h score`` aligned with ``gt`` (None: no entry).
        gt (WiderFaceGT): the ground truth.
        int_flags (np.ndarray): (M, ) bool, MATLAB's ``int32`` overlap
            arithmetic per image (:mod:`.overlap`).
        iou_thr (float): overlap threshold.

    Returns:
        ImageMatches: the flat per-prediction results.
    """
    num_images = len(gt)
    face_offsets = np.zeros(num_images + 1, dtype=np.int64)
    np.cumsum([len(b) for b in gt.boxes], out=face_offsets[1:])
    num_pred = np.array([0 if a is None else len(a) for a in arrays],
                        dtype=np.int64)
    scores: List[np.ndarray] = []
    matched: List[np.ndarray] = []
    faces: List[np.ndarray] = []
    segment: List[np.ndarray] = []
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
    if not scores:
        return ImageMatches(
            scores=np.zeros(0),
            matched=np.zeros(0, dtype=bool),
            faces=np.zeros(0, dtype=np.int64),
            segment=np.zeros(0, dtype=np.int64),
            face_offsets=face_offsets)
    return ImageMatches(
        scores=np.concatenate(scores),
        matched=np.concatenate(matched),
        faces=np.concatenate(faces),
        segment=np.concatenate(segment),
        face_offsets=face_offsets)


def wider_thresholds(thresh_num: int = 1000) -> np.ndarray:
    """``thr_t = 1 - t / thresh_num`` for t = 1..thresh_num, float64 (T,)."""
    t = np.arange(1, thresh_num + 1, dtype=np.float64)
    return 1 - t / thresh_num


def threshold_bins(norm: np.ndarray, segment: np.ndarray,
                   thresh_num: int) -> np.ndarray:
    """The first threshold each prediction counts at (``image_pr_info``).

    A prediction counts at threshold index ``k`` (0-based) iff its
    normalised score is ``>= thr[k]``; the thresholds are descending, so iff
    ``k >= bin``. A NaN score never passes (``bin = thresh_num``). And as
    ``image_pr_info`` counts everything up to the *last* prediction of an
    image that passes a threshold, the bins are a suffix minimum per image
    (identical to the plain bins when the normalised scores are sorted,
    i.e. always but for overflow).

    Args:
        norm (np.ndarray): (N, ) normalised scores, each image's sorted
            descending (:attr:`ImageMatches.scores`, normalised).
        segment (np.ndarray): (N, ) int64, the image of each prediction
            (:attr:`ImageMatches.segment`).
        thresh_num (int): number of thresholds.

    Returns:
        np.ndarray: (N, ) int64 in ``0..thresh_num``.
    """
    thresholds = wider_thresholds(thresh_num)
    bins = thresh_num - np.searchsorted(
        thresholds[::-1], norm, side='right').astype(np.int64)
    bins[np.isnan(norm)] = thresh_num  # NaN >= thr is false: never counted
    shift = segment * (thresh_num + 1)
    return np.minimum.accumulate((bins + shift)[::-1])[::-1] - shift


def voc_ap_from_curve(recall: np.ndarray, precision: np.ndarray) -> float:
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
    # Not mmdet's ``average_precision(mode='area')``: it computes the same
    # float64 sum but returns it as float32 (up to ~3e-8 off, where this
    # evaluator is held to 1e-12 of the MATLAB transliteration), and its
    # ``np.maximum`` would spread a NaN precision that MATLAB's ``max``
    # ignores. The test suite checks that it equals float32(voc_ap_from_curve).
    mrec = np.concatenate(([0.0], np.asarray(recall, np.float64), [1.0]))
    mpre = np.concatenate(([0.0], np.asarray(precision, np.float64), [0.0]))
    mpre = np.fmax.accumulate(mpre[::-1])[::-1]
    i = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[i] - mrec[i - 1]) * mpre[i]))
