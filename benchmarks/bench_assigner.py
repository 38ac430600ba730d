# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBoxAssigner against mmdet's MaxIoUAssigner on WIDER-like inputs.

One 1024 x 1024 image: 87,360 face anchors on P2 ... P7; 10, 100 and 1,000
faces whose sizes are drawn from the real WIDER FACE train annotations
(log-uniform 8 ... 256 px where ../shared is absent); regressed boxes as a
partly trained detector gives them (anchors jittered, and a third of the
anchors near a face regressing onto it), so compensation has work to do.

    python benchmarks/bench_assigner.py [--device cpu|cuda] [--threads 1]

Baselines, same inputs, same run: MaxIoUAssigner(0.35, 0.35) without
low-quality matching (the same stage 1 as HAMBox) and with it (mmdet's
RetinaNet default, a Python loop over faces). The three assigners are timed
in turns (one call each per round, median over rounds), so a shared,
busy machine slows them alike and the ratios hold. ``--device cuda`` runs
everything on the GPU (HAMBox's compensation has no loop over faces there
either).
"""
import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

from hambox_mmdet.utils import register_all_modules

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAIN_ANN = (ROOT.parent / 'shared' / 'data' / 'widerface' /
             'wider_face_split' / 'wider_face_train_bbx_gt.txt')


def face_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 2) face widths and heights, WIDER-like."""
    if TRAIN_ANN.is_file():
        from hambox_mmdet.datasets.wider_face_parser import parse_wider_bbx_gt
        anns = parse_wider_bbx_gt(TRAIN_ANN)
        wh = anns.bboxes[:, 2:] - anns.bboxes[:, :2]
        wh = wh[(~anns.ignore_flags()) & (wh.max(axis=1) <= 400)]
        return wh[rng.integers(0, len(wh), n)].astype(np.float32)
    side = np.exp(rng.uniform(np.log(8), np.log(256), n))
    return np.stack([side, side * 1.25], 1).astype(np.float32)


def make_inputs(num_faces: int, seed: int, device: str):
    rng = np.random.default_rng(seed)
    gen = TASK_UTILS.build(dict(type='FaceAnchorGenerator'))
    priors = torch.cat(
        gen.grid_priors([(1024 // s, 1024 // s) for s in gen.strides_1d],
                        device='cpu'))
    wh = face_sizes(rng, num_faces)
    xy = rng.uniform(0, 1, (num_faces, 2)) * (1024 - wh)
    faces = torch.from_numpy(np.concatenate([xy, xy + wh], 1)).float()
    g = torch.Generator().manual_seed(seed)
    size = (priors[:, 2:] - priors[:, :2]).repeat(1, 2)
    bboxes = priors + torch.randn(priors.shape, generator=g) * 0.1 * size
    # a third of the anchors whose centre lies inside a face regress onto it
    centres = (priors[:, :2] + priors[:, 2:]) / 2
    inside = ((centres[:, None, 0] >= faces[None, :, 0]) &
              (centres[:, None, 0] <= faces[None, :, 2]) &
              (centres[:, None, 1] >= faces[None, :, 1]) &
              (centres[:, None, 1] <= faces[None, :, 3]))
    anchor, face = inside.nonzero(as_tuple=True)
    pick = torch.rand(len(anchor), generator=g) < 0.33
    anchor, face = anchor[pick], face[pick]
    fsize = (faces[face, 2:] - faces[face, :2]).repeat(1, 2)
    bboxes[anchor] = faces[face] + torch.randn(
        len(anchor), 4, generator=g) * 0.08 * fsize
    x1y1 = torch.minimum(bboxes[:, :2], bboxes[:, 2:] - 1)
    bboxes = torch.cat([x1y1, bboxes[:, 2:]], 1)
    pred = InstanceData(priors=priors.to(device), bboxes=bboxes.to(device))
    gt = InstanceData(
        bboxes=faces.to(device),
        labels=torch.zeros(num_faces, dtype=torch.long, device=device))
    return pred, gt


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--faces', type=int, nargs='+',
                        default=[10, 100, 1000])
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    register_all_modules()  # mmdet's and HAMBox's components
    torch.set_num_threads(args.threads)
    assigners = dict(
        hambox=dict(type='HAMBoxAssigner'),
        maxiou=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.35,
            neg_iou_thr=0.35,
            min_pos_iou=0.,
            match_low_quality=False),
        maxiou_lq=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.35,
            neg_iou_thr=0.35,
            min_pos_iou=0.,
            match_low_quality=True))
    assigners = {k: TASK_UTILS.build(v) for k, v in assigners.items()}
    print(f'device {args.device}, torch threads {args.threads}, '
          f'median of {args.repeats} rounds')
    print('| faces | MaxIoU (ms) | MaxIoU + low-quality (ms) | HAMBox (ms) '
          '| HAMBox / MaxIoU | HAMBox / MaxIoU+LQ | compensated |')
    print('|---:|---:|---:|---:|---:|---:|---:|')
    for n in args.faces:
        pred, gt = make_inputs(n, seed=n, device=args.device)
        rounds = {k: [] for k in assigners}
        for _ in range(args.repeats):  # in turns: alike under load
            for k, a in assigners.items():
                rounds[k].append(
                    median_time(lambda a=a: a.assign(pred, gt), 1,
                                args.device))
        ms = {k: 1000 * statistics.median(v) for k, v in rounds.items()}
        result = assigners['hambox'].assign(pred, gt)
        comp = int(result.get_extra_property('compensated').sum())
        print(f"| {n} | {ms['maxiou']:.1f} | {ms['maxiou_lq']:.1f} | "
              f"{ms['hambox']:.1f} | {ms['hambox'] / ms['maxiou']:.2f}x | "
              f"{ms['hambox'] / ms['maxiou_lq']:.2f}x | {comp} |")


if __name__ == '__main__':
    main()
