# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""How many anchors standard IoU matching gives each face (HAMBox Fig. 1).

For many images at once, without building every anchor of every image: a
square-ish anchor of side ``a`` can only reach IoU ``t`` with a ``w x h``
face if ``t <= min(a^2, wh) / max(a^2, wh)``, which leaves one or two
pyramid levels per face, and only the few grid cells around the face on
those levels. The anchors themselves come from the generator (its
``base_anchors``, ``strides`` and grid layout), so the statistics are those
of the anchors the detector trains with.
"""
from typing import Dict, Sequence

import numpy as np
import torch

from .face_anchor_generator import FaceAnchorGenerator


def match_counts(generator: FaceAnchorGenerator,
                 faces: np.ndarray,
                 image_ids: np.ndarray,
                 iou_thr: float = 0.35) -> np.ndarray:
    """Anchors matched to each face by standard IoU matching.

    Each anchor goes to the face it overlaps most (the lower index on ties),
    if that IoU is ``>= iou_thr`` (HAMBox's stage 1 / mmdet's MaxIoUAssigner
    without low-quality matching). Anchors cover the whole plane of each
    image (those outside the image never reach a face inside it), so image
    sizes are not needed.

    Args:
        generator (FaceAnchorGenerator): The anchors (any aspect ratios).
        faces (np.ndarray): Shape (F, 4), x1 y1 x2 y2 of all faces of all
            images.
        image_ids (np.ndarray): Shape (F, ), the image of each face.
        iou_thr (float): Matching threshold. Defaults to 0.35.

    Returns:
        np.ndarray: Shape (F, ), int, the number of anchors matched to each
        face.
    """
    faces = np.asarray(faces, dtype=np.float64).reshape(-1, 4)
    image_ids = np.asarray(image_ids, dtype=np.int64)
    num_faces = len(faces)
    if num_faces == 0:
        return np.zeros(0, dtype=np.int64)
    areas = np.clip(faces[:, 2] - faces[:, 0], 0, None) * np.clip(
        faces[:, 3] - faces[:, 1], 0, None)
    pair_face, pair_key, pair_iou = [], [], []
    key_base = 0
    for level, stride in enumerate(generator.strides):
        sx, sy = float(stride[0]), float(stride[1])
        for k, base in enumerate(generator.base_anchors[level].numpy()):
            # one base anchor (one ratio) of this level
            aw, ah = base[2] - base[0], base[3] - base[1]
            ratio = np.minimum(aw * ah, areas) / np.maximum(aw * ah, areas)
            sel = np.nonzero((ratio >= iou_thr) & (areas > 0))[0]
            if len(sel):
                f, key, iou = _level_pairs(faces[sel], sel, base, sx, sy,
                                           iou_thr)
                pair_face.append(f)
                pair_key.append(_anchor_key(image_ids[f], key, key_base))
                pair_iou.append(iou)
            key_base += 1
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
    return np.bincount(face[first], minlength=num_faces)


def _anchor_key(image_ids: np.ndarray, cell: np.ndarray,
                anchor_type: int) -> np.ndarray:
    """A unique int64 per (image, level and ratio, grid cell)."""
    return (image_ids * 64 + anchor_type) * (1 << 32) + cell


def _level_pairs(faces: np.ndarray, face_ids: np.ndarray, base: np.ndarray,
                 sx: float, sy: float, iou_thr: float):
    """(face, cell, IoU) of every anchor of one kind reaching ``iou_thr``.

    The anchor of grid cell (i, j) is ``base + (j * sx, i * sy)``, exactly
    as mmdet's ``single_level_grid_priors`` lays it out.
    """
    # grid cells whose anchor overlaps the face at all
    j0 = np.floor((faces[:, 0] - base[2]) / sx).astype(np.int64) + 1
    j1 = np.ceil((faces[:, 2] - base[0]) / sx).astype(np.int64) - 1
    i0 = np.floor((faces[:, 1] - base[3]) / sy).astype(np.int64) + 1
    i1 = np.ceil((faces[:, 3] - base[1]) / sy).astype(np.int64) - 1
    nj = np.clip(j1 - j0 + 1, 0, None)
    ni = np.clip(i1 - i0 + 1, 0, None)
    counts = nj * ni
    idx = np.repeat(np.arange(len(faces)), counts)
    offset = np.arange(counts.sum()) - np.repeat(
        np.cumsum(counts) - counts, counts)
    j = j0[idx] + offset % nj[idx]
    i = i0[idx] + offset // nj[idx]
    ax1, ay1 = base[0] + j * sx, base[1] + i * sy
    ax2, ay2 = base[2] + j * sx, base[3] + i * sy
    f = faces[idx]
    iw = np.clip(np.minimum(ax2, f[:, 2]) - np.maximum(ax1, f[:, 0]), 0, None)
    ih = np.clip(np.minimum(ay2, f[:, 3]) - np.maximum(ay1, f[:, 1]), 0, None)
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (f[:, 2] - f[:, 0]) * (
        f[:, 3] - f[:, 1]) - inter
    iou = inter / np.maximum(union, 1e-6)
    keep = iou >= iou_thr
    # cells can be negative (anchors left of / above the image): shift the
    # grid by a margin so that keys stay non-negative and unique
    margin = 1 << 15
    cell = (i[keep] + margin) * (1 << 16) + (j[keep] + margin)
    return face_ids[idx[keep]], cell, iou[keep]


def anchor_scale_statistics(faces: np.ndarray,
                            image_ids: np.ndarray,
                            scales: Sequence[float],
                            iou_thr: float = 0.35,
                            **generator_kwargs) -> Dict[str, np.ndarray]:
    """HAMBox Fig. 1: matching statistics for a range of anchor scales.

    Args:
        faces (np.ndarray): Shape (F, 4), x1 y1 x2 y2.
        image_ids (np.ndarray): Shape (F, ), the image of each face.
        scales (Sequence[float]): Anchor scales ``s`` to evaluate.
        iou_thr (float): Matching threshold. Defaults to 0.35.
        **generator_kwargs: Further :class:`FaceAnchorGenerator` arguments
            (``strides``, ``ratios``, ``center_offset``, ...).

    Returns:
        dict: ``scale`` (S, ), ``mean_matched`` (S, ): average anchors
        matched per face, ``share_matched`` (S, ): share of faces with at
        least one, and ``counts`` (S, F): the per-face counts.
    """
    counts = np.stack([
        match_counts(
            FaceAnchorGenerator(anchor_scale=s, **generator_kwargs), faces,
            image_ids, iou_thr) for s in scales
    ]) if len(scales) else np.zeros((0, len(faces)), dtype=np.int64)
    with np.errstate(invalid='ignore'):
        return dict(
            scale=np.asarray(scales, dtype=np.float64),
            mean_matched=counts.mean(axis=1),
            share_matched=(counts > 0).mean(axis=1),
            counts=counts)


def dense_match_counts(generator: FaceAnchorGenerator, faces: torch.Tensor,
                       image_size: int, iou_thr: float = 0.35) -> np.ndarray:
    """The same counts from all anchors of one square image (slow; a check).

    Args:
        generator (FaceAnchorGenerator): The anchors.
        faces (Tensor): Shape (F, 4) faces of one image.
        image_size (int): Side of the square image; anchors are laid out
            with a margin of two strides beyond it on every side.
        iou_thr (float): Matching threshold.

    Returns:
        np.ndarray: Shape (F, ), anchors matched per face.
    """
    from mmdet.structures.bbox import bbox_overlaps
    priors = []
    for level, stride in enumerate(generator.strides):
        n = image_size // stride[0] + 5
        anchors = generator.single_level_grid_priors((n, n), level,
                                                     device='cpu')
        # shift the grid to start one margin of cells before the origin
        priors.append(anchors - 2 * torch.tensor(
            [stride[0], stride[1], stride[0], stride[1]],
            dtype=anchors.dtype))
    priors = torch.cat(priors)
    iou = bbox_overlaps(faces.double(), priors.double())
    best, face = iou.max(dim=0)
    hit = best >= iou_thr
    return np.bincount(face[hit].numpy(), minlength=len(faces))
