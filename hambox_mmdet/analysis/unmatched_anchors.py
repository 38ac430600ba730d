# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Where the correct predictions of an anchor-based detector come from.

HAMBox's observation (CVPR 2020, Sec. 3): at inference, more than 80% of
the correctly predicted boxes come from anchors that were *unmatched* in
training; and (Fig. 2(d)) faces with few matched anchors are found less
often. This module measures both for one image at a time, vectorised, and
sums them up over images.

Definitions (IoU is mmdet's ``'iou'`` mode; an anchor's or a box's *best
face* is the face it overlaps most, the lower face index on ties):

- **matched anchor**: an anchor matched by the standard stage-1 matching of
  :mod:`hambox_mmdet.analysis.matching` (IoU with its best face
  ``>= match_iou_thr``, 0.35). Every other anchor is **unmatched**.
  ``D(face)`` is the number of anchors matched to the face.
- **prediction**: an anchor whose score (the highest class probability) is
  ``>= score_thr``; its box is the anchor's regressed (decoded) box.
- **correct prediction**: a prediction whose regressed box has IoU
  ``> correct_iou_thr`` (0.5, strictly greater) with its best face; it is
  credited to that face. It *comes from an unmatched anchor* if its anchor
  is unmatched (to any face; what its anchor was matched to is not
  otherwise looked at).
- **found face**: a face credited with at least one correct prediction.

Everything is counted twice: on all predictions (*before NMS*) and on the
predictions kept by NMS (*after NMS*, mmcv's ``batched_nms`` over the
score-thresholded boxes, class-aware when labels are given). Faces are
grouped by ``D`` into :data:`FACE_GROUPS` (``0, 1, 2, 3, >3``) as in the
paper's Fig. 2(d).
"""
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional

import numpy as np
import torch
from mmcv.ops import batched_nms
from torch import Tensor

from .matching import match_anchors, max_iou_with_faces

#: Groups of faces by their number of matched anchors D (Fig. 2(d)).
FACE_GROUPS = ('0', '1', '2', '3', '>3')
#: The two stages reported, in order.
STAGES = ('before_nms', 'after_nms')


@dataclass
class PredictionStats:
    """Counts of one image's predictions at one stage (before/after NMS).

    Attributes:
        num_preds (int): Predictions (score >= threshold).
        num_correct (int): Correct predictions.
        num_correct_from_unmatched (int): Correct predictions whose anchor is
            unmatched.
        face_found (np.ndarray): Shape (F, ), bool: the face is credited with
            at least one correct prediction.
    """
    num_preds: int
    num_correct: int
    num_correct_from_unmatched: int
    face_found: np.ndarray


@dataclass
class ImageAnchorAnalysis:
    """The analysis of one image.

    Attributes:
        num_anchors (int): Anchors of the image (all levels).
        num_matched_anchors (int): Matched anchors.
        face_num_matched (np.ndarray): Shape (F, ), int64: D of each face.
        before_nms (PredictionStats): On all predictions.
        after_nms (PredictionStats): On the predictions kept by NMS.
        keep (Tensor): Shape (K, ), long: the anchor index of each
            prediction kept by NMS, in NMS's order (descending score).
    """
    num_anchors: int
    num_matched_anchors: int
    face_num_matched: np.ndarray
    before_nms: PredictionStats
    after_nms: PredictionStats
    keep: Tensor


def prediction_stats(pred_bboxes: Tensor,
                     from_matched: Tensor,
                     faces: Tensor,
                     correct_iou_thr: float = 0.5,
                     tile_elems: int = 0) -> PredictionStats:
    """Count the correct predictions among some predictions.

    Args:
        pred_bboxes (Tensor): Shape (P, 4), the predictions' regressed boxes.
        from_matched (Tensor): Shape (P, ), bool: the prediction's anchor is
            matched.
        faces (Tensor): Shape (F, 4), x1 y1 x2 y2.
        correct_iou_thr (float): A prediction is correct if its box has IoU
            ``> correct_iou_thr`` with its best face. Defaults to 0.5.
        tile_elems (int): See :func:`max_iou_with_faces`. Defaults to 0.

    Returns:
        :obj:`PredictionStats`: The counts, and which faces are found.
    """
    max_iou, best_face = max_iou_with_faces(pred_bboxes, faces, tile_elems)
    correct = (max_iou > correct_iou_thr) & (best_face >= 0)
    face_found = torch.zeros(
        faces.size(0), dtype=torch.bool, device=pred_bboxes.device)
    face_found[best_face[correct]] = True
    return PredictionStats(
        num_preds=int(pred_bboxes.size(0)),
        num_correct=int(correct.sum()),
        num_correct_from_unmatched=int((correct & ~from_matched).sum()),
        face_found=face_found.cpu().numpy())


def analyse_anchor_predictions(anchors: Tensor,
                               scores: Tensor,
                               pred_bboxes: Tensor,
                               faces: Tensor,
                               labels: Optional[Tensor] = None,
                               score_thr: float = 0.5,
                               match_iou_thr: float = 0.35,
                               correct_iou_thr: float = 0.5,
                               nms_cfg: Optional[dict] = None,
                               tile_elems: int = 0) -> ImageAnchorAnalysis:
    """Analyse one image: matched anchors, correct predictions, found faces.

    See the module docstring for the definitions.

    Args:
        anchors (Tensor): Shape (A, 4), all anchors of the image, x1 y1 x2 y2
            in the network input frame.
        scores (Tensor): Shape (A, ), each anchor's score (the highest class
            probability).
        pred_bboxes (Tensor): Shape (A, 4), each anchor's regressed box.
        faces (Tensor): Shape (F, 4), the faces (not ignored) in the same
            frame as the anchors.
        labels (Tensor, optional): Shape (A, ), each anchor's predicted
            class; NMS is class-aware with labels, class-agnostic without.
            Defaults to None.
        score_thr (float): Anchors with ``score >= score_thr`` predict.
            Defaults to 0.5.
        match_iou_thr (float): Anchor matching threshold. Defaults to 0.35.
        correct_iou_thr (float): Correctness threshold (strict).
            Defaults to 0.5.
        nms_cfg (dict, optional): mmcv ``batched_nms`` config, e.g.
            ``dict(type='nms', iou_threshold=0.4)``; None keeps every
            prediction (after NMS = before NMS). Defaults to None.
        tile_elems (int): See :func:`max_iou_with_faces`. Defaults to 0.

    Returns:
        :obj:`ImageAnchorAnalysis`: The image's counts.
    """
    if not (anchors.size(0) == scores.size(0) == pred_bboxes.size(0)):
        raise ValueError(
            f'anchors ({anchors.size(0)}), scores ({scores.size(0)}) and '
            f'pred_bboxes ({pred_bboxes.size(0)}) must have the same length')
    faces = faces.reshape(-1, 4).to(device=anchors.device,
                                    dtype=anchors.dtype)
    anchor_face, face_num_matched = match_anchors(anchors, faces,
                                                  match_iou_thr, tile_elems)
    anchor_matched = anchor_face >= 0

    pred_inds = torch.nonzero(scores >= score_thr, as_tuple=False).view(-1)
    boxes = pred_bboxes[pred_inds]
    before = prediction_stats(boxes, anchor_matched[pred_inds], faces,
                              correct_iou_thr, tile_elems)
    if pred_inds.numel() == 0 or nms_cfg is None:
        kept = scores[pred_inds].argsort(descending=True)
    else:
        idxs = (
            labels[pred_inds] if labels is not None else
            torch.zeros_like(pred_inds))
        _, kept = batched_nms(boxes, scores[pred_inds].contiguous(), idxs,
                              dict(nms_cfg))
    keep = pred_inds[kept]
    after = prediction_stats(pred_bboxes[keep], anchor_matched[keep], faces,
                             correct_iou_thr, tile_elems)
    return ImageAnchorAnalysis(
        num_anchors=int(anchors.size(0)),
        num_matched_anchors=int(anchor_matched.sum()),
        face_num_matched=face_num_matched.cpu().numpy().astype(np.int64),
        before_nms=before,
        after_nms=after,
        keep=keep)


def _share(num: int, den: int) -> Optional[float]:
    """``num / den``, None where ``den`` is 0."""
    return num / den if den else None


def summarise_anchor_analysis(
        results: Iterable[ImageAnchorAnalysis]) -> Dict:
    """Sum up per-image analyses.

    Args:
        results (Iterable[ImageAnchorAnalysis]): One per image.

    Returns:
        dict: JSON-ready (shares are None where undefined):

        - ``num_images``, ``num_faces``, ``num_anchors``,
          ``num_matched_anchors`` (int).
        - ``mean_matched_per_face`` (float | None),
          ``share_faces_matched`` (float | None): the share of faces with
          ``D >= 1``.
        - ``predictions``: for each of :data:`STAGES` a dict of
          ``num_preds``, ``num_correct``, ``num_correct_from_unmatched``,
          ``num_correct_from_matched`` (int) and
          ``share_correct_from_unmatched``.
        - ``face_groups``: one dict per group of :data:`FACE_GROUPS`:
          ``group`` (str), ``num_faces`` (int), ``share_of_faces``, and for
          each stage ``num_found_<stage>`` (int) and
          ``share_found_<stage>``.
    """
    results = list(results)
    num_faces = int(sum(len(r.face_num_matched) for r in results))
    d = np.concatenate([r.face_num_matched for r in results] +
                       [np.zeros(0, dtype=np.int64)])
    summary = dict(
        num_images=len(results),
        num_faces=num_faces,
        num_anchors=int(sum(r.num_anchors for r in results)),
        num_matched_anchors=int(sum(r.num_matched_anchors for r in results)),
        mean_matched_per_face=_share(int(d.sum()), num_faces),
        share_faces_matched=_share(int((d > 0).sum()), num_faces))

    predictions = dict()
    found = dict()
    for stage in STAGES:
        stats: List[PredictionStats] = [getattr(r, stage) for r in results]
        correct = sum(s.num_correct for s in stats)
        unmatched = sum(s.num_correct_from_unmatched for s in stats)
        predictions[stage] = dict(
            num_preds=int(sum(s.num_preds for s in stats)),
            num_correct=int(correct),
            num_correct_from_unmatched=int(unmatched),
            num_correct_from_matched=int(correct - unmatched),
            share_correct_from_unmatched=_share(unmatched, correct))
        found[stage] = np.concatenate([s.face_found for s in stats] +
                                      [np.zeros(0, dtype=bool)])
    summary['predictions'] = predictions

    group_of_face = np.minimum(d, len(FACE_GROUPS) - 1)
    groups = []
    for g, name in enumerate(FACE_GROUPS):
        in_group = group_of_face == g
        n = int(in_group.sum())
        row = dict(
            group=name, num_faces=n, share_of_faces=_share(n, num_faces))
        for stage in STAGES:
            n_found = int((found[stage] & in_group).sum())
            row[f'num_found_{stage}'] = n_found
            row[f'share_found_{stage}'] = _share(n_found, n)
        groups.append(row)
    summary['face_groups'] = groups
    return summary


def _fmt_share(share: Optional[float]) -> str:
    return '-' if share is None else f'{100 * share:.1f}%'


def format_anchor_analysis(summary: Dict) -> str:
    """The two tables of a summary, in markdown.

    Args:
        summary (dict): From :func:`summarise_anchor_analysis`.

    Returns:
        str: The predictions table, a blank line, the Fig. 2(d) table.
    """
    lines = [
        '| stage | predictions | correct | from unmatched anchors | '
        'share from unmatched |', '|---|---:|---:|---:|---:|'
    ]
    for stage in STAGES:
        p = summary['predictions'][stage]
        lines.append(
            f"| {stage.replace('_', ' ').replace('nms', 'NMS')} | "
            f"{p['num_preds']} | {p['num_correct']} | "
            f"{p['num_correct_from_unmatched']} | "
            f"{_fmt_share(p['share_correct_from_unmatched'])} |")
    lines += [
        '', '| matched anchors D | faces | share of faces | '
        'found before NMS | share | found after NMS | share |',
        '|---|---:|---:|---:|---:|---:|---:|'
    ]
    for row in summary['face_groups']:
        lines.append(f"| {row['group']} | {row['num_faces']} | "
                     f"{_fmt_share(row['share_of_faces'])} | "
                     f"{row['num_found_before_nms']} | "
                     f"{_fmt_share(row['share_found_before_nms'])} | "
                     f"{row['num_found_after_nms']} | "
                     f"{_fmt_share(row['share_found_after_nms'])} |")
    return '\n'.join(lines)
