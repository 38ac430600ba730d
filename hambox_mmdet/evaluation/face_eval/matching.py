# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face matching: which face each detection takes, as the
Mathias et al. toolkit (``VOCpr.py``) decides it, vectorised.

Over the whole set the toolkit:

1. keeps a detection if its width ``x2 - x1`` or height ``y2 - y1`` exceeds
   ``int(sqrt(0.5 * min_w * min_h))`` (21 px for the 30 px faces);
2. sorts the detections by score, descending; equal scores keep the order
   of the file (a stable sort);
3. compares each detection with every face of its image by IoU with the
   +1-pixel convention (``|x2 - x1| + 1`` per side; an intersection only
   where the boxes overlap strictly) and takes the face of highest IoU, the
   *later* face on ties;
4. IoU > 0.5 with a counted face not yet taken: true positive; with a face
   already taken, or IoU <= 0.5: false positive; with an ignored face:
   neither.

The AP of the resulting curve is in :mod:`.curves`, the box-style
calibration and the whole evaluation in :mod:`.calibration`.

Here every step is one numpy operation over all detections: the pairs
(detection, face of its image) are laid out flat, the best face per
detection is a segment reduction, and "the first detection that takes a
face" is ``np.unique(..., return_index=True)`` in score order. The result
is identical to the plain loop (``benchmarks/reference_face_eval.py``).
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

from .annotations import MIN_FACE_SIZE, FaceEvalGT

#: Pairs (detection, face) evaluated at once by :func:`best_faces`.
MAX_PAIRS = 1 << 21
#: Pairs kept between the scorings of the calibration (about 64 B each).
MAX_CACHED_PAIRS = 1 << 23


def min_detection_size(min_size=MIN_FACE_SIZE) -> int:
    """The toolkit's detection filter, ``int(sqrt(0.5 * min_w * min_h))``:
    21 for 30 px faces."""
    min_w, min_h = (min_size, min_size) if np.isscalar(min_size) \
        else tuple(min_size)
    return int(np.sqrt(0.5 * min_w * min_h))


def keep_detections(boxes: np.ndarray, min_pix: int) -> np.ndarray:
    """(D, ) bool: ``x2 - x1 > min_pix`` or ``y2 - y1 > min_pix``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return ((boxes[:, 2] - boxes[:, 0]) > min_pix) | \
        ((boxes[:, 3] - boxes[:, 1]) > min_pix)


def _area(x1, y1, x2, y2) -> np.ndarray:
    """Areas with the +1 convention, ``(|y2 - y1| + 1) * (|x2 - x1| + 1)``."""
    return (np.abs(y2 - y1) + 1) * (np.abs(x2 - x1) + 1)


def _pair_iou(det: Sequence[np.ndarray], det_area: np.ndarray,
              face: Sequence[np.ndarray], face_area: np.ndarray) -> np.ndarray:
    """IoU of pairs given as columns ``(x1, y1, x2, y2)`` and areas."""
    dx1, dy1, dx2, dy2 = det
    fx1, fy1, fx2, fy2 = face
    overlaps = (dy2 > fy1) & (fy2 > dy1) & (dx2 > fx1) & (fx2 > dx1)
    inter = (np.minimum(dx2, fx2) - np.maximum(dx1, fx1) + 1) * \
        (np.minimum(dy2, fy2) - np.maximum(dy1, fy1) + 1)
    inter = np.where(overlaps, inter, 0.0)
    with np.errstate(divide='ignore', invalid='ignore'):
        return inter / (det_area + face_area - inter)


def toolkit_iou(det: np.ndarray, face: np.ndarray) -> np.ndarray:
    """Row-wise IoU of the toolkit (``util.overlap``), +1-pixel convention.

    Args:
        det (np.ndarray): (P, 4) ``x1 y1 x2 y2``.
        face (np.ndarray): (P, 4) ``x1 y1 x2 y2``.

    Returns:
        np.ndarray: (P, ) float64. Areas use ``|x2 - x1| + 1``; the
        intersection ``(min x2 - max x1 + 1) * (min y2 - max y1 + 1)`` counts
        only where both boxes overlap strictly in x and in y.
    """
    det = np.asarray(det, dtype=np.float64).reshape(-1, 4).T
    face = np.asarray(face, dtype=np.float64).reshape(-1, 4).T
    return _pair_iou(det, _area(*det), face, _area(*face))


class FacePairs:
    """The pairs (detection, face of its image), laid out flat in chunks of
    at most :data:`MAX_PAIRS`, with the faces' columns and areas gathered.

    They depend only on which image each detection is on, so the
    calibration's 5 scorings build them once (kept in memory up to
    :data:`MAX_CACHED_PAIRS` pairs, rebuilt per scoring beyond).

    Args:
        gt (FaceEvalGT): the faces.
        image_idx (np.ndarray): (D, ) int64 image of each detection, -1
            for an image that is not in ``gt``.
    """

    def __init__(self, gt: FaceEvalGT, image_idx: np.ndarray) -> None:
        self.gt = gt
        self.image_idx = np.asarray(image_idx, dtype=np.int64)
        counts = np.diff(gt.face_offsets)
        self.num_faces = np.where(self.image_idx >= 0,
                                  counts[np.maximum(self.image_idx, 0)], 0)
        ends = np.cumsum(self.num_faces)
        self.bounds = [0]
        while self.bounds[-1] < len(self.image_idx):
            lo = self.bounds[-1]
            base = ends[lo - 1] if lo else 0
            nxt = int(np.searchsorted(ends, base + MAX_PAIRS, side='right'))
            self.bounds.append(max(nxt, lo + 1))
        total = int(ends[-1]) if len(ends) else 0
        self._cache = [] if total <= MAX_CACHED_PAIRS else None
        self._face_cols = [np.ascontiguousarray(c) for c in gt.boxes.T]
        self._face_area = _area(*self._face_cols)

    def _chunk(self, lo: int, hi: int) -> Optional[tuple]:
        dets = lo + np.flatnonzero(self.num_faces[lo:hi] > 0)
        if not len(dets):
            return None
        nf = self.num_faces[dets]
        starts = np.cumsum(nf) - nf
        seg = np.repeat(np.arange(len(dets)), nf)
        local = np.arange(int(nf.sum())) - starts[seg]
        first_face = self.gt.face_offsets[self.image_idx[dets]]
        pair_face = first_face[seg] + local
        return (dets, starts, seg, local, first_face, dets[seg],
                [c[pair_face] for c in self._face_cols],
                self._face_area[pair_face])

    def chunks(self):
        """Yield ``(dets, starts, seg, local, first_face, pair_det,
        face_cols, face_area)`` per chunk with pairs."""
        if self._cache:
            yield from self._cache
            return
        for lo, hi in zip(self.bounds[:-1], self.bounds[1:]):
            chunk = self._chunk(lo, hi)
            if chunk is None:
                continue
            if self._cache is not None:
                self._cache.append(chunk)
            yield chunk


def best_faces(gt: FaceEvalGT,
               image_idx: np.ndarray,
               boxes: np.ndarray,
               pairs: Optional[FacePairs] = None
               ) -> Tuple[np.ndarray, np.ndarray]:
    """The face each detection takes: highest IoU, the later face on ties.

    Args:
        gt (FaceEvalGT): the faces.
        image_idx (np.ndarray): (D, ) int64 image of each detection, -1
            for an image that is not in ``gt``.
        boxes (np.ndarray): (D, 4) float64 ``x1 y1 x2 y2``.
        pairs (FacePairs, optional): ``FacePairs(gt, image_idx)``, to reuse.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(best_iou (D, ), face (D, ))``:
        the highest IoU (0 where there is no face, or none overlapping, as
        the toolkit's running maximum starts at 0) and the global index of
        that face (-1 where there is none).
    """
    if pairs is None:
        pairs = FacePairs(gt, image_idx)
    best_iou = np.zeros(len(image_idx))
    face = np.full(len(image_idx), -1, dtype=np.int64)
    det_cols = [np.ascontiguousarray(c) for c in boxes.T]
    det_area = _area(*det_cols)
    for (dets, starts, seg, local, first_face, pair_det, face_cols,
         face_area) in pairs.chunks():
        iou = _pair_iou([c[pair_det] for c in det_cols], det_area[pair_det],
                        face_cols, face_area)
        iou[np.isnan(iou)] = -np.inf
        top = np.maximum.reduceat(iou, starts)
        last = np.maximum.reduceat(np.where(iou == top[seg], local, -1),
                                   starts)
        found = top >= 0
        best_iou[dets[found]] = top[found]
        face[dets[found]] = first_face[found] + last[found]
    return best_iou, face


@dataclass
class MatchResult:
    """Per detection, in evaluation (score) order.

    Attributes:
        tp (np.ndarray): (D, ) bool, true positives.
        fp (np.ndarray): (D, ) bool, false positives (neither: ignored).
        face (np.ndarray): (D, ) int64, the face taken (-1: none).
        best_iou (np.ndarray): (D, ) float64, its IoU (0 where none).
    """
    tp: np.ndarray
    fp: np.ndarray
    face: np.ndarray
    best_iou: np.ndarray


def match_sorted(gt: FaceEvalGT,
                 image_idx: np.ndarray,
                 boxes: np.ndarray,
                 iou_thr: float = 0.5,
                 pairs: Optional[FacePairs] = None) -> MatchResult:
    """True and false positives of detections already in score order.

    Args:
        gt (FaceEvalGT): the faces.
        image_idx (np.ndarray): (D, ) int64, image of each detection (-1:
            not in ``gt``, always a false positive, as in the toolkit).
        boxes (np.ndarray): (D, 4) float64 ``x1 y1 x2 y2``, sorted by score
            (descending, stable).
        iou_thr (float): a face is hit above this IoU. Defaults to 0.5.
        pairs (FacePairs, optional): ``FacePairs(gt, image_idx)``, to reuse.

    Returns:
        MatchResult: see the class.
    """
    best_iou, face = best_faces(gt, image_idx, boxes, pairs)
    hit = (best_iou > iou_thr) & (face >= 0)
    ignored = hit & gt.ignore[np.maximum(face, 0)]
    counted = np.flatnonzero(hit & ~ignored)
    # the first detection (in score order) to reach a face takes it
    _, first = np.unique(face[counted], return_index=True)
    tp = np.zeros(len(face), dtype=bool)
    tp[counted[first]] = True
    return MatchResult(tp=tp, fp=~tp & ~ignored, face=face,
                       best_iou=best_iou)
