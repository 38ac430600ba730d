# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Test helpers for FDDB: a plain-loop reference of the official evaluation
and a writer of small data sets in the official layout.

The reference follows the official program step by step, with none of the
package's shortcuts: full image-sized masks drawn with OpenCV, a brute-force
maximum-weight matching for every distinct score of every image, and the
per-image result lists merged one image after another.
"""
import math
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
FDDB_FOLDS = Path(
    os.environ.get('HAMBOX_SHARED_FDDB',
                   REPO_ROOT.parent / 'shared' / 'data' / 'fddb')) / \
    'FDDB-folds'


def _round32(v: float) -> int:
    # the official tool converts to a 32-bit float, then rounds half to even
    return int(np.rint(np.float32(v)))


def draw_ellipse_mask(ell, height: int, width: int) -> np.ndarray:
    import cv2
    canvas = np.zeros((height, width), np.uint8)
    major, minor, angle, cx, cy = ell[:5]
    cv2.ellipse(canvas, (_round32(cx), _round32(cy)),
                (int(major), int(minor)), (math.pi - angle) * 180 / math.pi,
                0, 360, 1, -1)
    return canvas.astype(bool)


def draw_rect_mask(det, height: int, width: int) -> np.ndarray:
    import cv2
    canvas = np.zeros((height, width), np.uint8)
    left, top, w, h = det[:4]
    cv2.rectangle(canvas, (_round32(left), _round32(top)),
                  (_round32(left + w), _round32(top + h)), 1, -1)
    return canvas.astype(bool)


def brute_force_matching(weights: np.ndarray) -> List[Tuple[int, int]]:
    """Maximum-weight one-to-one matching by trying every assignment."""
    rows, cols = weights.shape
    best = [-1.0, []]

    def visit(r, used, total, pairs):
        if r == rows:
            if total > best[0] + 1e-12:
                best[0], best[1] = total, list(pairs)
            return
        visit(r + 1, used, total, pairs)
        for c in range(cols):
            if c not in used and weights[r, c] > 0:
                used.add(c)
                pairs.append((r, c))
                visit(r + 1, used, total + weights[r, c], pairs)
                pairs.pop()
                used.discard(c)

    visit(0, set(), 0.0, [])
    return best[1]


# ---------------------------------------------------------------------------
# The official program's assignment solver (libhungarian, B. Gerkey 2003), as
# a plain loop: Kuhn's method with a cover (u, v), a status matrix q of 0 /
# 1 / 1* entries, Routine I (alternating search from the columns without a
# star) and Routine II (cover adjustment). Written from a reading of the
# algorithm, step by step, independent from the package's implementation.
# ---------------------------------------------------------------------------
HUNGARIAN_EPS = 1e-15
_ZERO, _ONE, _STAR = 0, 1, 2


class OfficialSolverAbort(RuntimeError):
    """Where the official solver would stop on one of its assertions."""


def _refresh_q(r, u, v, q):
    # an entry is 'tight' where u_i + v_j equals r_ij within the epsilon; a
    # tight entry that is not starred becomes a 1, a loose one a 0 (stars
    # lose their mark only when they stop being tight)
    for i in range(len(r)):
        for j in range(len(r[0])):
            if abs(u[i] + v[j] - r[i][j]) < HUNGARIAN_EPS:
                if q[i][j] == _ZERO:
                    q[i][j] = _ONE
            else:
                q[i][j] = _ZERO


def _routine_one(q, seq, ess_rows):
    """Kuhn's Routine I. Returns 'I' after flipping an alternating path, or
    'II' with ``ess_rows`` set (and the essential columns returned)."""
    m, n = len(q), len(q[0])
    del seq[:]
    for i in range(m):
        ess_rows[i] = False

    def in_seq(row):
        return any(a == row for a, _ in seq)

    col = 0
    while col < n:
        if any(q[i][col] == _STAR for i in range(m)):
            col += 1
            continue
        row = 0
        while row < m:
            if q[row][col] != _ONE:
                row += 1
                continue
            # a 1 in a column without a star: grow an alternating path
            seq.append((row, col))
            cur_row = row
            restart_column = False
            while not restart_column:
                star_col = next((j for j in range(n)
                                 if q[cur_row][j] == _STAR), None)
                if star_col is None:
                    # the path ends in a row without a star: flip it
                    for a, b in seq:
                        q[a][b] = _STAR if q[a][b] == _ONE else _ONE
                    return 'I', None
                # look down the star's column for a 1 in a new row
                search_col, search_row = star_col, 0
                while True:
                    found = None
                    k = search_row
                    while k < m:
                        if q[k][search_col] == _ONE and not in_seq(k):
                            found = k
                            break
                        k += 1
                    if found is not None:
                        seq.append((seq[-1][0], search_col))
                        seq.append((found, search_col))
                        cur_row = found
                        break
                    # no way on from the last row of the path: essential;
                    # step back and try the next 1 of the previous column
                    last_row, last_col = seq[-1]
                    ess_rows[last_row] = True
                    if len(seq) > 1:
                        del seq[-2:]
                        search_col, search_row = last_col, last_row + 1
                        continue
                    del seq[-1]
                    # back to the first column: its next 1, below last_row
                    restart_column = True
                    row = last_row
                    break
            row += 1
        col += 1
    ess_cols = [
        any(q[i][j] == _STAR and not ess_rows[i] for i in range(m))
        for j in range(n)
    ]
    return 'II', ess_cols


def _routine_two(r, u, v, q, ess_rows, ess_cols):
    """Kuhn's Routine II: 'done', or adjust the cover and return 'I'."""
    m, n = len(r), len(r[0])
    d = 0.0
    for i in range(m):
        if ess_rows[i]:
            continue
        for j in range(n):
            if ess_cols[j]:
                continue
            slack = u[i] + v[j] - r[i][j]
            if slack < -HUNGARIAN_EPS:
                raise OfficialSolverAbort('cover violated before Routine II')
            # the official running minimum restarts while it is (near) 0
            if abs(d) < HUNGARIAN_EPS or (-HUNGARIAN_EPS < slack < d):
                d = slack
    if d < -HUNGARIAN_EPS:
        raise OfficialSolverAbort('negative step in Routine II')
    if abs(d) < HUNGARIAN_EPS:
        return 'done'
    if any(not ess_rows[i] and u[i] == 0 for i in range(m)):
        step = d
        for j in range(n):
            if not ess_cols[j] and v[j] < step:
                step = v[j]
        for i in range(m):
            if ess_rows[i]:
                u[i] += step
        for j in range(n):
            if not ess_cols[j]:
                v[j] -= step
    else:
        step = d
        for i in range(m):
            if not ess_rows[i] and u[i] < step:
                step = u[i]
        for i in range(m):
            if not ess_rows[i]:
                u[i] -= step
        for j in range(n):
            if ess_cols[j]:
                v[j] += step
    for i in range(m):
        for j in range(n):
            if u[i] + v[j] - r[i][j] < -HUNGARIAN_EPS:
                raise OfficialSolverAbort('cover violated after Routine II')
    _refresh_q(r, u, v, q)
    return 'I'


def official_hungarian(weights, max_steps: int = 100000) -> List[int]:
    """The official solver on an (m, n) matrix, m <= n, maximising.

    Returns:
        list[int]: the column assigned to each row.
    """
    r = [[float(x) for x in row] for row in weights]
    m = len(r)
    n = len(r[0]) if m else 0
    assert m <= n, 'the official solver needs rows <= columns'
    if m == 0:
        return []
    u, v = [0.0] * m, [0.0] * n
    q = [[_ZERO] * n for _ in range(m)]
    # initial cover: the row maxima or the column maxima, whichever sums
    # less (rows on a tie), summed in index order
    row_max = [0.0] * m
    col_max = [0.0] * n
    row_total = col_total = 0.0
    for i in range(m):
        for j in range(n):
            if r[i][j] > row_max[i]:
                row_max[i] = r[i][j]
        row_total += row_max[i]
    for j in range(n):
        for i in range(m):
            if r[i][j] > col_max[j]:
                col_max[j] = r[i][j]
        col_total += col_max[j]
    from_rows = row_total <= col_total
    if from_rows:
        u = list(row_max)
    else:
        v = list(col_max)
    _refresh_q(r, u, v, q)
    # first stars: row by row (cover from the rows) or column by column,
    # the first 1 whose column (row) holds no star yet
    if from_rows:
        for i in range(m):
            for j in range(n):
                if q[i][j] == _ONE and not any(
                        q[k][j] == _STAR for k in range(m) if k != i):
                    q[i][j] = _STAR
                    break
    else:
        for j in range(n):
            for i in range(m):
                if q[i][j] == _ONE and not any(
                        q[i][k] == _STAR for k in range(n) if k != j):
                    q[i][j] = _STAR
                    break
    seq: List[Tuple[int, int]] = []
    ess_rows = [False] * m
    state, ess_cols = 'I', None
    for _ in range(max_steps):
        if state == 'I':
            state, ess_cols = _routine_one(q, seq, ess_rows)
        else:
            state = _routine_two(r, u, v, q, ess_rows, ess_cols)
            if state == 'done':
                break
    else:
        raise OfficialSolverAbort('no convergence')
    stars = [[j for j in range(n) if q[i][j] == _STAR] for i in range(m)]
    cols = [sum(q[i][j] == _STAR for i in range(m)) for j in range(n)]
    if any(len(s) != 1 for s in stars) or any(c > 1 for c in cols):
        raise OfficialSolverAbort('infeasible assignment')
    return [s[0] for s in stars]


def official_image_matching(iou: np.ndarray,
                            valid: Sequence[bool]) -> List[Tuple[int, int]]:
    """The (face, detection) pairs the official ``Matching::runHungarian``
    reports for one image: faces with a positive overlap among the valid
    detections x valid detections with a positive overlap, in file order,
    transposed when there are more such faces than detections; pairs with a
    positive overlap only, in the order of the solver's rows."""
    nf, nd = iou.shape
    w = np.asarray(iou, np.float64).tolist()
    faces = [a for a in range(nf)
             if sum(w[a][b] for b in range(nd) if valid[b]) != 0]
    dets = [b for b in range(nd)
            if valid[b] and sum(w[a][b] for a in range(nf)) != 0]
    transpose = len(faces) > len(dets)
    rows, cols = (dets, faces) if transpose else (faces, dets)
    mat = [[w[c][r] if transpose else w[r][c] for c in cols] for r in rows]
    assignment = official_hungarian(mat) if rows else []
    pairs = []
    for i, j in enumerate(assignment):
        a, b = (cols[j], rows[i]) if transpose else (rows[i], cols[j])
        if w[a][b] > 0:
            pairs.append((a, b))
    return pairs


def _image_results(ells, dets, height, width, matching='official'):
    """[(threshold, N, tp_disc, tp_cont, fp)] ascending, one image."""
    n = len(ells)
    if len(dets) == 0:
        return [(math.inf, n, 0, 0.0, 0)]
    emasks = [draw_ellipse_mask(e, height, width) for e in ells]
    dmasks = [draw_rect_mask(d, height, width) for d in dets]
    iou = np.zeros((n, len(dets)))
    for a in range(n):
        for b in range(len(dets)):
            union = (emasks[a] | dmasks[b]).sum()
            inter = (emasks[a] & dmasks[b]).sum()
            iou[a, b] = inter / union if union else 0.0
    return image_results_from_overlaps(iou, [d[4] for d in dets], matching)


def image_results_from_overlaps(iou: np.ndarray, scores: Sequence[float],
                                matching: str = 'official'):
    """[(threshold, N, tp_disc, tp_cont, fp)] ascending, one image, from its
    (faces, detections) overlap matrix and the detections' scores."""
    n = iou.shape[0]
    scores = [float(x) for x in scores]
    if not scores:
        return [(math.inf, n, 0, 0.0, 0)]
    out = []
    for t in sorted(set(scores)):
        flags = [x >= t for x in scores]
        valid = [b for b in range(len(scores)) if flags[b]]
        if matching == 'official':
            pairs = official_image_matching(iou, flags)
        else:
            pairs = [(a, valid[b])
                     for a, b in brute_force_matching(iou[:, valid])]
        disc, cont = 0, 0.0
        for a, b in pairs:
            cont += float(iou[a, b])
            disc += bool(iou[a, b] > 0.5)
        out.append((t, n, disc, cont, len(valid) - disc))
    return out


def _merge(acc, new):
    """The official merge of two ascending result lists."""
    if not acc:
        return list(new)
    n_acc, n_new = acc[0][1], new[0][1]
    merged = []
    i = j = 0
    while i < len(acc):
        if j < len(new):
            a, b = acc[i], new[j]
            merged.append((min(a[0], b[0]), a[1] + b[1], a[2] + b[2],
                           a[3] + b[3], a[4] + b[4]))
            if a[0] < b[0]:
                i += 1
            elif a[0] == b[0]:
                i += 1
                j += 1
            else:
                j += 1
        else:
            a = acc[i]
            merged.append((a[0], a[1] + n_new, a[2], a[3], a[4]))
            i += 1
    while j < len(new):
        b = new[j]
        merged.append((b[0], b[1] + n_acc, b[2], b[3], b[4]))
        j += 1
    return merged


def merge_image_results(per_image) -> Dict[str, np.ndarray]:
    """The official merge of per-image result lists, as arrays."""
    acc: List[tuple] = []
    for res in per_image:
        acc = _merge(acc, res)
    arr = list(zip(*acc))
    return dict(
        thresholds=np.array(arr[0], np.float64),
        num_faces=np.array(arr[1]),
        tp_discrete=np.array(arr[2]),
        tp_continuous=np.array(arr[3], np.float64),
        fp=np.array(arr[4]))


def reference_roc(ellipses: Sequence[np.ndarray],
                  dets: Sequence[np.ndarray],
                  sizes: Sequence[Tuple[int, int]],
                  matching: str = 'official') -> Dict[str, np.ndarray]:
    """The official ROC points: threshold, N, tp_discrete, tp_continuous,
    fp (ascending threshold). ``matching``: ``'official'`` (the official
    program's solver on its per-image matrix) or ``'optimal'`` (a
    brute-force maximum-weight matching)."""
    return merge_image_results(
        _image_results(ells, d, h, w, matching)
        for ells, d, (h, w) in zip(ellipses, dets, sizes))


def write_fddb_subset(root: Path,
                      per_fold: int = 6,
                      folds: Sequence[int] = (1, 2),
                      seed: int = 0) -> Tuple[Path, Path, Dict]:
    """Copy the first ``per_fold`` images of real fold files and generate
    their images (uniform grey with the faces drawn), in the official
    layout ``FDDB-folds/`` and ``originalPics/<path>.jpg``.

    Returns:
        tuple: the folds folder, the images folder and
        ``{key: (height, width)}`` of the generated images.
    """
    import cv2

    from hambox_mmdet.evaluation.fddb import read_ellipse_list
    rng = np.random.default_rng(seed)
    folds_dir = root / 'FDDB-folds'
    images_dir = root / 'originalPics'
    folds_dir.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for fold in folds:
        src = FDDB_FOLDS / f'FDDB-fold-{fold:02d}-ellipseList.txt'
        paths, ells = read_ellipse_list(str(src))
        paths, ells = paths[:per_fold], ells[:per_fold]
        lines, listed = [], []
        for key, e in zip(paths, ells):
            listed.append(key)
            lines += [key, str(len(e))]
            lines += [' '.join(f'{v:.6f}' for v in row) + '  1' for row in e]
            reach = np.hypot(e[:, 0], e[:, 1])
            w = int(max(np.max(e[:, 3] + reach), 64)) + int(rng.integers(
                2, 30))
            h = int(max(np.max(e[:, 4] + reach), 64)) + int(rng.integers(
                2, 30))
            img = np.full((h, w, 3), 128, np.uint8)
            for row in e:
                cv2.ellipse(img, (int(row[3]), int(row[4])),
                            (int(row[0]), int(row[1])),
                            (math.pi - row[2]) * 180 / math.pi, 0, 360,
                            (90, 140, 200), -1)
            out = images_dir / (key + '.jpg')
            out.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(out), img)
            sizes[key] = (h, w)
        (folds_dir / f'FDDB-fold-{fold:02d}.txt').write_text(
            '\n'.join(listed) + '\n')
        (folds_dir / f'FDDB-fold-{fold:02d}-ellipseList.txt').write_text(
            '\n'.join(lines) + '\n')
    return folds_dir, images_dir, sizes


def random_case(rng: np.random.Generator,
                num_images: int = 5,
                size_range: Tuple[int, int] = (40, 90),
                score_levels: Optional[int] = 6):
    """Random faces and detections (some crossing the image border, some
    with negative sizes, scores with ties) for the reference comparison."""
    ellipses, dets, sizes = [], [], []
    for _ in range(num_images):
        h, w = rng.integers(*size_range, size=2)
        nf = int(rng.integers(1, 4))
        e = np.stack([
            rng.uniform(3, 25, nf), rng.uniform(2, 18, nf),
            rng.uniform(-math.pi, math.pi, nf), rng.uniform(-5, w + 5, nf),
            rng.uniform(-5, h + 5, nf)
        ], 1)
        e[:, 1] = np.minimum(e[:, 0], e[:, 1])
        nd = int(rng.integers(0, 7))
        centre = e[rng.integers(0, nf, nd), 3:5] + rng.normal(0, 6, (nd, 2))
        size = rng.uniform(4, 45, (nd, 2)) * rng.choice([1, 1, 1, -1],
                                                        (nd, 2))
        score = (rng.integers(0, score_levels, nd) / score_levels
                 if score_levels else rng.uniform(0, 1, nd))
        d = np.concatenate(
            [centre - size / 2, size, score[:, None]], 1)
        ellipses.append(e)
        dets.append(d)
        sizes.append((int(h), int(w)))
    return ellipses, dets, sizes
