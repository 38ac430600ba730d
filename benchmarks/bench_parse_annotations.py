# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Benchmark: reading the official WIDER FACE text annotations.

Times, best of ``--repeat`` runs, on the full files
(train: 12,880 images / 159,424 faces; val: 3,226 / 39,708):

(a) ``parse_wider_bbx_gt`` (this package: header walk over the counts, one
    ``numpy.loadtxt`` call for all face lines, columnar result);
(b) the same plus building the per-image ``data_info`` dicts of
    ``WIDERFaceTxtDataset`` (numpy arrays per image, no image-file check);
(c) the baseline, a plain line-by-line Python reader building one dict per
    face (``bbox``, ``bbox_label``, ``ignore_flag`` and the six attributes),
    the way mmdet/SCRFD-style readers do.

All three must agree on images, faces and ignored faces. Prints a markdown
table (seconds and speed-up over the baseline).

Run (one core, BLAS / OpenMP threads pinned to 1)::

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python \\
        benchmarks/bench_parse_annotations.py \\
        --data-root ../shared/data/widerface
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import argparse  # noqa: E402
import gc  # noqa: E402
import os.path as osp  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, List  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hambox_mmdet.datasets.wider_face_parser import (  # noqa: E402
    WIDER_ATTR_NAMES, parse_wider_bbx_gt)


def baseline_reader(path: str) -> List[dict]:
    """Plain line-by-line reader with one dict per face (the baseline)."""
    data_list = []
    with open(path) as f:
        lines = f.readlines()
    i = 0
    while i < len(lines):
        img_path = lines[i].strip()
        num_faces = int(lines[i + 1])
        i += 2
        if num_faces == 0 and i < len(lines) and \
                len(lines[i].split()) == 10:
            i += 1  # the placeholder line of zeros
        instances = []
        for line in lines[i:i + num_faces]:
            values = [float(v) for v in line.split()]
            if len(values) != 10:
                raise ValueError(f'{path}: bad face line {line!r}')
            x, y, w, h = values[:4]
            attrs = [int(v) for v in values[4:]]
            instance = dict(
                bbox=[x, y, x + max(w, 0), y + max(h, 0)],
                bbox_label=0,
                ignore_flag=int(attrs[3] == 1 or w <= 0 or h <= 0))
            instance.update(zip(WIDER_ATTR_NAMES, attrs))
            instances.append(instance)
        i += num_faces
        data_list.append(dict(img_path=img_path, instances=instances))
    return data_list


def ours_with_data_infos(path: str) -> List[dict]:
    """The parser plus the dataset's per-image ``data_info`` dicts."""
    anns = parse_wider_bbx_gt(path)
    ignore = anns.ignore_flags()
    offsets = anns.face_offsets.tolist()
    data_list = []
    for idx, rel in enumerate(anns.img_paths):
        start, end = offsets[idx], offsets[idx + 1]
        data_list.append(
            dict(
                img_path=osp.join('WIDER/images', rel),
                img_id=osp.splitext(rel)[0],
                height=None,
                width=None,
                gt_bboxes=anns.bboxes[start:end],
                gt_bboxes_labels=np.zeros(end - start, dtype=np.int64),
                gt_ignore_flags=ignore[start:end],
                gt_face_attrs={
                    name: anns.attrs[name][start:end]
                    for name in WIDER_ATTR_NAMES
                }))
    return data_list


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo where available)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def best_of(func: Callable, arg: str, repeat: int):
    best, result = float('inf'), None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = func(arg)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        default=str(REPO.parent / 'shared' / 'data' / 'widerface'),
        help='WIDER FACE root holding wider_face_split/')
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()

    rows = []
    for split in ('train', 'val'):
        path = osp.join(args.data_root, 'wider_face_split',
                        f'wider_face_{split}_bbx_gt.txt')
        t_ours, anns = best_of(parse_wider_bbx_gt, path, args.repeat)
        t_infos, infos = best_of(ours_with_data_infos, path, args.repeat)
        t_base, base = best_of(baseline_reader, path, args.repeat)
        # Same content from all three.
        assert anns.num_images == len(infos) == len(base)
        faces = sum(len(d['instances']) for d in base)
        ignored = sum(i['ignore_flag'] for d in base for i in d['instances'])
        assert anns.num_faces == faces == sum(
            len(d['gt_bboxes']) for d in infos)
        assert int(anns.ignore_flags().sum()) == ignored == sum(
            int(d['gt_ignore_flags'].sum()) for d in infos)
        rows.append((split, anns.num_images, faces, t_ours, t_infos, t_base))

    print(f'Python {platform.python_version()}, numpy {np.__version__}, '
          f'{cpu_name()}, best of {args.repeat} runs\n')
    print('| file | images | faces | parse_wider_bbx_gt (s) | '
          '+ data_info dicts (s) | baseline: line-by-line, dict per face '
          '(s) | speed-up (parse / + dicts) |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for split, images, faces, t_ours, t_infos, t_base in rows:
        print(f'| wider_face_{split}_bbx_gt.txt | {images:,} | {faces:,} | '
              f'{t_ours:.4f} | {t_infos:.4f} | {t_base:.4f} | '
              f'{t_base / t_ours:.1f}x / {t_base / t_infos:.1f}x |')


if __name__ == '__main__':
    main()
