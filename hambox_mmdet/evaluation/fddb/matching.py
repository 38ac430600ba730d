# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDB matching: mask overlaps of ellipses and rectangles, the one-to-one
maximum-weight matching at every score threshold, and the ROC curves.

What the official ``evaluate`` program does (and this module reproduces):

- Each face ellipse is drawn filled on an image-sized canvas with OpenCV's
  ellipse routine: centre rounded to the nearest pixel (after a float32
  conversion), half-axes truncated to integers, angle
  ``(pi - angle) * 180 / pi`` degrees. Each detection ``left top width
  height`` is drawn as a filled rectangle between the rounded corners
  ``(left, top)`` and ``(left + width, top + height)``, both inclusive.
  Anything outside the image is lost. The overlap of a pair is
  ``|A and B| / |A or B|`` counted in pixels.
- For each distinct detection score ``s`` of an image (ascending), the
  detections with score ``>= s`` are matched one-to-one to the faces. The
  program builds the matrix of the faces with a positive overlap x the
  valid detections with a positive overlap (file order; transposed when
  there are more such faces than detections) and solves it with
  libhungarian (:mod:`.hungarian`), which is not always a maximum-weight
  matching (``matching='official'``, the default here); ``'optimal'``
  takes the maximum-weight matching instead. Matched pairs with a
  positive overlap add that overlap to the continuous score and, if it
  exceeds 0.5, one true positive to the discrete score; every other valid
  detection is a false positive.
- The image results are summed over all images at every distinct score of
  the whole detection set; an image without detections adds a point at an
  infinite threshold. TPR = TP / (number of faces).

Here the ellipse is drawn once per face (on a canvas of the image's size,
so the clipping is the official one) and kept as an integral image of its
bounding patch: the pixel count of its intersection with any rectangle is
then four look-ups, for all face-detection pairs of all images at once. Only
the pairs with a positive overlap enter the matching.

``'optimal'``: solved per connected group of faces and detections, in closed
form where a group has one face or one detection (the best overlap among its
valid detections), and with :func:`scipy.optimize.linear_sum_assignment`
otherwise.

``'official'``: for every image and every distinct score of its overlapping
detections (the matrix only changes there), the official matrix's shape and
cover are derived for all of them at once. Where the solver's first,
greedy stars already give every row of the matrix a star, they are its
answer (see :mod:`.hungarian`: such stars are never moved), and the greedy
stars are closed-form when each row's largest overlap is in one column only
and those columns differ: each row keeps its largest overlap. That holds
when the cover starts from the row maxima (their sum is the smaller by more
than 1e-9), or for any square matrix (the solver's answer is then the
unique maximum-weight assignment), and for every matrix with a single row.
Where rows share or tie their best column but the cover surely starts from
the row maxima, the solver's answer is a maximum-weight assignment: when
:func:`scipy.optimize.linear_sum_assignment` finds one that every
assignment without one of its positive pairs trails by more than 1e-9, its
pairs are the solver's. Everything else (a cover from the column maxima,
non-unique optima, distinct overlaps closer than 1e-13 in an image) goes
through :func:`.hungarian.official_assignment` on that image's matrix. On
all of FDDB with 100 synthetic detections per image (204 k image x
threshold matrices) that is 1,127 matrices for the uniqueness test and 218
for the solver.

The closed forms assume, as the official program does without checking,
that the solver's cover updates never move a star's slack past its 1e-15
tolerance (seen at most 3.3e-16 on those 84 k matrices with two or more
rows and columns; the tests compare with the solver on random and real
cases).
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .hungarian import official_assignment

DISCRETE_IOU_THR = 0.5
MATCHING_MODES = ('official', 'optimal')
# distinct overlaps of one image closer than this go through the solver
# (its tolerance is 1e-15; the closed forms need exact ties or clear gaps)
_NEAR_TIE = 1e-13
# a cover decision (row-maxima total vs column-maxima total) closer than
# this goes through the solver, which sums in the official order
_TOTAL_MARGIN = 1e-9


def check_matching(matching: str) -> str:
    """``matching`` if it is one of :data:`MATCHING_MODES`, else an error
    naming them."""
    if matching not in MATCHING_MODES:
        raise ValueError(f'matching must be one of {MATCHING_MODES}, got '
                         f'{matching!r}')
    return matching


def ellipse_draw_params(ellipse: Sequence[float]) -> Tuple[tuple, tuple,
                                                           float]:
    """The arguments the official tool passes to OpenCV's ellipse routine.

    Args:
        ellipse: ``major_radius minor_radius angle(rad) cx cy``.

    Returns:
        tuple: ``(cx, cy)`` int centre, ``(major, minor)`` int half-axes,
        angle in degrees.
    """
    major, minor, angle, cx, cy = (float(v) for v in ellipse[:5])
    centre = (int(np.rint(np.float32(cx))), int(np.rint(np.float32(cy))))
    return centre, (int(major), int(minor)), (np.pi - angle) * 180 / np.pi


def rect_corners(dets: np.ndarray) -> np.ndarray:
    """Rounded corner pixels of ``left top width height`` boxes.

    Args:
        dets (np.ndarray): (K, >=4) ``left top width height ...``.

    Returns:
        np.ndarray: (K, 4) int64 ``x1 y1 x2 y2`` with x1 <= x2, y1 <= y2:
        the inclusive pixel range (before clipping to the image), as OpenCV
        fills between ``round(left, top)`` and ``round(left + w, top + h)``.
    """
    d = np.asarray(dets, dtype=np.float64)
    if d.size == 0:
        return np.zeros((0, 4), np.int64)
    with np.errstate(over='ignore', invalid='ignore'):
        p1 = np.rint(d[:, :2].astype(np.float32)).astype(np.float64)
        p2 = np.rint((d[:, :2] + d[:, 2:4]).astype(np.float32)).astype(
            np.float64)
    lo = np.clip(np.minimum(p1, p2), -2**40, 2**40).astype(np.int64)
    hi = np.clip(np.maximum(p1, p2), -2**40, 2**40).astype(np.int64)
    return np.concatenate([lo, hi], axis=1)


class _EllipseMasks:
    """Integral images of the faces' ellipse masks, concatenated flat.

    Attributes:
        x0, y0, w, h (np.ndarray): (F,) int64 patch origin and size.
        offset (np.ndarray): (F,) int64 start of each (h + 1, w + 1)
            integral image in ``flat``.
        area (np.ndarray): (F,) float64 pixel count of each mask.
        flat (np.ndarray): int32 concatenated integral images (pixel counts
            of the mask above and left of each position).
    """

    def __init__(self, ellipses: Sequence[np.ndarray],
                 sizes: np.ndarray) -> None:
        import cv2
        num = sum(len(e) for e in ellipses)
        self.x0 = np.zeros(num, np.int64)
        self.y0 = np.zeros(num, np.int64)
        self.w = np.zeros(num, np.int64)
        self.h = np.zeros(num, np.int64)
        self.area = np.zeros(num, np.float64)
        self.offset = np.zeros(num, np.int64)
        chunks: List[np.ndarray] = []
        # one buffer; each image draws on its top-left (height, width) view,
        # so OpenCV clips to the image exactly as on an image-sized canvas
        sizes = np.asarray(sizes, np.int64).reshape(-1, 2)
        buf = np.zeros(tuple(sizes.max(0)) if len(sizes) else (1, 1),
                       np.uint8)
        f = pos = 0
        for ells, (height, width) in zip(ellipses, sizes):
            canvas = buf[:int(height), :int(width)]
            for ell in ells:
                centre, axes, angle = ellipse_draw_params(ell)
                cv2.ellipse(canvas, centre, axes, angle, 0, 360, 1, -1)
                reach = max(axes) + 3
                xa = min(max(centre[0] - reach, 0), width)
                xb = min(max(centre[0] + reach + 1, 0), width)
                ya = min(max(centre[1] - reach, 0), height)
                yb = min(max(centre[1] + reach + 1, 0), height)
                patch = canvas[ya:yb, xa:xb]
                # the tight box of the drawn pixels, and its integral image:
                # (h + 1, w + 1) int32 with a zero first row and column
                bx, by, bw, bh = (cv2.boundingRect(patch) if patch.size
                                  else (0, 0, 0, 0))
                integral = cv2.integral(patch[by:by + bh, bx:bx + bw]) \
                    if bw and bh else np.zeros((1, 1), np.int32)
                patch[...] = 0
                self.x0[f], self.y0[f] = xa + bx, ya + by
                self.w[f], self.h[f] = bw, bh
                self.area[f] = integral[-1, -1]
                self.offset[f] = pos
                chunks.append(integral.ravel())
                pos += integral.size
                f += 1
        self.flat = (np.concatenate(chunks) if chunks else np.zeros(
            0, np.int32))

    def count_in(self, face: np.ndarray, x1: np.ndarray, y1: np.ndarray,
                 x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
        """Mask pixels of ``face[p]`` inside the inclusive box p (P pairs)."""
        ax = np.clip(x1 - self.x0[face], 0, self.w[face])
        bx = np.clip(x2 + 1 - self.x0[face], 0, self.w[face])
        ay = np.clip(y1 - self.y0[face], 0, self.h[face])
        by = np.clip(y2 + 1 - self.y0[face], 0, self.h[face])
        bx, by = np.maximum(bx, ax), np.maximum(by, ay)
        stride = self.w[face] + 1
        base = self.offset[face]
        flat = self.flat
        return (flat[base + by * stride + bx] - flat[base + ay * stride + bx]
                - flat[base + by * stride + ax] +
                flat[base + ay * stride + ax]).astype(np.float64)


def pair_overlaps(ellipses: Sequence[np.ndarray], dets: Sequence[np.ndarray],
                  sizes: np.ndarray) -> Tuple[np.ndarray, ...]:
    """Mask overlaps of every face with every detection of its image.

    Args:
        ellipses (Sequence[np.ndarray]): M arrays (N_i, 5) of faces.
        dets (Sequence[np.ndarray]): M arrays (K_i, 5) ``l t w h score``.
        sizes (np.ndarray): (M, 2) image ``height width``.

    Returns:
        tuple: ``face`` (P,), ``det`` (P,) global indices (faces and
        detections numbered image after image) and ``iou`` (P,) float64,
        for all P = sum N_i K_i pairs.
    """
    sizes = np.asarray(sizes, dtype=np.int64).reshape(-1, 2)
    nf = np.array([len(e) for e in ellipses], np.int64)
    nd = np.array([len(d) for d in dets], np.int64)
    masks = _EllipseMasks(ellipses, sizes)
    all_dets = (np.concatenate([np.asarray(d, np.float64).reshape(-1, 5)
                                for d in dets]) if nd.sum() else np.zeros(
                                    (0, 5)))
    corners = rect_corners(all_dets)
    det_img = np.repeat(np.arange(len(nd)), nd)
    hw = sizes[det_img]
    x1 = np.maximum(corners[:, 0], 0)
    y1 = np.maximum(corners[:, 1], 0)
    x2 = np.minimum(corners[:, 2], hw[:, 1] - 1)
    y2 = np.minimum(corners[:, 3], hw[:, 0] - 1)
    det_area = (np.maximum(x2 - x1 + 1, 0) * np.maximum(y2 - y1 + 1, 0))
    # all face x detection pairs, image by image
    num_pairs = nf * nd
    total = int(num_pairs.sum())
    img = np.repeat(np.arange(len(nf)), num_pairs)
    local = np.arange(total) - np.repeat(np.cumsum(num_pairs) - num_pairs,
                                         num_pairs)
    face_start = np.cumsum(nf) - nf
    det_start = np.cumsum(nd) - nd
    face = face_start[img] + local // np.maximum(nd[img], 1)
    det = det_start[img] + local % np.maximum(nd[img], 1)
    inter = masks.count_in(face, x1[det], y1[det], x2[det], y2[det])
    union = masks.area[face] + det_area[det] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return face, det, iou


def _component_events(iou: np.ndarray, scores: np.ndarray
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score sweep of one group of faces x detections (dense IoU matrix).

    Returns the distinct scores (descending) and the discrete / continuous
    totals of the maximum-weight matching of the detections scoring at least
    each of them.
    """
    order = np.argsort(-scores, kind='stable')
    iou, scores = iou[:, order], scores[order]
    distinct, first = np.unique(-scores, return_index=True)
    ends = np.r_[first[1:], len(scores)]
    disc = np.zeros(len(ends))
    cont = np.zeros(len(ends))
    for k, end in enumerate(ends):
        sub = iou[:, :end]
        rows, cols = linear_sum_assignment(sub, maximize=True)
        matched = sub[rows, cols]
        matched = matched[matched > 0]
        cont[k] = matched.sum()
        disc[k] = np.count_nonzero(matched > DISCRETE_IOU_THR)
    return -distinct, disc, cont


def _running_max_in_segments(seg: np.ndarray,
                             values: np.ndarray) -> np.ndarray:
    """Exact running maximum of ``values`` within segments (``seg``: sorted
    ascending segment ids), through the ranks of the values (adding an
    offset per segment to the floats would round them)."""
    uniq, rank = np.unique(values, return_inverse=True)
    base = np.int64(len(uniq))
    key = seg.astype(np.int64) * base + rank.astype(np.int64)
    return uniq[np.maximum.accumulate(key) - seg.astype(np.int64) * base]


def _mark_ranges(start: np.ndarray, end: np.ndarray, size: int) -> np.ndarray:
    """(size,) bool: positions inside any of the ranges [start, end)."""
    diff = np.zeros(size + 1, np.int64)
    np.add.at(diff, start, 1)
    np.add.at(diff, end, -1)
    return np.cumsum(diff[:-1]) > 0


def _unique_optimum(mat: np.ndarray) -> Optional[np.ndarray]:
    """The positive overlaps of the maximum-weight assignment of ``mat``
    (rows <= columns) when every assignment without one of its positive
    pairs weighs clearly less (by more than 1e-9); else None."""
    rows, cols = linear_sum_assignment(mat, maximize=True)
    matched = mat[rows, cols]
    best = matched.sum()
    for i in np.flatnonzero(matched > 0):
        cut = mat.copy()
        cut[rows[i], cols[i]] = -1.0  # forbidden (overlaps are >= 0)
        r2, c2 = linear_sum_assignment(cut, maximize=True)
        if cut[r2, c2].sum() > best - _TOTAL_MARGIN:
            return None
    return matched[matched > 0]


def _official_image_totals(w: np.ndarray, valid: np.ndarray,
                           from_rows: bool) -> Tuple[int, float]:
    """Discrete and continuous totals of one image at one threshold, as the
    official ``Matching::runHungarian`` computes them.

    Args:
        w (np.ndarray): (N, K) overlaps of the image's faces with its
            detections that overlap some face (file order both).
        valid (np.ndarray): (K,) bool, detections scoring >= the threshold.
        from_rows (bool): the solver's cover is known to start from the
            row maxima: its answer is then a maximum-weight assignment
            (:mod:`.hungarian`), the unique one's totals where it is
            unique.
    """
    sub = w[:, valid]
    mat = sub[(sub != 0).any(1)]
    if mat.shape[0] > mat.shape[1]:
        mat = mat.T
    if not mat.size:
        return 0, 0.0
    matched = _unique_optimum(mat) if from_rows else None
    if matched is None:
        matched = mat[np.arange(mat.shape[0]), official_assignment(mat)]
    disc, cont = 0, 0.0
    for x in matched.tolist():  # in the solver's row order, as the program
        if x > 0:
            cont += x
            disc += x > DISCRETE_IOU_THR
    return disc, cont


def _official_events(face: np.ndarray, det: np.ndarray, w: np.ndarray,
                     det_scores: np.ndarray, face_image: np.ndarray
                     ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`match_events` with the official program's matching (pairs with
    a positive overlap only). See the module's notes for the closed forms.
    """
    img = face_image[face]
    # the detections that overlap some face (global numbering = file order
    # inside an image); the matrix of an image changes only at their scores
    od, pair_od = np.unique(det, return_inverse=True)
    od_img = np.zeros(len(od), np.int64)
    od_img[pair_od] = img
    od_score = det_scores[od]
    order = np.lexsort((-od_score, od_img))
    si, ss = od_img[order], od_score[order]
    new = np.r_[True, (si[1:] != si[:-1]) | (ss[1:] != ss[:-1])]
    od_state = np.empty(len(od), np.int64)
    od_state[order] = np.cumsum(new) - 1
    # states: (image, score) with the scores of each image descending
    state_img, state_score = si[new], ss[new]
    num_states = len(state_img)
    img_first = np.r_[True, state_img[1:] != state_img[:-1]]
    first_state = np.maximum.accumulate(
        np.where(img_first, np.arange(num_states), 0))
    block_end = np.r_[np.flatnonzero(img_first)[1:], num_states]
    end_state = block_end[np.cumsum(img_first) - 1]
    pair_state = od_state[pair_od]

    def per_state(at: np.ndarray, weights=None) -> np.ndarray:
        """Cumulative sum over each image's states of quantities that
        arrive at states ``at``."""
        x = np.bincount(at, weights, minlength=num_states)
        c = np.cumsum(x)
        return c - (c[first_state] - x[first_state])

    # matrix size: faces with a positive overlap among the valid detections
    # (mI) x valid detections with a positive overlap (mJ)
    num_j = per_state(od_state)
    uf, pair_uf = np.unique(face, return_inverse=True)
    face_first = np.full(len(uf), num_states, np.int64)
    np.minimum.at(face_first, pair_uf, pair_state)
    num_i = per_state(face_first)

    # faces as rows: each face's best overlap among the valid detections
    o = np.lexsort((det, -w, pair_state, face))
    f1, k1, w1, d1 = face[o], pair_state[o], w[o], det[o]
    g_new = np.r_[True, (f1[1:] != f1[:-1]) | (k1[1:] != k1[:-1])]
    gid = np.cumsum(g_new) - 1
    g_face, g_state, g_best, g_arg = (f1[g_new], k1[g_new], w1[g_new],
                                      d1[g_new])
    g_count = np.bincount(gid, w1 == g_best[gid]).astype(np.int64)
    face_new = np.r_[True, g_face[1:] != g_face[:-1]]
    best = _running_max_in_segments(np.cumsum(face_new), g_best)
    prev = np.where(face_new, 0.0, np.r_[0.0, best[:-1]])
    plateau = face_new | (best > prev)
    p_first = np.flatnonzero(plateau)[np.cumsum(plateau) - 1]
    hits = g_count * (g_best == best)
    c = np.cumsum(hits)
    tied = (c - (c[p_first] - hits[p_first])) >= 2
    g_argmax = g_arg[p_first]
    g_end = np.where(np.r_[~face_new[1:], False], np.r_[g_state[1:], 0],
                     end_state[g_state])
    row_total = per_state(g_state, best - prev)
    row_disc = per_state(g_state, (best > DISCRETE_IOU_THR).astype(float) -
                         (prev > DISCRETE_IOU_THR))
    face_tie = _mark_ranges(g_state[tied], g_end[tied], num_states)
    # two faces whose best detection is the same one, at the same states
    ev_det = np.r_[g_argmax, g_argmax]
    ev_pos = np.r_[g_state, g_end]
    ev_delta = np.r_[np.ones(len(g_state), np.int64),
                     -np.ones(len(g_state), np.int64)]
    eo = np.lexsort((ev_delta, ev_pos, ev_det))
    ev_pos, count = ev_pos[eo], np.cumsum(ev_delta[eo])
    shared = np.flatnonzero(count[:-1] >= 2)
    det_shared = _mark_ranges(ev_pos[shared], ev_pos[shared + 1], num_states)

    # detections as rows (transposed matrix): each one's best face
    o = np.lexsort((face, -w, det))
    d_new = np.r_[True, det[o][1:] != det[o][:-1]]
    did = np.cumsum(d_new) - 1
    od_best, od_argface = w[o][d_new], face[o][d_new]
    od_count = np.bincount(did, w[o] == od_best[did]).astype(np.int64)
    col_total = per_state(od_state, od_best)
    col_disc = per_state(od_state, (od_best > DISCRETE_IOU_THR).astype(float))
    det_tie = per_state(od_state[od_count >= 2]) > 0
    o = np.lexsort((od_state, od_argface))
    second = np.r_[False, od_argface[o][1:] == od_argface[o][:-1]]
    face_shared = per_state(od_state[o][second]) > 0

    # images with distinct overlaps closer than the closed forms allow
    o = np.lexsort((w, img))
    wi, ii = w[o], img[o]
    gap = np.diff(wi)
    near = np.r_[ii[1:][(ii[1:] == ii[:-1]) & (gap > 0) & (gap < _NEAR_TIE)],
                 img[w < _NEAR_TIE]]
    near_state = np.isin(state_img, near)

    size = np.minimum(num_i, num_j)
    upright = num_i <= num_j
    by_rows = np.where(upright, col_total - row_total > _TOTAL_MARGIN,
                       row_total - col_total > _TOTAL_MARGIN)
    closed = np.where(
        upright, ~face_tie & ~det_shared & (by_rows | (num_i == num_j)),
        ~det_tie & ~face_shared & by_rows)
    closed = ((size == 1) | closed) & ~near_state
    tot_d = np.rint(np.where(upright, row_disc, col_disc)).astype(np.int64)
    tot_c = np.where(upright, row_total, col_total)

    # the rest: the official solver on the image's matrix
    slow = np.flatnonzero(~closed)
    if len(slow):
        po = np.argsort(img, kind='stable')
        bounds = np.searchsorted(img[po], state_img[slow], 'left'), \
            np.searchsorted(img[po], state_img[slow], 'right')
        cache = {}
        for g, a, b in zip(slow.tolist(), *bounds):
            key = int(state_img[g])
            if key not in cache:
                sel = po[a:b]
                fu, fi = np.unique(face[sel], return_inverse=True)
                du, di = np.unique(det[sel], return_inverse=True)
                mat = np.zeros((len(fu), len(du)))
                mat[fi, di] = w[sel]
                cache = {key: (mat, od_state[np.searchsorted(od, du)])}
            mat, states = cache[key]
            tot_d[g], tot_c[g] = _official_image_totals(
                mat, states <= g, bool(by_rows[g] and not near_state[g]))
    prev_d = np.where(img_first, 0, np.r_[0, tot_d[:-1]])
    prev_c = np.where(img_first, 0.0, np.r_[0.0, tot_c[:-1]])
    return state_score, (tot_d - prev_d).astype(np.float64), tot_c - prev_c


def match_events(face: np.ndarray,
                 det: np.ndarray,
                 iou: np.ndarray,
                 det_scores: np.ndarray,
                 num_faces: int,
                 matching: str = 'official',
                 face_image: Optional[np.ndarray] = None
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Changes of the matched totals along the score sweep.

    Args:
        face, det, iou (np.ndarray): (P,) pairs (only ``iou > 0`` is used).
            Faces and detections are numbered image after image, in file
            order inside an image (the official matrix keeps that order).
        det_scores (np.ndarray): (D,) scores of all detections.
        num_faces (int): F, the number of faces.
        matching (str): ``'official'`` (the official program's solver on
            its per-image matrix) or ``'optimal'`` (maximum-weight).
        face_image (np.ndarray, optional): (F,) image index of each face
            (``'official'`` solves an image's matrix as a whole). Defaults
            to one image for all.

    Returns:
        tuple: ``score`` (E,), ``d_disc`` (E,), ``d_cont`` (E,): the discrete
        and continuous totals at threshold t are the sums of the changes at
        scores ``>= t``.
    """
    check_matching(matching)
    if matching == 'official':
        keep = iou > 0
        if not keep.any():
            return np.zeros(0), np.zeros(0), np.zeros(0)
        if face_image is None:
            face_image = np.zeros(num_faces, np.int64)
        return _official_events(face[keep], det[keep], iou[keep],
                                np.asarray(det_scores, np.float64),
                                np.asarray(face_image, np.int64))
    keep = iou > 0
    face, det, iou = face[keep], det[keep], iou[keep]
    if not len(iou):
        return np.zeros(0), np.zeros(0), np.zeros(0)
    num_dets = len(det_scores)
    graph = coo_matrix((np.ones(len(face)), (face, num_faces + det)),
                       shape=(num_faces + num_dets, ) * 2)
    _, label = connected_components(graph, directed=False)
    comp = label[face]
    uniq, comp = np.unique(comp, return_inverse=True)
    faces_per = np.bincount(comp[np.unique(face, return_index=True)[1]],
                            minlength=len(uniq))
    dets_per = np.bincount(comp[np.unique(det, return_index=True)[1]],
                           minlength=len(uniq))
    out_s, out_d, out_c = [], [], []
    score = det_scores[det]
    # groups with one face: the best overlap among the valid detections
    one_face = (faces_per == 1)[comp]
    if one_face.any():
        c, s, v = comp[one_face], score[one_face], iou[one_face]
        order = np.lexsort((-s, c))
        c, s, v = c[order], s[order], v[order]
        best = np.maximum.accumulate(v + 2.0 * c) - 2.0 * c
        start = np.r_[True, c[1:] != c[:-1]]
        prev = np.where(start, 0.0, np.r_[0.0, best[:-1]])
        out_s.append(s)
        out_c.append(best - prev)
        out_d.append((best > DISCRETE_IOU_THR).astype(np.float64) -
                     (prev > DISCRETE_IOU_THR))
    # groups with one detection and several faces: its best face
    one_det = ((dets_per == 1) & (faces_per > 1))[comp]
    if one_det.any():
        c, v = comp[one_det], iou[one_det]
        best = np.zeros(len(uniq))
        np.maximum.at(best, c, v)
        cs = np.unique(c)
        first_pair = np.unique(c, return_index=True)[1]
        out_s.append(score[one_det][first_pair])
        out_c.append(best[cs])
        out_d.append((best[cs] > DISCRETE_IOU_THR).astype(np.float64))
    # the rest: Hungarian matching at each distinct score of the group
    general = np.flatnonzero((faces_per > 1) & (dets_per > 1))
    if len(general):
        sel = np.isin(comp, general)
        c, f, d, v = comp[sel], face[sel], det[sel], iou[sel]
        order = np.argsort(c, kind='stable')
        c, f, d, v = c[order], f[order], d[order], v[order]
        bounds = np.flatnonzero(np.r_[True, c[1:] != c[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:]):
            fu, fi = np.unique(f[a:b], return_inverse=True)
            du, di = np.unique(d[a:b], return_inverse=True)
            mat = np.zeros((len(fu), len(du)))
            mat[fi, di] = v[a:b]
            s, disc, cont = _component_events(mat, det_scores[du])
            out_s.append(s)
            out_d.append(np.diff(np.r_[0.0, disc]))
            out_c.append(np.diff(np.r_[0.0, cont]))
    return np.concatenate(out_s), np.concatenate(out_d), np.concatenate(out_c)
