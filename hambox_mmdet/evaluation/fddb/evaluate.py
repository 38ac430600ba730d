# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The FDDB evaluation entry point: the official ROC curves of a detection
set (the mask overlaps and the matching are in :mod:`.matching`, the
curves' container in :mod:`.results`)."""
from typing import Mapping

import numpy as np

from .annotations import FDDBGroundTruth
from .matching import check_matching, match_events, pair_overlaps
from .results import FDDBResult


def evaluate(dets: Mapping[str, np.ndarray],
             gt: FDDBGroundTruth,
             image_sizes: np.ndarray,
             matching: str = 'official') -> FDDBResult:
    """The official FDDB ROC curves of a detection set.

    Args:
        dets (Mapping[str, np.ndarray]): image path -> (K, 5)
            ``left top width height score``, in file order (the official
            matching can depend on the order of the boxes). Images of
            ``gt`` without an entry have no detections; keys not in ``gt``
            are an error.
        gt (FDDBGroundTruth): the evaluated folds.
        image_sizes (np.ndarray): (M, 2) ``height width`` of gt's images
            (the official tool draws on a canvas of the image's size).
        matching (str): ``'official'`` (default): pair faces and detections
            as the official program does (its libhungarian solver, which is
            not always a maximum-weight matching): the numbers of every
            published FDDB curve. ``'optimal'``: the maximum-weight matching
            (``docs/fddb_matching.md`` says when and by how much they
            differ).

    Returns:
        FDDBResult: both ROC curves, point per distinct score.
    """
    check_matching(matching)
    unknown = [k for k in dets if k not in gt.key_to_index]
    if unknown:
        raise ValueError(f'detections for {len(unknown)} image(s) not in the '
                         f'evaluated folds, e.g. {unknown[0]!r}')
    sizes = np.asarray(image_sizes, dtype=np.int64).reshape(-1, 2)
    if len(sizes) != len(gt):
        raise ValueError(f'{len(sizes)} image sizes for {len(gt)} images')
    empty = np.zeros((0, 5))
    per_image = []
    for i, key in enumerate(gt.image_keys):
        d = np.asarray(dets.get(key, empty), dtype=np.float64)
        if d.ndim != 2 or d.shape[1] != 5:
            raise ValueError(f'detections of {key!r}: expected shape (K, 5) '
                             f'left top width height score, got {d.shape}')
        per_image.append(d)
    all_dets = np.concatenate(per_image) if per_image else empty
    if not np.isfinite(all_dets).all():
        raise ValueError('FDDB detections contain NaN or infinite values')
    face, det, iou = pair_overlaps(gt.ellipses, per_image, sizes)
    scores = all_dets[:, 4]
    face_image = np.repeat(np.arange(len(gt)),
                           [len(e) for e in gt.ellipses])
    ev_s, ev_d, ev_c = match_events(face, det, iou, scores, gt.num_faces,
                                    matching, face_image)
    thresholds = np.unique(scores)
    num_missing = sum(len(d) == 0 for d in per_image)
    if num_missing:
        thresholds = np.r_[thresholds, np.inf]
    # totals over events / detections with score >= t
    sorted_scores = np.sort(scores)
    valid = len(scores) - np.searchsorted(sorted_scores, thresholds, 'left')
    # sums from the highest score down (no cancellation in tp_continuous)
    order = np.argsort(-ev_s, kind='stable')
    from_top_d = np.r_[0.0, np.cumsum(ev_d[order])]
    from_top_c = np.r_[0.0, np.cumsum(ev_c[order])]
    num_ge = len(ev_s) - np.searchsorted(np.sort(ev_s), thresholds, 'left')
    tp_disc = np.rint(from_top_d[num_ge]).astype(np.int64)
    tp_cont = from_top_c[num_ge]
    return FDDBResult(
        thresholds=thresholds,
        fp=valid - tp_disc,
        tp_discrete=tp_disc,
        tp_continuous=tp_cont,
        num_faces=gt.num_faces,
        num_images=len(gt),
        num_images_without_dets=int(num_missing),
        num_dets=len(scores),
        matching=matching)
