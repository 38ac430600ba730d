# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face AP of a detection file, exactly as the evaluation
toolkit of Mathias et al. (ECCV 2014) that papers quote.

Usage::

    python tools/eval_afw_pascal.py DETS --ann ANN.mat --json OUT.json \\
        [--plot PR.png]

``DETS`` is the toolkit's text layout, one box per line
``image score x1 y1 x2 y2`` (the image named with or without extension);
``ANN.mat`` is ``new_annotations_AFW.mat`` or
``Annotations_Face_PASCALLayout_large_fixed.mat``. It prints, and writes
to the JSON file, ``ap_calibrated`` (the toolkit's 5-iteration box-style
calibration: what its plots and the papers report) and ``ap`` (without),
as fractions.
"""
import argparse
import json
import os.path as osp
import sys
from pathlib import Path

# run as a plain script from a checkout: import this checkout's package
_ROOT = Path(__file__).resolve().parents[1]
if (_ROOT / 'hambox_mmdet').is_dir() and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from hambox_mmdet.evaluation.face_eval import (  # noqa: E402
    MIN_FACE_SIZE, evaluate_face_eval, image_indices, load_face_eval_gt,
    plot_face_eval_pr, read_face_eval_dets)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='AFW / PASCAL Face AP of a detection file (the Mathias '
        'et al. toolkit: with and without box-style calibration)')
    parser.add_argument(
        'dets', help='detections, one per line: image score x1 y1 x2 y2')
    parser.add_argument(
        '--ann', required=True, help="the toolkit's annotation .mat")
    parser.add_argument('--json', help='write {"ap": ..., '
                        '"ap_calibrated": ..., counts} there')
    parser.add_argument('--plot', help='save the PR curves to this PNG')
    parser.add_argument(
        '--min-size',
        type=int,
        default=MIN_FACE_SIZE,
        help='faces under this width or height are ignored (default 30, '
        "the toolkit's); detections are kept where a side exceeds "
        'int(sqrt(0.5 * min_size^2))')
    parser.add_argument(
        '--iou-thr', type=float, default=0.5, help='IoU threshold (0.5)')
    parser.add_argument(
        '--nit',
        type=int,
        default=5,
        help='scorings of the box-style calibration (default 5, the '
        "toolkit's; 1 means none)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    gt = load_face_eval_gt(args.ann, args.min_size)
    dets = read_face_eval_dets(args.dets)
    result = evaluate_face_eval(
        gt,
        image_indices(gt, dets.keys),
        dets.scores,
        dets.boxes,
        iou_thr=args.iou_thr,
        num_calib_iters=args.nit)
    stem = Path(args.ann).stem
    name = 'AFW' if 'afw' in stem.lower() else \
        'PASCAL Face' if 'pascal' in stem.lower() else stem
    print(f'{name}: AP {result.ap_calibrated * 100:.2f} with the '
          f'{args.nit}-iteration box calibration, '
          f'{result.ap * 100:.2f} without')
    print(f'{result.num_counted} faces counted of {result.num_faces} in '
          f'{result.num_images} images; {result.num_detections} detections, '
          f'{result.num_kept} kept by the size filter')
    missing = result.num_images - result.num_images_with_dets
    if missing:
        print(f'NOTE: {missing} images have no detection (their faces count '
              'as missed)')
    if result.num_unknown_image:
        print(f'NOTE: {result.num_unknown_image} detections on images that '
              'are not in the annotations count as false positives')
    out = result.to_dict()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=2)
        print(f'APs written to {osp.abspath(args.json)}')
    if args.plot:
        plot_face_eval_pr(result, args.plot, name)
        print(f'PR curves saved to {osp.abspath(args.plot)}')
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
