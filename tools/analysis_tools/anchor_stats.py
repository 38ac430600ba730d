# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBox Fig. 1 on WIDER FACE annotations: anchor scale vs. matching.

For each anchor scale s (anchor side s x 4 x stride on P2 ... P7), the
average number of anchors that standard IoU matching (threshold 0.35) gives
a face, and the share of faces that get at least one. Uses the same
``FaceAnchorGenerator`` as training::

    python tools/analysis_tools/anchor_stats.py \\
        data/widerface/wider_face_split/wider_face_train_bbx_gt.txt \\
        --out-png anchor_stats.png --out-json anchor_stats.json

Faces flagged invalid or of zero size are left out (they are ignored in
training). Boxes are taken at the annotation's scale, i.e. the original
images (the training pipeline's random crops rescale faces, so statistics at
training time spread around these).
"""
import argparse
import sys

import numpy as np

# the paper's Fig. 1 readings: scale -> (mean matched per face, share >= 1)
PAPER = {0.5: (2.41, 0.95), 0.68: (4.75, 0.93), 1.0: (9.76, 0.86)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Anchor scale vs. anchors matched per face (Fig. 1).')
    parser.add_argument('ann_file', help='wider_face_*_bbx_gt.txt')
    parser.add_argument(
        '--scales',
        type=float,
        nargs='+',
        default=[round(s, 2) for s in np.arange(0.3, 1.21, 0.05)] +
        [0.43, 0.68],
        help='anchor scales to evaluate')
    parser.add_argument('--iou-thr', type=float, default=0.35)
    parser.add_argument(
        '--ratios', type=float, nargs='+', default=[1.0],
        help='anchor aspect ratios (h / w)')
    parser.add_argument(
        '--min-size',
        type=float,
        default=0,
        help='only faces whose shorter side is at least this (pixels)')
    parser.add_argument('--out-png', help='write the plot here')
    parser.add_argument(
        '--json', '--out-json', dest='json', help='write the table here')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace an existing --out-png / --json (without it, an '
        'existing one is an error)')
    return parser.parse_args(argv)


def load_faces(ann_file: str, min_size: float):
    """Non-ignored faces (F, 4) and their image index (F, )."""
    from hambox_mmdet.datasets.wider_face_parser import parse_wider_bbx_gt
    anns = parse_wider_bbx_gt(ann_file)
    image_ids = np.repeat(
        np.arange(anns.num_images), anns.num_faces_per_image)
    keep = ~anns.ignore_flags()
    wh = anns.bboxes[:, 2:] - anns.bboxes[:, :2]
    keep &= wh.min(axis=1) >= min_size
    return anns.bboxes[keep].astype(np.float64), image_ids[keep], anns


def plot(stats: dict, out_png: str, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax1 = plt.subplots(figsize=(7, 4.2))
    ax1.plot(stats['scale'], stats['mean_matched'], 'o-', color='tab:blue',
             label='anchors matched per face (mean)')
    ax1.set_xlabel('anchor scale s (anchor side = s x 4 x stride)')
    ax1.set_ylabel('anchors matched per face', color='tab:blue')
    ax2 = ax1.twinx()
    ax2.plot(stats['scale'], stats['share_matched'], 's-', color='tab:red',
             label='faces with >= 1 matched anchor')
    ax2.set_ylabel('share of faces with >= 1 anchor', color='tab:red')
    ax2.set_ylim(0, 1)
    for s, (mean, share) in PAPER.items():
        ax1.plot([s], [mean], 'x', color='tab:blue', ms=9)
        ax2.plot([s], [share], 'x', color='tab:red', ms=9)
    ax1.axvspan(0.43, 0.7, color='0.9', zorder=0)
    ax1.set_title(title, fontsize=9)
    fig.legend(loc='lower center', ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    from hambox_mmdet.analysis import anchor_scale_statistics
    from hambox_mmdet.safe_io import (atomic_output, check_new_output,
                                      check_not_inputs, write_json)
    if not args.iou_thr > 0:
        sys.exit(f'error: --iou-thr must be > 0, got {args.iou_thr}')
    try:
        outputs = [p for p in (args.json, args.out_png) if p]
        check_not_inputs(outputs, [args.ann_file])
        for out in outputs:
            check_new_output(out, args.overwrite)
        faces, image_ids, anns = load_faces(args.ann_file, args.min_size)
    except (OSError, ValueError) as e:
        sys.exit(f'error: {e}')
    scales = sorted(set(args.scales))
    stats = anchor_scale_statistics(
        faces, image_ids, scales, iou_thr=args.iou_thr, ratios=args.ratios)
    print(f'{args.ann_file}: {anns.num_images} images, {len(faces)} faces '
          f'(non-ignored, shorter side >= {args.min_size} px), IoU >= '
          f'{args.iou_thr}, ratios {args.ratios}')
    print('| anchor scale | anchors per face | faces with >= 1 | paper |')
    print('|---:|---:|---:|---|')
    rows = []
    for s, mean, share in zip(stats['scale'], stats['mean_matched'],
                              stats['share_matched']):
        paper = PAPER.get(round(float(s), 2))
        ref = f'{paper[0]:.2f} / {paper[1]:.2f}' if paper else ''
        print(f'| {s:.2f} | {mean:.2f} | {share:.3f} | {ref} |')
        rows.append(
            dict(scale=float(s), mean_matched=float(mean),
                 share_matched=float(share)))
    if args.json:
        write_json(args.json,
                   dict(ann_file=args.ann_file, num_faces=len(faces),
                        iou_thr=args.iou_thr, rows=rows), indent=2)
    if args.out_png:
        with atomic_output(args.out_png) as tmp:
            plot(stats, tmp,
                 f'{len(faces)} faces of {args.ann_file.split("/")[-1]}, '
                 f'IoU >= {args.iou_thr} (x: paper Fig. 1)')
        print(f'plot written to {args.out_png}')
    return stats


if __name__ == '__main__':
    main()
