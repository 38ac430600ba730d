# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Reference AFW / PASCAL Face evaluation: a plain loop, one detection and
one face at a time, in the order of the Mathias et al. toolkit
(``plot_AP.py`` -> ``VOCpr.filterdet``, ``evaluate_optim``,
``VOCprRecordOptim``, ``util.overlap``, ``transf_dets``, ``drawPrfast``,
``VOCap``), independent of the vectorised code in
:mod:`hambox_mmdet.evaluation.face_eval`.

Ground truth: ``{key: [[x1, y1, x2, y2, ignored], ...]}``; detections:
``[[key, score, x1, y1, x2, y2], ...]`` in file order. It is slow on purpose
(the baseline of ``bench_face_eval.py``) and is the tests' oracle.
"""
import math
from typing import Dict, List, Tuple

import numpy as np


def reference_load_gt(ann_file: str, min_size: int = 30) -> Dict[str, list]:
    """The faces per image key, with the small-face rule applied."""
    from scipy.io import loadmat
    anns = loadmat(ann_file)['Annotations']
    gt = {}
    for i in range(anns.shape[0]):
        entry = anns[i][0]
        name = str(entry['imgname'][0])
        key = name.split('/')[-1].split('.')[0]
        faces = []
        for row in entry['objects']:
            x1, y1, x2, y2 = (int(v) for v in row[:4])
            ignored = int(row[5]) if len(row) > 5 else 0
            if abs(x2 - x1) < min_size or abs(y2 - y1) < min_size:
                ignored = 1
            faces.append([x1, y1, x2, y2, ignored])
        gt[key] = faces
    return gt


def reference_read_dets(path: str) -> List[list]:
    """``[key, score, x1, y1, x2, y2]`` per non-blank line."""
    dets = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts:
                dets.append([parts[0].split('.')[0]] +
                            [float(v) for v in parts[1:6]])
    return dets


def overlap(det: list, face: list) -> float:
    """IoU with the +1 convention and the toolkit's strict overlap test."""
    area_d = (abs(det[2] - det[0]) + 1) * (abs(det[3] - det[1]) + 1)
    area_f = (abs(face[2] - face[0]) + 1) * (abs(face[3] - face[1]) + 1)
    inter = 0
    if det[3] > face[1] and face[3] > det[1] and \
            det[2] > face[0] and face[2] > det[0]:
        inter = (min(det[2], face[2]) - max(det[0], face[0]) + 1) * \
            (min(det[3], face[3]) - max(det[1], face[1]) + 1)
    return inter / float(area_d + area_f - inter)


def score_once(gt: Dict[str, list], dets: List[list], iou_thr: float
               ) -> Tuple[list, list, int, list]:
    """One scoring: ``(tp, fp, num_counted, styles of the true positives)``.

    ``dets`` must already be in score order.
    """
    taken = {key: [False] * len(faces) for key, faces in gt.items()}
    num_counted = sum(1 for faces in gt.values() for f in faces if not f[4])
    tp, fp, styles = [], [], []
    for det in dets:
        key, box = det[0], det[2:6]
        best, best_face = 0.0, 0
        for j, face in enumerate(gt.get(key, [])):
            iou = overlap(box, face)
            if iou >= best:  # NaN never wins; ties go to the later face
                best, best_face = iou, j
        is_tp = is_fp = 0
        if best > iou_thr:
            face = gt[key][best_face]
            if not face[4]:
                if taken[key][best_face]:
                    is_fp = 1
                else:
                    taken[key][best_face] = True
                    is_tp = 1
                    w, h = box[2] - box[0], box[3] - box[1]
                    styles.append((
                        ((face[2] + face[0]) / 2. - (box[2] + box[0]) / 2.) /
                        w,
                        ((face[3] + face[1]) / 2. - (box[3] + box[1]) / 2.) /
                        h, (face[2] - face[0]) / w, (face[3] - face[1]) / h))
        else:
            is_fp = 1
        tp.append(is_tp)
        fp.append(is_fp)
    return tp, fp, num_counted, styles


def reference_ap(tp: list, fp: list, num_counted: int) -> float:
    """VOC all-point AP, a loop over the curve."""
    rec, prec = [], []
    ctp = cfp = 0
    for t, f in zip(tp, fp):
        ctp += t
        cfp += f
        rec.append(ctp / num_counted)
        prec.append(ctp / (ctp + cfp) if ctp + cfp else math.nan)
    mrec = [0.0] + rec + [1.0]
    mpre = [0.0] + prec + [0.0]
    for i in range(len(mpre) - 2, 0, -1):
        if mpre[i + 1] > mpre[i]:  # the toolkit's max(a, b), NaN included
            mpre[i] = mpre[i + 1]
    terms = [(mrec[i] - mrec[i - 1]) * mpre[i] for i in range(1, len(mrec))
             if mrec[i] != mrec[i - 1]]
    ap = float(np.sum(terms))  # the toolkit sums with numpy too
    return ap


def reference_evaluate(gt: Dict[str, list], dets: List[list],
                       num_calib_iters: int = 5, iou_thr: float = 0.5,
                       min_size: int = 30) -> dict:
    """AP without and with the box-style calibration, and the last
    scoring's true / false positives (in score order)."""
    min_pix = int(math.sqrt(0.5 * min_size * min_size))
    kept = [d for d in dets if d[4] - d[2] > min_pix or d[5] - d[3] > min_pix]
    order = sorted(range(len(kept)), key=lambda i: -kept[i][1])  # stable
    current = [kept[i] for i in order]
    out = {}
    for it in range(num_calib_iters):
        tp, fp, num_counted, styles = score_once(gt, current, iou_thr)
        if it == 0:
            out['ap'] = reference_ap(tp, fp, num_counted)
            out['tp'], out['fp'] = tp, fp
        if not styles:
            break
        mean = [float(np.mean([s[c] for s in styles])) for c in range(4)]
        tx, ty, sx, sy = mean
        moved = []
        for d in current:
            w = (d[4] - d[2]) / 2.0
            h = (d[5] - d[3]) / 2.0
            cx = (d[4] + d[2]) / 2. + tx * w * 2
            cy = (d[5] + d[3]) / 2. + ty * h * 2
            moved.append([d[0], d[1], cx - w * sx, cy - h * sy, cx + w * sx,
                          cy + h * sy])
        current = moved
    out['ap_calibrated'] = reference_ap(tp, fp, num_counted)
    out['tp_calibrated'], out['fp_calibrated'] = tp, fp
    return out
