# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The main job, end to end: train a small HAMBox face detector, evaluate it
with the official WIDER FACE metric, and draw its detections.

    bash tools/quickstart.sh                      # the embedded default
    bash tools/quickstart.sh --data data/widerface  # real WIDER FACE

Data: ``--data DIR`` (official WIDER FACE layout), else ``data/widerface``
when it holds the official files, else a small generated face set in the
same layout, written by ``tools/misc/make_tiny_widerface.py`` to
``$HAMBOX_TINY_DATA`` or ``~/.cache/hambox_mmdet/widerface_tiny`` (once: it
is reused while its parameters are the same).
The same commands run in every case: ``mim train`` and ``mim test`` on
``hambox_r18_fpn_tiny_widerface.py``, then ``tools/demo.py``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MAKE_TINY = osp.join(ROOT, 'tools', 'misc', 'make_tiny_widerface.py')
CONFIG = 'hambox_r18_fpn_tiny_widerface.py'
DEFAULT_REAL = osp.join(ROOT, 'data', 'widerface')
TRAIN_ANN = 'wider_face_split/wider_face_train_bbx_gt.txt'
VAL_ANN = 'wider_face_split/wider_face_val_bbx_gt.txt'


def banner(text: str) -> None:
    print(f'\n\033[1;32m==> {text}\033[0m', flush=True)


def run(cmd: list, env: dict) -> None:
    print('$ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)


def is_wider_root(path: str) -> bool:
    return all(
        osp.isfile(osp.join(path, f)) for f in
        (TRAIN_ANN, VAL_ANN, 'eval_tools/ground_truth/wider_face_val.mat'))


def count_present_val_images(data_root: str) -> tuple:
    """(present, annotated) val images: is the download partial?"""
    from hambox_mmdet.datasets.wider_face_parser import parse_wider_bbx_gt
    paths = parse_wider_bbx_gt(osp.join(data_root, VAL_ANN)).img_paths
    present = sum(
        osp.isfile(osp.join(data_root, 'WIDER_val', 'images', p))
        for p in paths)
    return present, len(paths)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train, evaluate and demo a small HAMBox detector.')
    parser.add_argument(
        '--data',
        help='WIDER FACE root in the official layout (default: '
        'data/widerface if present, else the generated set)')
    parser.add_argument(
        '--work-dir',
        default=osp.join(ROOT, 'work_dirs', 'quickstart'),
        help='where checkpoints, logs and pictures go')
    parser.add_argument(
        '--epochs', type=int, help='override the config\'s epochs')
    parser.add_argument(
        '--max-train-images',
        type=int,
        help='train on the first N images only (default: all of the '
        'generated set; 400 of real WIDER FACE, to keep the run short on a '
        'CPU; 0 = all)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    env = dict(os.environ)
    cfg_options = []  # for training and testing
    train_options = [f'train_cfg.max_epochs={args.epochs}'] \
        if args.epochs else []
    # evaluate once, with mim test, not also at the end of training
    train_options += ['val_cfg=None', 'val_dataloader=None',
                      'val_evaluator=None']
    max_train_images = args.max_train_images

    banner('1/4 data')
    data_root = args.data or (DEFAULT_REAL
                              if is_wider_root(DEFAULT_REAL) else None)
    if data_root:
        data_root = osp.abspath(osp.expanduser(data_root))
        if not is_wider_root(data_root):
            sys.exit(f'error: {data_root} is not a WIDER FACE root: it needs '
                     f'{TRAIN_ANN}, {VAL_ANN} and '
                     'eval_tools/ground_truth/*.mat')
        env['HAMBOX_TINY_DATA'] = data_root
        if max_train_images is None:
            max_train_images = 400
            print('-> training on the first 400 training images for a quick '
                  'CPU run (--max-train-images 0 for all)')
        present, total = count_present_val_images(data_root)
        print(f'real WIDER FACE at {data_root}: {present} of {total} val '
              'images present')
        if present < total:
            # A partial download: evaluating over the present images only
            # must be an explicit, reported choice (papers quote full val).
            print('-> evaluating over the present images only '
                  '(test_evaluator.only_present_images=True): NOT comparable '
                  'with full-val numbers')
            cfg_options.append('test_evaluator.only_present_images=True')
    else:
        # The generated set, with the tool's defaults (its one home).
        from hambox_mmdet.testing import DEFAULT_ROOT
        data_root = env.get('HAMBOX_TINY_DATA', osp.expanduser(DEFAULT_ROOT))
        env['HAMBOX_TINY_DATA'] = data_root
        run([sys.executable, MAKE_TINY, data_root, '--skip-existing'], env)

    if max_train_images:
        train_options.append(
            f'train_dataloader.dataset.indices={max_train_images}')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    work_dir = osp.abspath(args.work_dir)

    banner(f'2/4 train: mim train hambox_mmdet {CONFIG}')
    run([mim, 'train', 'hambox_mmdet', CONFIG, '--work-dir', work_dir,
         '--cfg-options'] + cfg_options + train_options, env)
    last = open(osp.join(work_dir, 'last_checkpoint')).read().strip()

    banner('3/4 evaluate: mim test (official WIDER FACE Easy/Medium/Hard)')
    test_dir = osp.join(work_dir, 'test')
    run([
        mim, 'test', 'hambox_mmdet', CONFIG, '--checkpoint', last,
        '--work-dir', test_dir, '--cfg-options',
        f'test_evaluator.outfile_prefix={osp.join(test_dir, "predictions")}',
        f'test_evaluator.plot_file={osp.join(test_dir, "pr_curves.png")}'
    ] + cfg_options, env)
    metrics_files = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
    metrics = json.load(open(metrics_files[-1])) if metrics_files else {}

    banner('4/4 detections picture: tools/demo.py')
    val_images = sorted(
        glob.glob(osp.join(data_root, 'WIDER_val', 'images', '*', '*.jpg')))
    demo_dir = osp.join(work_dir, 'demo')
    run([
        sys.executable,
        osp.join(ROOT, 'tools', 'demo.py'), val_images[0], '--config',
        osp.join(ROOT, 'configs', 'hambox', CONFIG), '--checkpoint', last,
        '--out-dir', demo_dir, '--score-thr', '0.5', '--overwrite'
    ], env)  # --overwrite: a rerun replaces this quick start's own picture

    banner(f'done in {(time.time() - start) / 60:.1f} min')
    for key in ('easy', 'medium', 'hard'):
        value = metrics.get(f'widerface/{key}')
        if value is not None:
            print(f'  WIDER FACE {key:6s} AP: {value:.4f}')
    print(f'  checkpoint:      {last}')
    print(f'  PR curves:       {osp.join(test_dir, "pr_curves.png")}')
    print(f'  predictions:     {osp.join(test_dir, "predictions")}/ '
          '(official submission layout)')
    print(f'  detections:      {osp.join(demo_dir, "vis")}/')


if __name__ == '__main__':
    main()
