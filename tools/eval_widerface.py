# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Evaluate a WIDER FACE val submission folder, like the official MATLAB tool.

Usage::

    python tools/eval_widerface.py PRED_DIR \\
        --gt-dir data/widerface/eval_tools/ground_truth \\
        [--json OUT.json] [--plot OUT.png] [--only-present-images]

``PRED_DIR`` holds ``<event>/<image stem>.txt`` files: line 1 the image
name, line 2 the number of boxes N, then N lines ``x y w h score``. Images
without a file count as having no detections (their faces are missed, as
officially); their number is printed. A box of negative width or height is
scored as the official tool scores it (``x2 = x + w``: in practice a false
positive), with a warning giving their number. What the official reader
cannot read (a non-numeric field, a wrong number of fields or of lines) and
NaN / inf values stop the run with one line naming the file and the line.

So do a folder that does not follow the layout (a ``.txt`` file one level
too deep or shallow, named ``<stem>.jpg.txt``, or for an image that is not
in the ground truth) or in which no file matches a val image, and an AP that
is undefined (no face to find among the images evaluated, e.g. with
``--only-present-images``): none of them gives a number. ``--json`` and
``--plot`` are written under a temporary name and moved into place; an
existing one is replaced only with ``--overwrite``.
"""
import argparse
import math
import os.path as osp
import sys
from pathlib import Path

# run as a plain script from a checkout: import this checkout's package
_ROOT = Path(__file__).resolve().parents[1]
if (_ROOT / 'hambox_mmdet').is_dir() and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from hambox_mmdet.evaluation.wider import (  # noqa: E402
    GT_FILES, evaluate, load_ground_truth, plot_curves, read_predictions)
from hambox_mmdet.safe_io import (atomic_output,  # noqa: E402
                                  check_new_output, check_not_inputs,
                                  write_json)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Official WIDER FACE val evaluation (Easy / Medium / '
        'Hard AP) of a folder of prediction files')
    parser.add_argument('pred_dir', help='folder of <event>/<stem>.txt files')
    parser.add_argument(
        '--gt-dir',
        required=True,
        help='folder with wider_face_val.mat and wider_{easy,medium,hard}_'
        'val.mat (eval_tools/ground_truth)')
    parser.add_argument('--json', help='write {"easy": AP, ...} there')
    parser.add_argument('--plot', help='save the PR curves to this PNG')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace an existing --json / --plot file (without it, an '
        'existing one is an error)')
    parser.add_argument(
        '--only-present-images',
        action='store_true',
        help='count only the faces of images that have a prediction file '
        '(not comparable with full-val numbers)')
    parser.add_argument(
        '--iou-arith',
        choices=('auto', 'int32', 'float'),
        default='auto',
        help="overlap arithmetic: 'auto' = as the MATLAB tool (int32 for the "
        "official int32 boxes), 'float' = as the Python ports")
    return parser.parse_args(argv)


def check_outputs(args: argparse.Namespace) -> None:
    """--json / --plot: never an input, never replaced without
    --overwrite."""
    outputs = [p for p in (args.json, args.plot) if p]
    if args.json and args.plot and osp.abspath(args.json) == osp.abspath(
            args.plot):
        raise ValueError('--json and --plot name the same file')
    check_not_inputs(outputs,
                     [osp.join(args.gt_dir, f) for f in GT_FILES.values()])
    pred_dir = osp.realpath(args.pred_dir)
    for out in outputs:
        if out.endswith('.txt') and osp.realpath(out).startswith(
                pred_dir + osp.sep):
            raise ValueError(f'the output {out} is inside the prediction '
                             'folder, where it would be read as a prediction')
        check_new_output(out, args.overwrite)


def run(args: argparse.Namespace) -> dict:
    check_outputs(args)
    gt = load_ground_truth(args.gt_dir)
    preds, missing = read_predictions(args.pred_dir, gt.image_keys)
    result = evaluate(
        preds,
        gt,
        only_present_images=args.only_present_images,
        iou_arith=args.iou_arith)
    aps = result.aps
    undefined = [s for s, ap in aps.items() if not math.isfinite(ap)]
    if undefined:
        scope = (f'the {len(preds)} images with a prediction file '
                 '(--only-present-images)' if args.only_present_images else
                 f'the {len(gt)} images of the ground truth')
        raise ValueError(
            f'no face to find in setting(s) {", ".join(undefined)} among '
            f'{scope}: the AP is undefined (0 / 0), no number is given')
    for setting, ap in aps.items():
        print(f'{setting.capitalize():<6} Val AP: {ap:.4f}')
    print(f'prediction files: {len(preds)} read, {len(missing)} missing '
          f'(of {len(gt)} val images); {result.num_predictions} boxes')
    if result.num_negative_size:
        print(f'NOTE: {result.num_negative_size} box(es) of negative width '
              f'or height in {len(result.negative_size_keys)} file(s), '
              'scored as the official tool does (in practice false '
              'positives)')
    if args.only_present_images:
        print(f'NOTE: --only-present-images: the APs cover only the '
              f'{len(preds)} images with a prediction file and are not '
              'comparable with full-val numbers')
    elif missing:
        print(f'NOTE: the faces of the {len(missing)} images without a '
              'prediction file count as missed')
    if args.json:
        write_json(args.json, aps, indent=2)
        print(f'APs written to {osp.abspath(args.json)}')
    if args.plot:
        with atomic_output(args.plot) as tmp:
            plot_curves(result, tmp)
        print(f'PR curves saved to {osp.abspath(args.plot)}')
    return aps


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (ValueError, FileNotFoundError, FileExistsError,
            IsADirectoryError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
