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

No failure gives a number: a detection file whose images are none of the
annotation file's (AFW detections scored against the PASCAL ``.mat``, say),
an empty one, and one whose every box the toolkit's size filter drops
(corners swapped, ``x y w h`` given as ``x1 y1 x2 y2``) stop with one line
naming the cause. Partial cases are counted in one note each: detections
on images that are not annotated (false positives, as in the toolkit) and
boxes with ``x2 < x1`` or ``y2 < y1`` (dropped by the size filter), with
the first file line. ``--json`` and ``--plot`` are written under a
temporary name and moved into place; an existing one is replaced only with
``--overwrite``.
"""
import argparse
import os.path as osp
import sys
from pathlib import Path

import numpy as np

# run as a plain script from a checkout: import this checkout's package
_ROOT = Path(__file__).resolve().parents[1]
if (_ROOT / 'hambox_mmdet').is_dir() and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from hambox_mmdet.evaluation.face_eval import (  # noqa: E402
    MIN_FACE_SIZE, evaluate, image_indices, load_ground_truth,
    min_detection_size, plot_curves, read_predictions)
from hambox_mmdet.safe_io import (atomic_output,  # noqa: E402
                                  check_new_output, check_not_inputs,
                                  write_json)


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
        '--overwrite', action='store_true',
        help='replace an existing --json / --plot file (without it, an '
        'existing one is an error)')
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


def check_detections(dets, image_idx: np.ndarray, gt, args) -> list:
    """Raise where the detections cannot give a meaningful AP; return the
    notes (one line per kind of partial problem, with its count)."""
    if not len(dets):
        raise ValueError(f'{args.dets}: no detection in the file')
    known = image_idx >= 0
    if not known.any():
        names = sorted(set(dets.names.tolist()))
        raise ValueError(
            f'none of the {len(dets)} detections of {args.dets} is on an '
            f'image of {args.ann} ({len(names)} image name(s) such as '
            f'{names[:3]}; the annotations name images such as '
            f'{gt.image_names[:3]}): wrong annotation file?')
    notes = []
    if not known.all():
        first = int(np.flatnonzero(~known)[0])
        notes.append(
            f'{int((~known).sum())} detection(s) on images that are not in '
            f'{osp.basename(args.ann)} count as false positives (first: '
            f'line {dets.lines[first]}, {str(dets.names[first])!r})')
    boxes = dets.boxes
    inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if inverted.any():
        first = int(np.flatnonzero(inverted)[0])
        notes.append(
            f'{int(inverted.sum())} detection(s) with x2 < x1 or y2 < y1 '
            '(corners swapped, or x y w h given as x1 y1 x2 y2?) are '
            f'dropped by the size filter (first: line {dets.lines[first]})')
    return notes


def check_outputs(args: argparse.Namespace) -> None:
    """--json / --plot: never an input, never replaced without
    --overwrite."""
    outputs = [p for p in (args.json, args.plot) if p]
    if args.json and args.plot and osp.abspath(args.json) == osp.abspath(
            args.plot):
        raise ValueError('--json and --plot name the same file')
    check_not_inputs(outputs, [args.dets, args.ann])
    for out in outputs:
        check_new_output(out, args.overwrite)


def run(args: argparse.Namespace) -> dict:
    check_outputs(args)
    gt = load_ground_truth(args.ann, args.min_size)
    dets = read_predictions(args.dets)
    image_idx = image_indices(gt, dets.keys)
    notes = check_detections(dets, image_idx, gt, args)
    result = evaluate(
        gt,
        image_idx,
        dets.scores,
        dets.boxes,
        iou_thr=args.iou_thr,
        num_calib_iters=args.nit)
    if result.num_kept == 0:
        raise ValueError(
            'the size filter (a side above '
            f'{min_detection_size(args.min_size)} px) drops every one of the '
            f'{len(dets)} detections of {args.dets}: boxes must be x1 y1 x2 '
            'y2 in pixels')
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
    for note in notes:
        print(f'NOTE: {note}')
    out = result.to_dict()
    if args.json:
        write_json(args.json, out, indent=2)
        print(f'APs written to {osp.abspath(args.json)}')
    if args.plot:
        with atomic_output(args.plot) as tmp:
            plot_curves(result, tmp, name)
        print(f'PR curves saved to {osp.abspath(args.plot)}')
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (ValueError, FileNotFoundError, FileExistsError,
            IsADirectoryError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
