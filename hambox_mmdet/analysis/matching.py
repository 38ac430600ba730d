# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Standard IoU matching of anchors to faces, the one rule of every analysis.

An anchor's *best face* is the face it overlaps most (mmdet's ``'iou'``
mode; the lower face index on ties). The anchor is **matched** to that face
if their IoU is ``>= iou_thr`` (0.35): HAMBox's stage 1, i.e. mmdet's
``MaxIoUAssigner`` with ``pos_iou_thr = neg_iou_thr = 0.35`` and no
low-quality matching. ``D(face)`` is the number of anchors matched to it.

The rule is evaluated in two ways, for two sizes of question:

- :func:`match_anchors`: the given anchors of one image (any generator, any
  layout), over tiles of anchors; it says which face each anchor got.
- :func:`match_counts`: only ``D`` for every face of many images at once,
  straight from a generator's geometry (for Fig. 1 over the 157k WIDER
  train faces): an anchor of side ``a`` can only reach IoU ``t`` with a
  face of area ``wh`` if ``t <= min(a^2, wh) / max(a^2, wh)``, which leaves
  one or two pyramid levels per face and the few grid cells around it. It
  equals :func:`match_anchors` on the image's whole, unbounded grid (the
  tests check it).
"""
from typing import Tuple

import numpy as np
import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from ..models.utils import column_tiles, pairwise_iou

#: Levels x base anchors per level that :func:`match_counts` can key.
MAX_ANCHOR_TYPES = 64


def max_iou_with_faces(boxes: Tensor,
                       faces: Tensor,
                       tile_elems: int = 0) -> Tuple[Tensor, Tensor]:
    """Each box's IoU with its best face, and that face.

    Computed over tiles of boxes, so no (faces x boxes) matrix larger than a
    tile is ever held (see :func:`~hambox_mmdet.models.utils.column_tiles`).

    Args:
        boxes (Tensor): Shape (N, 4), x1 y1 x2 y2.
        faces (Tensor): Shape (F, 4), x1 y1 x2 y2.
        tile_elems (int): Elements per (F, tile) block; 0 picks a size
            suited to the device. Defaults to 0.

    Returns:
        tuple[Tensor, Tensor]:

        - max_iou (Tensor): Shape (N, ), float; 0 where there is no face.
        - best_face (Tensor): Shape (N, ), long, the lower index on ties;
          -1 where there is no face.
    """
    num_boxes, num_faces = boxes.size(0), faces.size(0)
    max_iou = boxes.new_zeros(num_boxes)
    best_face = torch.full((num_boxes, ),
                           -1,
                           dtype=torch.long,
                           device=boxes.device)
    if num_faces == 0 or num_boxes == 0:
        return max_iou, best_face
    faces = faces.to(boxes.dtype)
    for cols in column_tiles(num_faces, num_boxes, boxes.device, tile_elems):
        # (F, tile); max over dim 0 returns the first (lowest) index on ties
        max_iou[cols], best_face[cols] = pairwise_iou(faces,
                                                      boxes[cols]).max(dim=0)
    return max_iou, best_face


def match_anchors(anchors: Tensor,
                  faces: Tensor,
                  iou_thr: float = 0.35,
                  tile_elems: int = 0) -> Tuple[Tensor, Tensor]:
    """Standard IoU matching of one image's anchors to its faces.

    Args:
        anchors (Tensor): Shape (A, 4), x1 y1 x2 y2.
        faces (Tensor): Shape (F, 4), x1 y1 x2 y2.
        iou_thr (float): An anchor is matched to its best face if their IoU
            is ``>= iou_thr``. Defaults to 0.35.
        tile_elems (int): See :func:`max_iou_with_faces`. Defaults to 0.

    Returns:
        tuple[Tensor, Tensor]:

        - anchor_face (Tensor): Shape (A, ), long: the face each anchor is
          matched to, -1 for unmatched anchors.
        - face_num_matched (Tensor): Shape (F, ), long: D of each face.
    """
    max_iou, best_face = max_iou_with_faces(anchors, faces, tile_elems)
    anchor_face = torch.where(max_iou >= iou_thr, best_face,
                              best_face.new_full((), -1))
    face_num_matched = torch.bincount(
        anchor_face[anchor_face >= 0], minlength=faces.size(0))
    return anchor_face, face_num_matched


def match_counts(generator,
                 faces: np.ndarray,
                 image_ids: np.ndarray,
                 iou_thr: float = 0.35) -> np.ndarray:
    """D of every face of many images, from the generator's geometry.

    The same counts as :func:`match_anchors` with every anchor of each
    image, the grid extended over the whole plane (anchors outside an image
    never reach a face inside it, so image sizes are not needed), without
    building those anchors.

    Args:
        generator: An mmdet ``AnchorGenerator`` (e.g.
            :class:`~hambox_mmdet.models.FaceAnchorGenerator`, any ratios):
            its ``strides`` and ``base_anchors`` lay out the anchors as its
            ``single_level_grid_priors`` does (cell (i, j) holds
            ``base + (j * stride_w, i * stride_h)``).
        faces (np.ndarray): Shape (F, 4), x1 y1 x2 y2 of all faces of all
            images.
        image_ids (np.ndarray): Shape (F, ), int, the image of each face.
        iou_thr (float): Matching threshold, > 0 (at 0 every anchor of the
            unbounded grid would match). Defaults to 0.35.

    Returns:
        np.ndarray: Shape (F, ), int64, the number of anchors matched to
        each face.
    """
    if not iou_thr > 0:
        raise ValueError(f'iou_thr must be > 0, got {iou_thr}')
    faces = np.asarray(faces, dtype=np.float64).reshape(-1, 4)
    image_ids = np.asarray(image_ids, dtype=np.int64).reshape(-1)
    if len(image_ids) != len(faces):
        raise ValueError(f'image_ids ({len(image_ids)}) and faces '
                         f'({len(faces)}) must have the same length')
    num_faces = len(faces)
    areas = np.clip(faces[:, 2] - faces[:, 0], 0, None) * np.clip(
        faces[:, 3] - faces[:, 1], 0, None)
    pair_face, pair_key, pair_iou = [], [], []
    anchor_type = 0
    for level, stride in enumerate(generator.strides):
        for base in generator.base_anchors[level].double().numpy():
            if anchor_type >= MAX_ANCHOR_TYPES:
                raise ValueError(
                    f'match_counts handles at most {MAX_ANCHOR_TYPES} '
                    'levels x base anchors per level')
            area = (base[2] - base[0]) * (base[3] - base[1])
            reach = np.minimum(area, areas) / np.maximum(area, areas)
            sel = np.nonzero((areas > 0) & (reach >= iou_thr))[0]
            if len(sel):
                face, cell, iou = _cell_pairs(faces, sel, base,
                                              float(stride[0]),
                                              float(stride[1]), iou_thr)
                pair_face.append(face)
                # a unique int64 per (image, level and base anchor, cell)
                pair_key.append(
                    (image_ids[face] * MAX_ANCHOR_TYPES + anchor_type) *
                    (1 << 32) + cell)
                pair_iou.append(iou)
            anchor_type += 1
    if not pair_face:
        return np.zeros(num_faces, dtype=np.int64)
    face = np.concatenate(pair_face)
    key = np.concatenate(pair_key)
    iou = np.concatenate(pair_iou)
    # each anchor to its best face: sort by (anchor, -iou, face)
    order = np.lexsort((face, -iou, key))
    key, face = key[order], face[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return np.bincount(face[first], minlength=num_faces).astype(np.int64)


def _cell_pairs(faces: np.ndarray, face_ids: np.ndarray, base: np.ndarray,
                sx: float, sy: float,
                iou_thr: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(face, cell, IoU) of every anchor of one kind reaching ``iou_thr``.

    Args:
        faces (np.ndarray): Shape (F, 4), all faces.
        face_ids (np.ndarray): Shape (S, ), the faces to visit.
        base (np.ndarray): Shape (4, ), the base anchor (cell (0, 0)).
        sx (float): Horizontal stride.
        sy (float): Vertical stride.
        iou_thr (float): Matching threshold.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: Each of shape (P, ): the
        face, a non-negative int key of the grid cell, and their IoU.
    """
    sel = faces[face_ids]
    # IoU >= t needs an intersection >= t * max(both areas, their sum /
    # (1 + t)), hence an overlap along x of at least that over the longest
    # possible overlap along y (and vice versa): the anchor's x1 lies in
    # [fx1 + need_w - aw, fx2 - need_w]. floor / ceil keep every such cell.
    aw, ah = base[2] - base[0], base[3] - base[1]
    fw, fh = sel[:, 2] - sel[:, 0], sel[:, 3] - sel[:, 1]
    inter = iou_thr * np.maximum(
        np.maximum(aw * ah, fw * fh), (aw * ah + fw * fh) / (1 + iou_thr))
    need_w = inter / np.minimum(ah, fh)
    need_h = inter / np.minimum(aw, fw)
    j0 = np.floor((sel[:, 0] + need_w - aw - base[0]) / sx).astype(np.int64)
    j1 = np.ceil((sel[:, 2] - need_w - base[0]) / sx).astype(np.int64)
    i0 = np.floor((sel[:, 1] + need_h - ah - base[1]) / sy).astype(np.int64)
    i1 = np.ceil((sel[:, 3] - need_h - base[1]) / sy).astype(np.int64)
    nj = np.clip(j1 - j0 + 1, 0, None)
    ni = np.clip(i1 - i0 + 1, 0, None)
    counts = nj * ni
    idx = np.repeat(np.arange(len(sel)), counts)
    offset = np.arange(counts.sum()) - np.repeat(
        np.cumsum(counts) - counts, counts)
    j = j0[idx] + offset % nj[idx]
    i = i0[idx] + offset // nj[idx]
    anchors = np.stack([base[0] + j * sx, base[1] + i * sy,
                        base[2] + j * sx, base[3] + i * sy], axis=1)
    iou = bbox_overlaps(
        torch.from_numpy(anchors), torch.from_numpy(sel[idx]),
        is_aligned=True).numpy()
    keep = iou >= iou_thr
    # cells can be negative (anchors left of / above the image): shift the
    # grid by a margin so that keys stay non-negative and unique
    margin = 1 << 15
    cell = (i[keep] + margin) * (1 << 16) + (j[keep] + margin)
    return face_ids[idx[keep]], cell, iou[keep]
