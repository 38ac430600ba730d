# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Benchmark of the WIDER FACE evaluation on the full val set.

Synthetic predictions, 1,000 per image on all 3,226 val images (3.2M boxes):
jittered ground-truth boxes with random scores plus random boxes (fixed
seed). Times, on one core:

(a) ``wider.evaluate`` (vectorised) on the full set;
(b) the plain per-box loop transliteration of the MATLAB code
    (``tests/oracles/reference_wider_eval.py``) on a random subset of
    ``--baseline-images`` images (it needs minutes for the full set), with
    (a) timed on the same subset; both must give the same APs (to 1e-12);
    the full-set loop time is extrapolated linearly in the number of images
    (every image has the same number of predictions) and printed as such;
(c) ``wider.write_predictions`` + ``wider.read_predictions`` +
    ``wider.evaluate`` through submission files in a temporary folder.

Run (one core, BLAS / OpenMP threads pinned to 1)::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
    taskset -c 0 .venv/bin/python benchmarks/bench_wider_eval.py \\
        --gt-dir ../shared/data/widerface/eval_tools/ground_truth
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import argparse  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / 'tests'))  # the oracles

from oracles.reference_wider_eval import reference_evaluate  # noqa: E402

from hambox_mmdet.evaluation import wider  # noqa: E402
from hambox_mmdet.evaluation.wider import SETTINGS  # noqa: E402


def synthetic_predictions(gt, per_image: int = 1000,
                          seed: int = 0) -> dict:
    """``per_image`` boxes per image: 1-3 jittered copies of ~90% of the
    faces (scores higher for larger faces), the rest random boxes with lower
    scores. Returns key -> (per_image, 5) ``x y w h score``."""
    rng = np.random.default_rng(seed)
    preds = {}
    for key, boxes in zip(gt.image_keys, gt.boxes):
        take = boxes[rng.random(len(boxes)) < 0.9]
        take = np.repeat(take, rng.integers(1, 4, len(take)), axis=0)
        take = take[:per_image // 2]
        size = np.maximum(take[:, 2:], 1)
        jit = take.copy()
        jit[:, :2] += rng.normal(0, 0.1, jit[:, :2].shape) * size
        jit[:, 2:] = np.abs(size * (1 + rng.normal(0, 0.1, size.shape)))
        big = np.sqrt(size[:, 0] * size[:, 1])
        s_tp = np.clip(rng.normal(0.35 + 0.5 * (big > 20), 0.2), 0.001, 1)
        n_fp = per_image - len(jit)
        fp = np.column_stack([
            rng.uniform(0, 1000, n_fp),
            rng.uniform(0, 1000, n_fp),
            rng.lognormal(2.5, 0.8, (n_fp, 2))
        ])
        s_fp = rng.beta(1, 6, n_fp)
        dets = np.hstack([np.vstack([jit, fp]),
                          np.concatenate([s_tp, s_fp])[:, None]])
        preds[key] = dets[rng.permutation(per_image)]
    return preds


def timed(fn, *args, repeat: int = 1, **kwargs):
    best, out = float('inf'), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t)
    return best, out


def fmt_aps(aps: dict) -> str:
    return ' / '.join(f'{aps[s] * 100:.3f}' for s in SETTINGS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--gt-dir', required=True)
    parser.add_argument('--per-image', type=int, default=1000)
    parser.add_argument('--baseline-images', type=int, default=300)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--skip-files', action='store_true')
    args = parser.parse_args()

    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    print(f'machine: {cpu}, '
          f'{os.cpu_count()} logical CPUs, affinity '
          f'{sorted(os.sched_getaffinity(0))}; python '
          f'{platform.python_version()}, numpy {np.__version__}')
    t_gt, gt = timed(wider.load_ground_truth, args.gt_dir)
    preds = synthetic_predictions(gt, args.per_image)
    n_boxes = sum(len(p) for p in preds.values())
    print(f'{len(gt)} images, {n_boxes} predictions '
          f'({args.per_image} per image), ground truth loaded in '
          f'{t_gt:.2f} s\n')

    rows = []
    t_full, full = timed(wider.evaluate, preds, gt, repeat=args.repeat)
    rows.append(('wider.evaluate (vectorised), full val', t_full, None))
    t_float, full_float = timed(
        wider.evaluate, preds, gt, iou_arith='float', repeat=args.repeat)
    rows.append(("wider.evaluate iou_arith='float', full val", t_float,
                 None))

    # loop baseline on a random subset of images, same subset vectorised
    rng = np.random.default_rng(1)
    n_sub = min(args.baseline_images, len(gt))
    sub_keys = [gt.image_keys[i]
                for i in sorted(rng.choice(len(gt), n_sub, replace=False))]
    sub = {k: preds[k] for k in sub_keys}
    t_vec_sub, vec_sub = timed(
        wider.evaluate, sub, gt, only_present_images=True,
        repeat=args.repeat)
    t_loop_sub, loop_sub = timed(
        reference_evaluate, sub, gt, only_present_images=True)
    for s in SETTINGS:
        diff = abs(vec_sub.settings[s].ap - loop_sub[s]['ap'])
        assert diff <= 1e-12, (s, vec_sub.settings[s].ap, loop_sub[s]['ap'])
        assert np.array_equal(vec_sub.settings[s].proposals,
                              loop_sub[s]['proposals'])
        assert np.array_equal(vec_sub.settings[s].recalled,
                              loop_sub[s]['recalled'])
    t_loop_full = t_loop_sub * len(gt) / n_sub
    rows.append((f'wider.evaluate, {n_sub} images', t_vec_sub, None))
    rows.append((f'per-box loop (MATLAB transliteration), {n_sub} images',
                 t_loop_sub, t_loop_sub / t_vec_sub))
    rows.append(('per-box loop, full val: EXTRAPOLATED '
                 f'(x {len(gt)}/{n_sub})', t_loop_full,
                 t_loop_full / t_full))

    if not args.skip_files:
        tmp = tempfile.mkdtemp(prefix='bench_wider_')
        try:
            t_write, _ = timed(wider.write_predictions, tmp, preds)
            t_read, (back, missing) = timed(wider.read_predictions, tmp,
                                            gt.image_keys)
            assert not missing
            t_eval, from_files = timed(wider.evaluate, back, gt)
            assert from_files.aps == full.aps  # lossless round trip
            size = sum(f.stat().st_size for f in Path(tmp).rglob('*.txt'))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rows.append((f'wider.write_predictions ({size / 2**20:.0f} MiB, '
                     'repr floats)', t_write, None))
        rows.append(('wider.read_predictions', t_read, None))
        rows.append(('wider.read_predictions + wider.evaluate',
                     t_read + t_eval, None))

    print('| step | seconds | loop / vectorised |')
    print('| --- | ---: | ---: |')
    for name, sec, ratio in rows:
        r = f'{ratio:.0f}x' if ratio else ''
        print(f'| {name} | {sec:.3f} | {r} |')
    print(f'\nAP easy / medium / hard (%), full val, MATLAB int32 '
          f'arithmetic (auto): {fmt_aps(full.aps)}')
    print(f"AP easy / medium / hard (%), full val, iou_arith='float':     "
          f'{fmt_aps(full_float.aps)}')
    print(f'subset of {n_sub} images (only_present_images): vectorised '
          f'{fmt_aps(vec_sub.aps)} == loop '
          f'{fmt_aps({s: loop_sub[s]["ap"] for s in SETTINGS})}')
    print(f'times: best of {args.repeat} for the vectorised runs, one run '
          'for the loop baseline and the file steps; the full-val loop '
          'time is extrapolated, not measured.')


if __name__ == '__main__':
    main()
