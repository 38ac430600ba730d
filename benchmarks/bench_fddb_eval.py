# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Benchmark of the FDDB evaluation on all ten folds.

The real annotations (2,845 images, 5,171 faces) with synthetic detections,
``--per-image`` (100) per image: 1-3 jittered boxes around ~90 % of the faces
with high scores, the rest random boxes of face-like sizes with lower scores,
some of them near the faces (fixed seed). The images are not available
here; each image gets a generated size that contains its faces (the real
FDDB images are about 450 x 330 px). Times, on one core:

(a) ``evaluate_fddb`` (masks, Hungarian matching, ROC);
(b) ``write_detections`` + ``read_detections`` + ``evaluate_fddb`` through a
    detection file in the official layout;
(c) the plain-loop reference of the official program
    (``tests/test_evaluation/fddb_reference.py``: full-canvas masks, a
    brute-force matching per distinct score) on ``--baseline-images`` images
    with 10 detections each (its brute-force matching cannot take 100),
    with (a) on the same input; both must agree exactly.

Run::

    taskset -c 0 .venv/bin/python benchmarks/bench_fddb_eval.py \\
        --folds-dir ../shared/data/fddb/FDDB-folds
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / 'tests' / 'test_evaluation'))

from hambox_mmdet.evaluation.fddb import (  # noqa: E402
    FDDBGroundTruth, ellipse_bboxes, evaluate_fddb, load_fddb_folds,
    read_detections, write_detections)


def synthetic(gt, per_image: int, seed: int = 0):
    """Detections (key -> (per_image, 5)) and image sizes (M, 2)."""
    rng = np.random.default_rng(seed)
    dets, sizes = {}, []
    for key, ells in zip(gt.image_keys, gt.ellipses):
        box = ellipse_bboxes(ells)
        height = int(max(box[:, 3].max() + rng.uniform(5, 60), 250))
        width = int(max(box[:, 2].max() + rng.uniform(5, 60), 300))
        sizes.append((height, width))
        take = box[rng.random(len(box)) < 0.9]
        take = np.repeat(take, rng.integers(1, 4, len(take)), axis=0)
        wh = take[:, 2:] - take[:, :2]
        near = np.c_[take[:, :2] + rng.normal(0, 0.08, wh.shape) * wh,
                     wh * rng.uniform(0.8, 1.2, wh.shape),
                     rng.uniform(0.5, 1.0, len(take))]
        rest = per_image - len(near)
        side = rng.uniform(15, 150, rest)
        anchor = box[rng.integers(0, len(box), rest)]
        centre = np.where(
            (rng.random(rest) < 0.3)[:, None],
            (anchor[:, :2] + anchor[:, 2:]) / 2 + rng.normal(0, 30,
                                                             (rest, 2)),
            rng.uniform(0, 1, (rest, 2)) * [width, height])
        noise = np.c_[centre - side[:, None] / 2, side,
                      side * rng.uniform(1.0, 1.4, rest),
                      rng.uniform(0, 0.6, rest)]
        dets[key] = np.r_[near, noise][:per_image]
    return dets, np.array(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--folds-dir', required=True)
    parser.add_argument('--per-image', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--baseline-images', type=int, default=100)
    args = parser.parse_args()

    gt = load_fddb_folds(args.folds_dir)
    dets, sizes = synthetic(gt, args.per_image)
    num = sum(len(v) for v in dets.values())
    print(f'{len(gt)} images, {gt.num_faces} faces, {num} detections; '
          f'python {platform.python_version()}, numpy {np.__version__}')

    times, cpu = [], []
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = evaluate_fddb(dets, gt, sizes)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    # CPU time too: on a shared machine the wall time includes waiting
    print(f'(a) evaluate_fddb: median {np.median(times):.2f} s wall, '
          f'{np.median(cpu):.2f} s CPU, of {args.repeats} (min '
          f'{min(times):.2f} s wall); '
          f'{len(result.thresholds)} ROC points; TPR at 1000 FP: discrete '
          f'{result.tpr_at(1000):.4f}, continuous '
          f'{result.tpr_at(1000, "continuous"):.4f}')

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'dets.txt')
        start = time.perf_counter()
        write_detections(path, dets, gt.image_keys)
        written = time.perf_counter() - start
        start = time.perf_counter()
        back = read_detections(path)
        read = time.perf_counter() - start
        start = time.perf_counter()
        again = evaluate_fddb(back, gt, sizes)
        evaluated = time.perf_counter() - start
    assert np.array_equal(again.tp_discrete, result.tp_discrete)
    print(f'(b) write {written:.2f} s + read {read:.2f} s + evaluate '
          f'{evaluated:.2f} s = {written + read + evaluated:.2f} s')

    from fddb_reference import reference_roc
    n = args.baseline_images
    idx = np.random.default_rng(1).choice(len(gt), n, replace=False)
    sub_keys = [gt.image_keys[i] for i in idx]
    sub = FDDBGroundTruth(sub_keys, [gt.ellipses[i] for i in idx])
    sub_dets = {k: dets[k][:10] for k in sub_keys}
    start = time.perf_counter()
    ref = reference_roc(sub.ellipses, [sub_dets[k] for k in sub_keys],
                        [tuple(sizes[i]) for i in idx])
    loop = time.perf_counter() - start
    start = time.perf_counter()
    ours = evaluate_fddb(sub_dets, sub, sizes[idx])
    fast = time.perf_counter() - start
    same = (np.array_equal(ours.tp_discrete, ref['tp_discrete'])
            and np.array_equal(ours.fp, ref['fp'])
            and np.allclose(ours.tp_continuous, ref['tp_continuous'],
                            rtol=0, atol=1e-9))
    print(f'(c) {n} images x 10 detections: plain-loop reference '
          f'{loop:.2f} s, evaluate_fddb {fast:.3f} s; identical curves: '
          f'{same}')
    if not same:
        sys.exit('the curves differ')


if __name__ == '__main__':
    main()
