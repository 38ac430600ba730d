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

from hambox_mmdet.evaluation.wider import (  # noqa: E402
    evaluate_wider, load_wider_gt, plot_pr_curves, read_pred_dir)


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


def run(args: argparse.Namespace) -> dict:
    gt = load_wider_gt(args.gt_dir)
    preds, missing = read_pred_dir(args.pred_dir, gt.image_keys)
    result = evaluate_wider(
        preds,
        gt,
        only_present_images=args.only_present_images,
        iou_arith=args.iou_arith)
    aps = result.aps
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
        with open(args.json, 'w') as f:
            json.dump(aps, f, indent=2)
        print(f'APs written to {osp.abspath(args.json)}')
    if args.plot:
        plot_pr_curves(result, args.plot)
        print(f'PR curves saved to {osp.abspath(args.plot)}')
    return aps


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
