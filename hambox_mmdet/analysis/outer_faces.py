# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Outer-face recall: which faces a detector finds, by matched anchors D.

HAMBox's thesis is about *outer faces*: faces with fewer matched anchors
than the mining's K (D < K), which standard matching trains poorly. This
module reports, for a detector's final detections (after its NMS), the
recall of faces grouped by D and by size, at a score threshold. It is the
one implementation behind ``WIDERFaceMetric(outer_face_recall=...)`` and
``tools/analysis_tools/unmatched_anchor_analysis.py --gt-dir``.

Definitions:

- ``D(face)``: the anchors of the detector's anchor generator, laid over the
  padded network input of the image, whose IoU with the face is
  ``>= match_iou_thr`` (0.35) and highest among the faces
  (:func:`~hambox_mmdet.analysis.match_anchors`, HAMBox's stage 1); the
  faces are scaled into the input frame by the test pipeline's
  ``scale_factor``. Binned as :data:`D_BINS` (0, 1, 2, 3, 4, >= 5).
- size: ``sqrt(w h)`` of the face in the original image, binned as
  :data:`SIZE_BINS` (pixel edges :data:`SIZE_EDGES`).
- found: some detection with score ``>= score_thr`` has IoU
  ``> correct_iou_thr`` (0.5) with the face, and the face is that
  detection's best face (the same rule as the unmatched-anchor analysis,
  :func:`~hambox_mmdet.analysis.prediction_stats`).
"""
import math
from typing import Dict, Sequence

import numpy as np
import torch
from torch import Tensor

from .matching import match_anchors
from .unmatched_anchors import prediction_stats

#: Bins of the matched-anchor count D.
D_BINS = ('0', '1', '2', '3', '4', '>=5')
#: Face size (sqrt of the area, original pixels) bin edges and names.
SIZE_EDGES = (0., 10., 20., 40., 80., 160., math.inf)
SIZE_BINS = ('<10', '10-20', '20-40', '40-80', '80-160', '>=160')


def input_frame_anchors(prior_generator, input_shape: Sequence[int],
                        device='cpu') -> Tensor:
    """The generator's anchors over a padded network input.

    The feature map of stride ``s`` of an (H, W) input is
    ``(ceil(H / s), ceil(W / s))``, as ResNet-FPN's strided convs give it.

    Args:
        prior_generator: An mmdet ``AnchorGenerator`` (``strides``,
            ``grid_priors``).
        input_shape (Sequence[int]): (H, W) of the padded input.

    Returns:
        Tensor: Shape (A, 4), x1 y1 x2 y2, all levels.
    """
    h, w = int(input_shape[0]), int(input_shape[1])
    sizes = [(math.ceil(h / sh), math.ceil(w / sw))
             for sw, sh in prior_generator.strides]
    priors = prior_generator.grid_priors(sizes, device=device)
    return torch.cat([getattr(p, 'tensor', p) for p in priors])


def matched_anchor_counts(anchors: Tensor, faces: Tensor,
                          match_iou_thr: float = 0.35) -> np.ndarray:
    """D of each face: its anchors under the standard matching.

    Args:
        anchors (Tensor): Shape (A, 4).
        faces (Tensor): Shape (F, 4), x1 y1 x2 y2, same frame.
        match_iou_thr (float): Defaults to 0.35.

    Returns:
        np.ndarray: Shape (F, ), int64.
    """
    faces = faces.reshape(-1, 4).to(anchors)
    _, counts = match_anchors(anchors, faces, match_iou_thr)
    return counts.cpu().numpy().astype(np.int64)


def faces_found(det_bboxes: Tensor, det_scores: Tensor, faces: Tensor,
                score_thr: float, correct_iou_thr: float = 0.5) -> np.ndarray:
    """Which faces the detections find at a score threshold.

    Args:
        det_bboxes (Tensor): Shape (P, 4), the final detections.
        det_scores (Tensor): Shape (P, ).
        faces (Tensor): Shape (F, 4), same frame as the detections.
        score_thr (float): Detections with ``score >= score_thr`` count.
        correct_iou_thr (float): Strict IoU threshold. Defaults to 0.5.

    Returns:
        np.ndarray: Shape (F, ), bool.
    """
    keep = det_scores >= score_thr
    boxes = det_bboxes[keep].reshape(-1, 4).float()
    stats = prediction_stats(
        boxes, torch.zeros(len(boxes), dtype=torch.bool), faces.float(),
        correct_iou_thr)
    return stats.face_found


def _table(bins: np.ndarray, names: Sequence[str],
           found: np.ndarray) -> Dict[str, dict]:
    out = {}
    for i, name in enumerate(names):
        in_bin = bins == i
        n, k = int(in_bin.sum()), int(found[in_bin].sum())
        out[name] = dict(faces=n, found=k, recall=k / n if n else None)
    return out


def summarise_outer_face_recall(num_matched: np.ndarray, sizes: np.ndarray,
                                found: np.ndarray) -> Dict[str, dict]:
    """Recall per D bin, per size bin and over all faces.

    Args:
        num_matched (np.ndarray): Shape (F, ), D of every face (all images).
        sizes (np.ndarray): Shape (F, ), sqrt(w h) in original pixels.
        found (np.ndarray): Shape (F, ), bool.

    Returns:
        dict: ``by_d`` and ``by_size`` ({bin: {faces, found, recall}}; recall
        None for an empty bin) and ``all`` ({faces, found, recall}).
    """
    num_matched = np.asarray(num_matched, dtype=np.int64).reshape(-1)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1)
    found = np.asarray(found, dtype=bool).reshape(-1)
    if not len(num_matched) == len(sizes) == len(found):
        raise ValueError(f'num_matched ({len(num_matched)}), sizes '
                         f'({len(sizes)}) and found ({len(found)}) must '
                         'have one entry per face')
    d_bins = np.minimum(num_matched, len(D_BINS) - 1)
    size_bins = np.searchsorted(np.asarray(SIZE_EDGES), sizes,
                                side='right') - 1
    n, k = len(found), int(found.sum())
    return dict(
        by_d=_table(d_bins, D_BINS, found),
        by_size=_table(np.clip(size_bins, 0, len(SIZE_BINS) - 1), SIZE_BINS,
                       found),
        all=dict(faces=n, found=k, recall=k / n if n else None))


def format_outer_face_recall(tables: Dict[str, dict]) -> str:
    """Markdown tables: one row per bin, one column per operating point.

    Args:
        tables (dict): {operating point name: summarise_outer_face_recall}.
    """
    points = list(tables)
    lines = []
    for key, title in (('by_d', 'matched anchors D'),
                       ('by_size', 'face size (px)')):
        lines.append(f'| {title} | faces | ' +
                     ' | '.join(f'recall @ {p}' for p in points) + ' |')
        lines.append('|---|---:|' + '---:|' * len(points))
        first = tables[points[0]][key]
        for name in first:
            cells = []
            for p in points:
                r = tables[p][key][name]['recall']
                cells.append('-' if r is None else f'{100 * r:.1f} %')
            lines.append(f"| {name} | {first[name]['faces']} | " +
                         ' | '.join(cells) + ' |')
        lines.append('')
    return '\n'.join(lines).rstrip()


def best_f1_score_thr(precision: np.ndarray, recall: np.ndarray,
                      thresholds: np.ndarray,
                      score_range: Sequence[float]) -> float:
    """The raw score threshold of a WIDER FACE setting's best F1 point.

    The official curve is taken at normalised thresholds
    ``t = (score - min) / (max - min)``; the raw threshold is
    ``min + t (max - min)``.

    Args:
        precision, recall, thresholds (np.ndarray): Shape (T, ), the
            setting's curve and the normalised thresholds.
        score_range (Sequence[float]): ``(min_score, max_score)``.

    Returns:
        float: The threshold (``nan`` where the curve is empty).
    """
    p, r = np.asarray(precision, float), np.asarray(recall, float)
    with np.errstate(invalid='ignore', divide='ignore'):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.)
    if not len(f1) or not np.isfinite(f1).any() or f1.max() <= 0:
        return math.nan
    lo, hi = float(score_range[0]), float(score_range[1])
    return lo + float(thresholds[int(np.nanargmax(f1))]) * (hi - lo)


def outer_face_recall_wider(items, gt, score_thrs: Dict[str, float],
                            prior_generator, match_iou_thr: float = 0.35,
                            correct_iou_thr: float = 0.5,
                            setting: str = 'hard') -> Dict[str, dict]:
    """Outer-face recall over WIDER FACE images, for the faces that the
    official ``setting`` (Hard) counts.

    Args:
        items (Iterable[tuple]): Per image ``(key, dets, scale_factor,
            input_shape)``: the ``'<event>/<stem>'`` key, the final
            detections (P, 5) ``x1 y1 x2 y2 score`` in the original image,
            the test pipeline's ``(w_scale, h_scale)`` and the padded
            network input (H, W). Images missing from ``gt`` are skipped.
        gt (WiderFaceGT): The official ground truth.
        score_thrs (dict[str, float]): Operating points, name -> threshold.
        prior_generator: The detector's anchor generator.
        match_iou_thr (float): D's matching threshold. Defaults to 0.35.
        correct_iou_thr (float): Defaults to 0.5.
        setting (str): Whose faces count. Defaults to ``'hard'``.

    Returns:
        dict: {operating point: :func:`summarise_outer_face_recall`}, each
        with its ``score_thr``.
    """
    counts, sizes = [], []
    found = {name: [] for name in score_thrs}
    for key, dets, scale_factor, input_shape in items:
        index = gt.key_to_index.get(key)
        if index is None:
            continue
        xywh = gt.boxes[index][gt.kept[setting][index]]
        faces = torch.as_tensor(
            np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1),
            dtype=torch.float32).reshape(-1, 4)
        sizes.append(np.sqrt(np.clip(xywh[:, 2] * xywh[:, 3], 0, None)))
        w_scale, h_scale = scale_factor
        scale = faces.new_tensor([w_scale, h_scale, w_scale, h_scale])
        anchors = input_frame_anchors(prior_generator, input_shape)
        counts.append(matched_anchor_counts(anchors, faces * scale,
                                            match_iou_thr))
        dets = torch.as_tensor(np.asarray(dets, np.float64).reshape(-1, 5))
        for name, thr in score_thrs.items():
            found[name].append(
                faces_found(dets[:, :4], dets[:, 4], faces, thr,
                            correct_iou_thr))
    cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0))
    out = {}
    for name, thr in score_thrs.items():
        table = summarise_outer_face_recall(
            cat(counts), cat(sizes), cat(found[name]).astype(bool))
        out[name] = dict(score_thr=thr, **table)
    return out
