# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Evaluate FDDB detections like the official UMass ``evaluate`` program.

Usage::

    python tools/eval_fddb.py DETS --folds-dir data/fddb/FDDB-folds \\
        --images-dir data/fddb/originalPics --json OUT.json [--plot ROC.png]
        [--folds 1 2 ...] [--roc-prefix out/fddb-]
        [--matching {official,optimal}]

``DETS`` is a detection file in the official layout (per image: its path as
in the fold list, the number of boxes, then ``left top width height score``
lines), or several such files (e.g. one per fold), or a folder of them.
Image sizes are read from the image headers (the official tool draws the
masks on a canvas of the image's size). Images of the folds that are not in
the file have no detections (their number is printed; the official program
requires every image). The JSON holds ``discrete_tpr@1000fp``,
``continuous_tpr@1000fp``, the same at 2000, the matching used and the whole
ROC curves.

``--matching official`` (default) pairs faces and detections exactly as the
official program (its libhungarian solver on its per-image matrix, not
always a maximum-weight matching, and sensitive to the order of the boxes
in the file): the numbers of every published FDDB curve. ``--matching
optimal`` takes the maximum-weight matching instead (see
``docs/fddb_matching.md``).
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

from hambox_mmdet.evaluation.fddb import (  # noqa: E402
    MATCHING_MODES, OfficialSolverError, evaluate, load_ground_truth,
    plot_curves, read_image_sizes, read_predictions)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Official FDDB evaluation (discrete and continuous ROC, '
        'true positive rate at 1,000 and 2,000 false positives)')
    parser.add_argument(
        'dets', nargs='+', help='detection file(s) or a folder of them')
    parser.add_argument(
        '--folds-dir', required=True,
        help='the FDDB-folds folder (FDDB-fold-XX-ellipseList.txt)')
    parser.add_argument(
        '--images-dir', required=True,
        help='originalPics folder (image sizes are read from the headers)')
    parser.add_argument(
        '--folds', type=int, nargs='+', default=None,
        help='folds to evaluate (default: every fold in --folds-dir, '
        'all ten in the official folder)')
    parser.add_argument('--json', help='write the TPRs and curves there')
    parser.add_argument('--plot', help='save both ROC curves to this PNG')
    parser.add_argument(
        '--roc-prefix',
        help='also write <prefix>DiscROC.txt (tpr fp threshold) and '
        '<prefix>ContROC.txt (tpr fp), the official program\'s files')
    parser.add_argument(
        '--matching', choices=MATCHING_MODES, default='official',
        help='official: the official program\'s assignment solver '
        '(default, the published numbers); optimal: maximum-weight matching')
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    gt = load_ground_truth(args.folds_dir, args.folds)
    dets = read_predictions(args.dets[0] if len(args.dets) == 1 else
                            args.dets)
    unknown = [k for k in dets if k not in gt.key_to_index]
    if unknown:
        raise ValueError(
            f'{len(unknown)} image(s) of the detections are not in the '
            f'evaluated folds, e.g. {unknown[0]!r} (check --folds)')
    sizes = read_image_sizes(args.images_dir, gt.image_keys)
    result = evaluate(dets, gt, sizes, matching=args.matching)
    out = result.to_dict()
    print(f'matching: {args.matching}')
    print(result.summary())
    missing = len(gt) - len(dets)
    if missing:
        print(f'NOTE: {missing} of {len(gt)} images are not in the detection '
              'file(s); they count as having no detections')
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(out, f)
        print(f'results written to {osp.abspath(args.json)}')
    if args.plot:
        plot_curves(result, args.plot)
        print(f'ROC curves saved to {osp.abspath(args.plot)}')
    if args.roc_prefix:
        result.save_roc(args.roc_prefix)
        print(f'official ROC files written to {args.roc_prefix}'
              '{Disc,Cont}ROC.txt')
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (ValueError, FileNotFoundError, OfficialSolverError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
