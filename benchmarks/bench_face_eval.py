# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Benchmark of the AFW / PASCAL Face evaluation on the full sets, with the
toolkit's shipped DPM detections (11,248 and 3,780 boxes).

Times, on one core, per set:

(a) ``face_eval.evaluate`` (vectorised): AP without and with the
    5-iteration calibration (5 scorings);
(b) the whole command path: read the ``.mat`` and the detection file, then
    (a);
(c) the plain per-detection, per-face loop of the toolkit's protocol
    (``tests/oracles/reference_face_eval.py``) on the same input; both must
    give the same APs exactly;
(d) (a) on ``--per-image`` synthetic boxes per image (default 1,000, what
    a detector with a 0.02 score threshold gives): jittered copies of the
    faces plus random boxes (fixed seed).

Run (one core, BLAS / OpenMP threads pinned to 1)::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
    taskset -c 0 .venv/bin/python benchmarks/bench_face_eval.py \\
        --data ../shared/data/face_eval
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / 'tests'))  # the oracles

from oracles.reference_face_eval import (  # noqa: E402
    reference_evaluate, reference_load_gt, reference_read_dets)
from timing import median_time  # noqa: E402

from hambox_mmdet.evaluation import face_eval  # noqa: E402
from hambox_mmdet.evaluation.face_eval import image_indices  # noqa: E402

SETS = [('AFW', 'new_annotations_AFW.mat'),
        ('PASCAL', 'Annotations_Face_PASCALLayout_large_fixed.mat')]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data',
        default=str(HERE.parent.parent / 'shared' / 'data' / 'face_eval'),
        help='folder with annotations/ and detections/{AFW,PASCAL}/DPM.txt')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--per-image', type=int, default=1000)
    args = parser.parse_args()
    data = Path(args.data)
    print(f'machine: {platform.processor() or platform.machine()}, '
          f'{os.cpu_count()} CPUs visible, python {platform.python_version()}'
          f', date {time.strftime("%Y-%m-%d", time.gmtime())}')
    for name, ann_name in SETS:
        ann = data / 'annotations' / ann_name
        det = data / 'detections' / name / 'DPM.txt'
        gt = face_eval.load_ground_truth(ann)
        dets = face_eval.read_predictions(det)
        idx = image_indices(gt, dets.keys)

        def vectorised():
            return face_eval.evaluate(gt, idx, dets.scores, dets.boxes)

        def command_path():
            g = face_eval.load_ground_truth(ann)
            d = face_eval.read_predictions(det)
            return face_eval.evaluate(g, image_indices(g, d.keys), d.scores,
                                      d.boxes)

        ref_gt = reference_load_gt(str(ann))
        ref_dets = reference_read_dets(str(det))

        def loop():
            return reference_evaluate(ref_gt, ref_dets)

        result = vectorised()
        ref = loop()
        assert (result.ap, result.ap_calibrated) == (ref['ap'],
                                                     ref['ap_calibrated'])
        t_vec = median_time(vectorised, args.repeats, 'cpu')
        t_cmd = median_time(command_path, args.repeats, 'cpu')
        t_loop = median_time(loop, max(1, args.repeats // 2), 'cpu')
        print(f'{name}: {len(gt)} images, {gt.num_faces} faces, '
              f'{len(dets)} DPM boxes; AP {result.ap_calibrated * 100:.2f} '
              f'calibrated / {result.ap * 100:.2f} not (equal to the loop)')
        print(f'  (a) face_eval.evaluate, 5 scorings: {t_vec * 1e3:.1f} ms '
              f'wall, {cpu_time(vectorised) * 1e3:.1f} ms CPU')
        print(f'  (b) read .mat + detection file + (a): {t_cmd * 1e3:.1f} '
              f'ms wall, {cpu_time(command_path) * 1e3:.1f} ms CPU')
        print(f'  (c) plain loop, same input: {t_loop * 1e3:.1f} ms wall '
              f'({t_loop / t_vec:.0f}x (a)), {cpu_time(loop) * 1e3:.1f} ms '
              'CPU')
        s_idx, s_scores, s_boxes = synthetic(gt, args.per_image)

        def big():
            return face_eval.evaluate(gt, s_idx, s_scores, s_boxes)

        t_syn = median_time(big, max(1, args.repeats // 2), 'cpu')
        print(f'  (d) face_eval.evaluate, {args.per_image} boxes per image '
              f'({len(s_scores):,} boxes): {t_syn:.2f} s wall, '
              f'{cpu_time(big):.2f} s CPU')


def cpu_time(fn) -> float:
    """CPU seconds of this process for one call of ``fn()``."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def synthetic(gt, per_image: int, seed: int = 0):
    """``per_image`` boxes per image: 1-3 jittered copies of each face
    (higher scores), the rest random boxes (lower scores)."""
    rng = np.random.default_rng(seed)
    rep = rng.integers(1, 4, gt.num_faces)
    face_img = np.repeat(gt.face_image, rep)
    boxes = np.repeat(gt.boxes, rep, axis=0)
    size = np.tile(np.abs(boxes[:, 2:] - boxes[:, :2]) + 1, 2)
    boxes = boxes + rng.normal(0, 0.1, boxes.shape) * size
    num_rand = np.maximum(per_image - np.bincount(face_img, minlength=len(gt)),
                          0)
    rand_img = np.repeat(np.arange(len(gt)), num_rand)
    wh = gt.image_sizes[rand_img].astype(np.float64)
    xy = rng.uniform(0, 1, (len(rand_img), 2)) * wh
    side = rng.lognormal(3.5, 0.8, (len(rand_img), 1))
    rand = np.hstack([xy, xy + side * rng.uniform(0.7, 1.3, (len(xy), 2))])
    idx = np.concatenate([face_img, rand_img])
    scores = np.concatenate([rng.uniform(0.3, 1, len(face_img)),
                             rng.beta(1, 6, len(rand_img))])
    return idx, scores, np.vstack([boxes, rand])


if __name__ == '__main__':
    main()
