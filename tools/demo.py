# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Detect faces in an image, a folder of images or a video.

Draws the boxes with mmdet's visualizer and writes the predictions as JSON::

    python tools/demo.py photo.jpg --config CONFIG --checkpoint CKPT
    python tools/demo.py photos/ --config CONFIG --checkpoint CKPT
    python tools/demo.py clip.mp4 --config CONFIG --checkpoint CKPT
    python tools/demo.py photo.jpg --onnx MODEL.onnx     # no torch needed

Images and folders go through mmdet's ``DetInferencer``: pictures land in
``<out-dir>/vis/``, one JSON per image in ``<out-dir>/preds/``. A video is
read frame by frame and written to ``<out-dir>/<name>.mp4`` with
``<out-dir>/<name>.json`` holding every frame's boxes. With ``--onnx`` (a
model from ``tools/deployment/export_onnx.py``) the same outputs come from
:class:`hambox_mmdet.deployment.ONNXFaceDetector` on onnxruntime, and
neither torch nor mmdet is imported.
"""
import argparse
import json
import os
import os.path as osp
import sys

VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')


class DictAction(argparse.Action):
    """mmengine's ``DictAction``, imported only when used (mmengine is not
    needed with ``--onnx``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from mmengine.config import DictAction as MMEngineDictAction
        MMEngineDictAction(self.option_strings, self.dest)(
            parser, namespace, values, option_string)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('input', help='an image, a folder of images or a '
                        'video file')
    parser.add_argument('--config', help='model config')
    parser.add_argument('--checkpoint', help='weights')
    parser.add_argument(
        '--onnx',
        help='an ONNX model from tools/deployment/export_onnx.py, run with '
        'onnxruntime instead of --config/--checkpoint')
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
    args = parser.parse_args(argv)
    if args.onnx and (args.config or args.checkpoint or args.cfg_options):
        parser.error('--onnx replaces --config, --checkpoint and '
                     '--cfg-options: give either')
    if not args.onnx and not (args.config and args.checkpoint):
        parser.error('--config and --checkpoint are required (or --onnx)')
    return args


def build_inferencer(config, checkpoint, device, cfg_options=None):
    from mmdet.apis import DetInferencer
    from mmengine.config import Config

    import hambox_mmdet  # noqa: F401  (registers HAMBox components)
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


def read_video(path: str):
    """Frames of a video (BGR) and its fps, width, height and length."""
    import cv2
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        sys.exit(f'error: cannot read video {path}')
    props = [cap.get(p) for p in (cv2.CAP_PROP_FPS, cv2.CAP_PROP_FRAME_WIDTH,
                                  cv2.CAP_PROP_FRAME_HEIGHT,
                                  cv2.CAP_PROP_FRAME_COUNT)]

    def frames():
        while True:
            ok, frame = cap.read()
            if not ok:
                cap.release()
                return
            yield frame

    return frames(), props[0], int(props[1]), int(props[2]), int(props[3])


class _NoProgress:

    def update(self):
        pass


def run_video(inferencer, args) -> dict:
    import cv2
    video, fps, width, height, length = read_video(args.input)
    name = osp.splitext(osp.basename(args.input))[0]
    os.makedirs(args.out_dir, exist_ok=True)
    out_video = osp.join(args.out_dir, f'{name}.mp4')
    writer = cv2.VideoWriter(out_video, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    frames = []
    if args.onnx:  # keep the ONNX demo free of mmengine (and torch)
        progress = _NoProgress()
    else:
        import mmengine
        progress = mmengine.ProgressBar(length)
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
        json.dump(dict(video=args.input, fps=fps, frames=frames), f)
    return dict(
        num_frames=len(frames),
        num_faces=sum(f['num_above_thr'] for f in frames),
        video=out_video,
        json=out_json)


class ONNXInferencer:
    """The part of ``DetInferencer``'s interface the demo uses, on
    :class:`ONNXFaceDetector`: predictions as dicts of lists, pictures
    drawn with OpenCV (in RGB, as mmdet's visualizer returns them)."""

    def __init__(self, onnx_file: str, device=None) -> None:
        from hambox_mmdet.deployment import ONNXFaceDetector
        providers = None
        if device and str(device).startswith('cuda'):
            providers = ['CUDAExecutionProvider', 'CPUExecutionProvider']
        self.detector = ONNXFaceDetector(onnx_file, providers=providers)

    def _predict(self, img):
        dets, labels = self.detector(img, return_labels=True)
        return dict(labels=labels.tolist(),
                    scores=dets[:, 4].tolist(),
                    bboxes=dets[:, :4].tolist())

    @staticmethod
    def _draw(img, pred, score_thr):
        import cv2
        vis = img.copy()
        for box, score in zip(pred['bboxes'], pred['scores']):
            if score < score_thr:
                continue
            x1, y1, x2, y2 = (int(round(v)) for v in box)
            cv2.rectangle(vis, (x1, y1), (x2, y2), (0, 255, 0), 2)
            cv2.putText(vis, f'{score:.2f}', (x1, max(y1 - 3, 10)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 0), 1)
        return vis[..., ::-1]

    def __call__(self, inputs, out_dir='', batch_size=1, pred_score_thr=0.3,
                 no_save_pred=True, return_vis=False):
        import cv2
        import numpy as np
        if isinstance(inputs, np.ndarray):
            names, imgs = [None], [inputs]
        else:
            if osp.isdir(inputs):
                names = sorted(
                    osp.join(inputs, f) for f in os.listdir(inputs)
                    if f.lower().endswith(IMAGE_SUFFIXES))
            else:
                names = [inputs]
            imgs = []
            for name in names:
                img = cv2.imread(name, cv2.IMREAD_COLOR)
                if img is None:
                    raise FileNotFoundError(f'cannot read image {name}')
                imgs.append(img)
        preds, visualization = [], []
        for name, img in zip(names, imgs):
            pred = self._predict(img)
            vis = self._draw(img, pred, pred_score_thr)
            preds.append(pred)
            if return_vis:
                visualization.append(vis)
            if name is not None and out_dir:
                stem = osp.splitext(osp.basename(name))[0]
                os.makedirs(osp.join(out_dir, 'vis'), exist_ok=True)
                cv2.imwrite(osp.join(out_dir, 'vis', osp.basename(name)),
                            vis[..., ::-1])
                if not no_save_pred:
                    os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
                    with open(osp.join(out_dir, 'preds', stem + '.json'),
                              'w') as f:
                        json.dump(pred, f)
        return dict(predictions=preds, visualization=visualization)


def main(argv=None):
    args = parse_args(argv)
    if not osp.exists(args.input):
        sys.exit(f'error: input not found: {args.input}')
    if args.onnx:
        inferencer = ONNXInferencer(args.onnx, args.device)
    else:
        inferencer = build_inferencer(args.config, args.checkpoint,
                                      args.device, args.cfg_options)
    if osp.isfile(args.input) and args.input.lower().endswith(VIDEO_SUFFIXES):
        summary = run_video(inferencer, args)
    else:
        summary = run_images(inferencer, args)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
