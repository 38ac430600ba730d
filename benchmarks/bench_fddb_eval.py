# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Benchmark of the FDDB evaluation on all ten folds.

The real annotations (2,845 images, 5,171 faces) with synthetic detections,
``--per-image`` (100) per image: 1-3 jittered boxes around ~90 % of the faces
with high scores, the rest random boxes of face-like sizes with lower scores,
some of them near the faces (fixed seed). The images are not available
here; each image gets a generated size that contains its faces (the real
FDDB images are about 450 x 330 px). Times, on one core:

(a) ``fddb.evaluate`` (masks, matching, ROC) with ``matching='official'``
    (the official program's solver, the default) and ``'optimal'``
    (maximum-weight), wall and CPU time, and the TPRs of both;
(b) ``fddb.write_predictions`` + ``fddb.read_predictions`` +
    ``fddb.evaluate`` through a detection file in the official layout;
(c) the plain-loop reference of the official program
    (``tests/oracles/fddb_reference.py``: full-canvas masks, the
    transliterated solver / a brute-force matching per distinct score) on
    ``--baseline-images`` images with 10 detections each (its brute-force
    matching cannot take 100), with (a) on the same input; both must agree
    exactly;
(d) with ``--baseline-rev REV``: ``fddb.evaluate`` of the package as it was
    at git revision REV (its ``evaluation/fddb`` and the readers it uses,
    imported from a temporary copy), interleaved with (a) in the same run.

Run::

    taskset -c 0 .venv/bin/python benchmarks/bench_fddb_eval.py \\
        --folds-dir ../shared/data/fddb/FDDB-folds --baseline-rev HEAD~1
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import argparse  # noqa: E402
import importlib  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / 'tests'))  # the oracles

from hambox_mmdet.evaluation import fddb  # noqa: E402
from hambox_mmdet.evaluation.fddb import (FDDBGroundTruth,  # noqa: E402
                                          ellipse_bboxes)


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
        rest = max(per_image - len(near), 0)
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


#: What :func:`load_revision` copies (under ``hambox_mmdet/``), where present.
REVISION_PATHS = ('evaluation/fddb', 'evaluation/blocks.py',
                  'evaluation/_deprecation.py', 'datasets/annotations')


def load_revision(rev: str, folder: str):
    """``fddb.evaluate`` of the package at git revision ``rev``: its
    ``evaluation/fddb`` and the modules that imports (``evaluation/blocks.py``
    before the readers moved, ``datasets/annotations`` and
    ``evaluation/_deprecation.py`` after) written under ``folder`` as the
    package ``hambox_base`` (the package's own ``__init__`` files, which
    import mmdet, are not run)."""
    root = HERE.parent
    files = subprocess.run(
        ['git', 'ls-tree', '-r', '--name-only', rev, '--'] +
        [f'hambox_mmdet/{p}' for p in REVISION_PATHS],
        cwd=root, check=True, capture_output=True, text=True).stdout.split()
    if not any(f.startswith('hambox_mmdet/evaluation/fddb/') for f in files):
        sys.exit(f'no FDDB evaluator at revision {rev}')
    for name in files:
        text = subprocess.run(['git', 'show', f'{rev}:{name}'], cwd=root,
                              check=True, capture_output=True,
                              text=True).stdout
        out = Path(folder) / name.replace('hambox_mmdet/', 'hambox_base/', 1)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    for pkg in ('hambox_base', 'hambox_base.evaluation',
                'hambox_base.datasets'):
        mod = types.ModuleType(pkg)
        mod.__path__ = [str(Path(folder, *pkg.split('.')))]
        sys.modules[pkg] = mod
    pkg = importlib.import_module('hambox_base.evaluation.fddb')
    # ``evaluate`` since the three benchmarks share their names (#20)
    fn = getattr(pkg, 'evaluate', None)
    return fn if callable(fn) else pkg.evaluate_fddb


def timed(fn, repeats: int):
    """(median wall, median CPU, last result) of ``repeats`` calls."""
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return float(np.median(wall)), float(np.median(cpu)), out


def same_curves(a, b) -> bool:
    return (np.array_equal(a.thresholds, b.thresholds)
            and np.array_equal(a.tp_discrete, b.tp_discrete)
            and np.array_equal(a.fp, b.fp)
            and np.allclose(a.tp_continuous, b.tp_continuous, rtol=0,
                            atol=1e-9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--folds-dir', required=True)
    parser.add_argument('--per-image', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--baseline-images', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--baseline-rev', help='also time fddb.evaluate of this git '
        'revision (e.g. HEAD~1), alternating with the current one')
    args = parser.parse_args()

    gt = fddb.load_ground_truth(args.folds_dir)
    dets, sizes = synthetic(gt, args.per_image, args.seed)
    num = sum(len(v) for v in dets.values())
    print(f'{len(gt)} images, {gt.num_faces} faces, {num} detections '
          f'(seed {args.seed}); python {platform.python_version()}, numpy '
          f'{np.__version__}')

    runs = {
        m: (lambda m=m: fddb.evaluate(dets, gt, sizes, matching=m))
        for m in ('official', 'optimal')
    }
    tmp = tempfile.TemporaryDirectory()
    if args.baseline_rev:
        base = load_revision(args.baseline_rev, tmp.name)
        runs[f'rev {args.baseline_rev}'] = lambda: base(dets, gt, sizes)
    # interleaved, so that a change of load hits every variant alike
    times = {k: ([], []) for k in runs}
    results = {}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            wall, cpu, results[name] = timed(fn, 1)
            times[name][0].append(wall)
            times[name][1].append(cpu)
    # CPU time too: on a shared machine the wall time includes waiting
    for name, (wall, cpu) in times.items():
        res = results[name]
        print(f'(a) fddb.evaluate, {name}: median {np.median(wall):.2f} s '
              f'wall, {np.median(cpu):.2f} s CPU, of {args.repeats} (min '
              f'{min(wall):.2f} s wall, {min(cpu):.2f} s CPU); '
              f'{len(res.thresholds)} ROC points; TPR at 1000 FP: discrete '
              f'{res.tpr_at(1000):.4f}, continuous '
              f'{res.tpr_at(1000, "continuous"):.4f}')
    if args.baseline_rev:
        # a revision before issue 22 matched optimally, a later one
        # officially by default: say which curves it reproduces
        base = results[f'rev {args.baseline_rev}']
        same = [m for m in ('official', 'optimal')
                if same_curves(results[m], base)]
        print(f'    rev {args.baseline_rev} gives the curves of matching='
              + (' and '.join(repr(m) for m in same) if same else
                 'neither mode (the curves differ)'))
    result = results['official']

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'dets.txt')
        start = time.perf_counter()
        fddb.write_predictions(path, dets, gt.image_keys)
        written = time.perf_counter() - start
        start = time.perf_counter()
        back = fddb.read_predictions(path)
        read = time.perf_counter() - start
        start = time.perf_counter()
        again = fddb.evaluate(back, gt, sizes)
        evaluated = time.perf_counter() - start
    assert np.array_equal(again.tp_discrete, result.tp_discrete)
    print(f'(b) write {written:.2f} s + read {read:.2f} s + evaluate '
          f'{evaluated:.2f} s = {written + read + evaluated:.2f} s')

    from oracles.fddb_reference import reference_roc
    n = args.baseline_images
    idx = np.random.default_rng(1).choice(len(gt), n, replace=False)
    sub_keys = [gt.image_keys[i] for i in idx]
    sub = FDDBGroundTruth(sub_keys, [gt.ellipses[i] for i in idx])
    sub_dets = {k: dets[k][:10] for k in sub_keys}
    ok = True
    for matching in ('official', 'optimal'):
        start = time.perf_counter()
        ref = reference_roc(sub.ellipses, [sub_dets[k] for k in sub_keys],
                            [tuple(sizes[i]) for i in idx], matching)
        loop = time.perf_counter() - start
        start = time.perf_counter()
        ours = fddb.evaluate(sub_dets, sub, sizes[idx], matching=matching)
        fast = time.perf_counter() - start
        same = (np.array_equal(ours.thresholds, ref['thresholds'])
                and np.array_equal(ours.tp_discrete, ref['tp_discrete'])
                and np.array_equal(ours.fp, ref['fp'])
                and np.allclose(ours.tp_continuous, ref['tp_continuous'],
                                rtol=0, atol=1e-9))
        ok &= same
        print(f'(c) {n} images x 10 detections, {matching}: plain-loop '
              f'reference {loop:.2f} s, fddb.evaluate {fast:.3f} s; '
              f'identical curves: {same}')
    tmp.cleanup()
    if not ok:
        sys.exit('the curves differ')


if __name__ == '__main__':
    main()
