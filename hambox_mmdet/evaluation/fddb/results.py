# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The FDDB ROC curves and the numbers papers quote from them."""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Sequence

import numpy as np

KINDS = ('discrete', 'continuous')


@dataclass
class FDDBResult:
    """Both FDDB ROC curves, one point per distinct score threshold.

    Arrays have shape (T,), ordered by ascending threshold (decreasing
    number of false positives), as the official ``DiscROC.txt`` /
    ``ContROC.txt``. At threshold t the detections with score >= t count.

    Attributes:
        thresholds (np.ndarray): (T,) the distinct detection scores, plus
            ``inf`` last when some image has no detection (the official
            tool's point at the largest double).
        fp (np.ndarray): (T,) int64 false positives.
        tp_discrete (np.ndarray): (T,) int64 matched pairs with overlap
            > 0.5.
        tp_continuous (np.ndarray): (T,) float64 sum of matched overlaps.
        num_faces (int): annotated faces of the evaluated folds (N).
        num_images (int): evaluated images.
        num_images_without_dets (int): images with no detection.
        num_dets (int): detections.
        matching (str): how faces and detections were paired:
            ``'official'`` (the official program's solver) or
            ``'optimal'`` (maximum-weight matching).
    """

    thresholds: np.ndarray
    fp: np.ndarray
    tp_discrete: np.ndarray
    tp_continuous: np.ndarray
    num_faces: int
    num_images: int = 0
    num_images_without_dets: int = 0
    num_dets: int = 0
    matching: str = 'official'

    def tpr(self, kind: str = 'discrete') -> np.ndarray:
        """(T,) true positive rate TP / N of the ``kind`` curve."""
        if kind not in KINDS:
            raise ValueError(f'kind must be one of {KINDS}, got {kind!r}')
        tp = self.tp_discrete if kind == 'discrete' else self.tp_continuous
        return np.asarray(tp, np.float64) / max(self.num_faces, 1)

    def tpr_at(self, max_fp: float, kind: str = 'discrete') -> float:
        """The curve's TPR at ``max_fp`` false positives.

        The highest TPR among the points with at most ``max_fp`` false
        positives (the curve's height there; 0 if no point qualifies).
        """
        ok = self.fp <= max_fp
        return float(self.tpr(kind)[ok].max()) if ok.any() else 0.0

    def to_dict(self, fp_points: Sequence[int] = (1000, 2000)) -> Dict:
        """The JSON of ``tools/eval_fddb.py``: ``discrete_tpr@1000fp``,
        ``continuous_tpr@1000fp`` (and at each of ``fp_points``), counts and
        the whole curves (``roc`` with lists ``threshold``, ``fp``,
        ``tp_discrete``, ``tp_continuous``, ``discrete_tpr``,
        ``continuous_tpr``; an infinite threshold is written as null)."""
        out: Dict = {}
        for n in fp_points:
            for kind in KINDS:
                out[f'{kind}_tpr@{n}fp'] = self.tpr_at(n, kind)
        out.update(
            num_faces=int(self.num_faces),
            num_images=int(self.num_images),
            num_images_without_dets=int(self.num_images_without_dets),
            num_dets=int(self.num_dets),
            matching=self.matching)
        thr = [None if not np.isfinite(t) else float(t)
               for t in self.thresholds]
        out['roc'] = dict(
            threshold=thr,
            fp=[int(v) for v in self.fp],
            tp_discrete=[int(v) for v in self.tp_discrete],
            tp_continuous=[float(v) for v in self.tp_continuous],
            discrete_tpr=[float(v) for v in self.tpr('discrete')],
            continuous_tpr=[float(v) for v in self.tpr('continuous')])
        return out

    def save_roc(self, prefix: str) -> None:
        """Write ``<prefix>DiscROC.txt`` and ``<prefix>ContROC.txt`` with the
        official program's columns, one point per line in ascending
        threshold: ``tpr fp threshold`` (discrete) and ``tpr fp``
        (continuous), so that plotting scripts made for the official files
        read them unchanged. Numbers are written in full precision (the
        program prints 6 significant digits); the point of images without
        detections has the largest double as its threshold, as there."""
        folder = osp.dirname(prefix)
        if folder:
            import os
            os.makedirs(folder, exist_ok=True)
        thr = np.where(np.isfinite(self.thresholds), self.thresholds,
                       np.finfo(np.float64).max).tolist()
        fp = np.asarray(self.fp).tolist()
        disc, cont = [], []
        for r_d, r_c, f, t in zip(self.tpr('discrete').tolist(),
                                  self.tpr('continuous').tolist(), fp, thr):
            if self.num_faces:
                disc.append(f'{r_d!r} {f} {t!r}\n')
                cont.append(f'{r_c!r} {f}\n')
            else:  # the program's lines for a set without faces
                disc.append(f'0 0 {t!r}\n')
                cont.append('0 0\n')
        with open(f'{prefix}DiscROC.txt', 'w') as f:
            f.write(''.join(disc))
        with open(f'{prefix}ContROC.txt', 'w') as f:
            f.write(''.join(cont))

    def summary(self, fp_points: Sequence[int] = (1000, 2000)) -> str:
        """Lines with the TPRs at ``fp_points`` and the counts."""
        lines = []
        for n in fp_points:
            lines.append(
                f'TPR at {n} false positives: discrete '
                f'{self.tpr_at(n, "discrete"):.4f}, continuous '
                f'{self.tpr_at(n, "continuous"):.4f}')
        lines.append(
            f'{self.num_faces} faces in {self.num_images} images, '
            f'{self.num_dets} detections, {self.num_images_without_dets} '
            'images without detections')
        return '\n'.join(lines)
