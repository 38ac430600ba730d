# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Detect faces in an image, a folder of images or a video.

Draws the boxes with mmdet's visualizer and writes the predictions as JSON::

    python tools/demo.py photo.jpg --config CONFIG --checkpoint CKPT
    python tools/demo.py photos/ --config CONFIG --checkpoint CKPT
    python tools/demo.py clip.mp4 --config CONFIG --checkpoint CKPT

Images and folders go through mmdet's ``DetInferencer``: pictures land in
``<out-dir>/vis/``, one JSON per image in ``<out-dir>/preds/``. A video is
read frame by frame and written to ``<out-dir>/<name>.mp4`` with
``<out-dir>/<name>.json`` holding every frame's boxes.
"""
import argparse
import json
import os.path as osp
import sys

import mmengine
from mmengine.config import Config, DictAction

import hambox_mmdet  # noqa: F401  (registers HAMBox components)

VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('input', help='an image, a folder of images or a '
                        'video file')
    parser.add_argument('--config', required=True, help='model config')
    parser.add_argument('--checkpoint', required=True, help='weights')
    parser.add_argument(
        '--out-dir', default='outputs/demo', help='where to write')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='draw boxes scoring at least this (JSON keeps all boxes)')
    parser.add_argument('--device', default=None, help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='images per forward pass')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.test_cfg.score_thr=0.1')
    return parser.parse_args(argv)


def build_inferencer(config, checkpoint, device, cfg_options=None):
    from mmdet.apis import DetInferencer
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return DetInferencer(
        model=cfg, weights=checkpoint, device=device, show_progress=False)


def to_jsonable(pred: dict, score_thr: float) -> dict:
    """Boxes of one prediction dict, with a count above the threshold."""
    scores = pred['scores']
    return dict(
        bboxes=pred['bboxes'],
        scores=scores,
        num_above_thr=int(sum(s >= score_thr for s in scores)))


def run_images(inferencer, args) -> dict:
    results = inferencer(
        args.input,
        out_dir=args.out_dir,
        batch_size=args.batch_size,
        pred_score_thr=args.score_thr,
        no_save_pred=False)
    return dict(
        num_images=len(results['predictions']),
        num_faces=sum(
            to_jsonable(p, args.score_thr)['num_above_thr']
            for p in results['predictions']),
        vis_dir=osp.join(args.out_dir, 'vis'),
        preds_dir=osp.join(args.out_dir, 'preds'))


def run_video(inferencer, args) -> dict:
    import cv2
    import mmcv
    video = mmcv.VideoReader(args.input)
    name = osp.splitext(osp.basename(args.input))[0]
    mmengine.mkdir_or_exist(args.out_dir)
    out_video = osp.join(args.out_dir, f'{name}.mp4')
    writer = cv2.VideoWriter(out_video, cv2.VideoWriter_fourcc(*'mp4v'),
                             video.fps, (video.width, video.height))
    frames = []
    progress = mmengine.ProgressBar(len(video))
    for frame in video:
        result = inferencer(
            frame, return_vis=True, pred_score_thr=args.score_thr)
        frames.append(to_jsonable(result['predictions'][0], args.score_thr))
        # the visualizer draws in RGB; OpenCV writes BGR
        writer.write(result['visualization'][0][..., ::-1])
        progress.update()
    writer.release()
    out_json = osp.join(args.out_dir, f'{name}.json')
    with open(out_json, 'w') as f:
        json.dump(dict(video=args.input, fps=video.fps, frames=frames), f)
    return dict(
        num_frames=len(frames),
        num_faces=sum(f['num_above_thr'] for f in frames),
        video=out_video,
        json=out_json)


def main(argv=None):
    args = parse_args(argv)
    if not osp.exists(args.input):
        sys.exit(f'error: input not found: {args.input}')
    inferencer = build_inferencer(args.config, args.checkpoint, args.device,
                                  args.cfg_options)
    if osp.isfile(args.input) and args.input.lower().endswith(VIDEO_SUFFIXES):
        summary = run_video(inferencer, args)
    else:
        summary = run_images(inferencer, args)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
