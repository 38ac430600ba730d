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


def _image_results(ells, dets, height, width):
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
    out = []
    for t in sorted(set(float(d[4]) for d in dets)):
        valid = [b for b in range(len(dets)) if dets[b][4] >= t]
        pairs = brute_force_matching(iou[:, valid])
        disc, cont = 0, 0.0
        for a, b in pairs:
            cont += iou[a, valid[b]]
            disc += iou[a, valid[b]] > 0.5
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


def reference_roc(ellipses: Sequence[np.ndarray],
                  dets: Sequence[np.ndarray],
                  sizes: Sequence[Tuple[int, int]]) -> Dict[str, np.ndarray]:
    """The official ROC points: threshold, N, tp_discrete, tp_continuous,
    fp (ascending threshold)."""
    acc: List[tuple] = []
    for ells, d, (h, w) in zip(ellipses, dets, sizes):
        acc = _merge(acc, _image_results(ells, d, h, w))
    arr = list(zip(*acc))
    return dict(
        thresholds=np.array(arr[0], np.float64),
        num_faces=np.array(arr[1]),
        tp_discrete=np.array(arr[2]),
        tp_continuous=np.array(arr[3], np.float64),
        fp=np.array(arr[4]))


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
