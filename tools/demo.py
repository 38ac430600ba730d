# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Detect faces in an image, a folder of images or a video.

Draws the boxes with mmdet's visualizer and writes the predictions as JSON::

    python tools/demo.py photo.jpg --config CONFIG --checkpoint CKPT
    python tools/demo.py photos/ --config CONFIG --checkpoint CKPT
    python tools/demo.py clip.mp4 --config CONFIG --checkpoint CKPT
    python tools/demo.py photo.jpg --onnx MODEL.onnx     # no torch needed

Images and folders go through mmdet's ``DetInferencer``: pictures land in
``<out-dir>/vis/``, one JSON per image in ``<out-dir>/preds/`` (named by
the image's stem, ``a.json``, or by its file name, ``a.jpg.json``, where two
images of the folder share a stem). A video is read frame by frame and
written to ``<out-dir>/<name>.mp4`` with ``<out-dir>/<name>.json`` holding
every frame's boxes. With ``--onnx`` (a model from
``tools/deployment/export_onnx.py``) the same outputs come from
:class:`hambox_mmdet.deployment.ONNXFaceDetector` on onnxruntime, and
neither torch nor mmdet is imported.

Nothing the user owns is touched: ``--out-dir`` must be new, empty or an
earlier output folder of this demo (it holds ``.hambox_demo.json``); no
output may be an input; an existing output is replaced only with
``--overwrite``; each file is written under a temporary name and moved into
place when complete. The checkpoint must fit the config exactly (the rule
``export_onnx.py`` applies). Images that cannot be read are listed and make
the demo exit with status 1 after the others are done.
"""
import argparse
import json
import os
import os.path as osp
import sys
from pathlib import Path

# run as a plain script from a checkout: import this checkout's package
_ROOT = Path(__file__).resolve().parents[1]
if (_ROOT / 'hambox_mmdet').is_dir() and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from hambox_mmdet.safe_io import (atomic_output, check_not_inputs,  # noqa
                                  claim_output_dir, existing, write_json)

VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')
#: The marker of a folder this demo writes into.
MARKER = '.hambox_demo.json'


class DemoError(Exception):
    """A bad input: reported as one line, exit status 1."""


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
    parser.add_argument('--checkpoint', help='weights (must fit the config)')
    parser.add_argument(
        '--onnx',
        help='an ONNX model from tools/deployment/export_onnx.py, run with '
        'onnxruntime instead of --config/--checkpoint')
    parser.add_argument(
        '--out-dir', default='outputs/demo',
        help='where to write: a new or empty folder, or one this demo wrote '
        'before (a folder holding other data is refused)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace outputs of an earlier run in --out-dir (without it an '
        'existing output file is an error); inputs are never written over')
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
    if args.batch_size < 1:
        parser.error('--batch-size must be at least 1')
    return args


def build_inferencer(config, checkpoint, device, cfg_options=None):
    """mmdet's ``DetInferencer`` with the checkpoint loaded strictly: it
    must fit the config exactly
    (:func:`hambox_mmdet.utils.load_checkpoint_strict`, the rule of
    ``export_onnx.py``); a checkpoint that misses the head, say, is an
    error instead of a model drawing random boxes."""
    import warnings

    from mmdet.apis import DetInferencer
    from mmengine.config import Config

    from hambox_mmdet.utils import (load_checkpoint_strict, read_checkpoint,
                                    register_all_modules)
    register_all_modules()
    if not osp.isfile(config):
        raise DemoError(f'config not found: {config}')
    read_checkpoint(checkpoint)  # a clear error for a non-checkpoint first
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    with warnings.catch_warnings():
        # DetInferencer warns about the missing weights: loaded below
        warnings.simplefilter('ignore')
        inferencer = DetInferencer(
            model=cfg, weights=None, device=device, show_progress=False)
    meta = load_checkpoint_strict(inferencer.model, checkpoint)
    dataset_meta = meta.get('dataset_meta') or cfg.get(
        'test_dataloader', {}).get('dataset', {}).get('metainfo') or dict(
            classes=('face', ))
    inferencer.model.dataset_meta = dict(dataset_meta)
    inferencer.visualizer.dataset_meta = inferencer.model.dataset_meta
    return TorchInferencer(inferencer)


class TorchInferencer:
    """``DetInferencer`` on BGR arrays, its pictures returned in RGB.

    The demo reads every image itself (to name the unreadable ones) and
    hands over arrays; mmdet draws an array input as it is, i.e. in BGR
    (it converts only the images it reads from files), so the pictures are
    flipped to RGB here, as :class:`ONNXInferencer` returns them.
    """

    def __init__(self, inferencer) -> None:
        self.inferencer = inferencer

    def __call__(self, inputs, return_vis=False, **kwargs):
        results = self.inferencer(inputs, return_vis=return_vis, **kwargs)
        if return_vis:
            results['visualization'] = [
                vis[..., ::-1] for vis in results['visualization']
            ]
        return results


def to_jsonable(pred: dict, score_thr: float) -> dict:
    """Boxes of one prediction dict, with a count above the threshold."""
    scores = pred['scores']
    return dict(
        bboxes=pred['bboxes'],
        scores=scores,
        num_above_thr=int(sum(s >= score_thr for s in scores)))


def list_images(path: str) -> list:
    """The image files of ``path`` (a file, or a folder's images sorted by
    name, not recursive)."""
    if not osp.isdir(path):
        return [path]
    names = sorted(
        osp.join(path, f) for f in os.listdir(path)
        if f.lower().endswith(IMAGE_SUFFIXES)
        and osp.isfile(osp.join(path, f)))
    if not names:
        raise DemoError(f'no image ({", ".join(IMAGE_SUFFIXES)}) in the '
                        f'folder {path}')
    return names


def image_outputs(images: list, out_dir: str) -> list:
    """``(vis file, JSON file)`` of each image. The JSON is named by the
    image's stem, or by its whole file name where two images share a stem
    (``a.jpg`` and ``a.png``), so that no two images share an output."""
    stems = {}
    for name in images:
        stem = osp.splitext(osp.basename(name))[0]
        stems[stem] = stems.get(stem, 0) + 1
    outs = []
    for name in images:
        base = osp.basename(name)
        stem = osp.splitext(base)[0]
        json_name = (base if stems[stem] > 1 else stem) + '.json'
        outs.append((osp.join(out_dir, 'vis', base),
                     osp.join(out_dir, 'preds', json_name)))
    return outs


def prepare_out_dir(args, inputs: list, outputs: list) -> None:
    """Refuse before anything is written: an output that is an input, a
    folder holding data the demo did not write, an existing output without
    --overwrite."""
    # an output that is an input: the video inside --out-dir, the images'
    # folder being <out-dir>/vis
    check_not_inputs(outputs, inputs)
    claim_output_dir(args.out_dir, MARKER, 'tools/demo.py')
    found = existing(outputs)
    if found and not args.overwrite:
        raise DemoError(
            f'{len(found)} output(s) exist in {args.out_dir} (first: '
            f'{found[0]}): pass --overwrite to replace them')


def write_image(path: str, rgb) -> None:
    """Write a picture (RGB array) atomically; OpenCV writes BGR."""
    import cv2
    with atomic_output(path) as tmp:
        if not cv2.imwrite(tmp, rgb[..., ::-1]):
            raise DemoError(f'{path}: OpenCV cannot write this format')


def run_images(inferencer, args) -> dict:
    import cv2
    images = list_images(args.input)
    outputs = image_outputs(images, args.out_dir)
    prepare_out_dir(args, images, [p for pair in outputs for p in pair])
    unreadable, num_images, num_faces = [], 0, 0
    for start in range(0, len(images), args.batch_size):
        batch = []
        for name, out in zip(images[start:start + args.batch_size],
                             outputs[start:start + args.batch_size]):
            img = cv2.imread(name, cv2.IMREAD_COLOR)
            if img is None:
                unreadable.append(name)
            else:
                batch.append((img, out))
        if not batch:
            continue
        results = inferencer([img for img, _ in batch],
                             batch_size=args.batch_size,
                             pred_score_thr=args.score_thr,
                             return_vis=True,
                             no_save_vis=True,
                             out_dir='')
        for (img, (vis_file, json_file)), pred, vis in zip(
                batch, results['predictions'], results['visualization']):
            write_image(vis_file, vis)
            write_json(json_file, dict(labels=pred['labels'],
                                       scores=pred['scores'],
                                       bboxes=pred['bboxes']))
            num_images += 1
            num_faces += to_jsonable(pred, args.score_thr)['num_above_thr']
    summary = dict(
        num_images=num_images,
        num_faces=num_faces,
        vis_dir=osp.join(args.out_dir, 'vis'),
        preds_dir=osp.join(args.out_dir, 'preds'))
    if unreadable:
        summary['unreadable'] = unreadable
    return summary


def read_video(path: str):
    """Frames of a video (BGR) and its fps, width, height and length."""
    import cv2
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise DemoError(f'cannot read video {path}')
    props = [cap.get(p) for p in (cv2.CAP_PROP_FPS, cv2.CAP_PROP_FRAME_WIDTH,
                                  cv2.CAP_PROP_FRAME_HEIGHT,
                                  cv2.CAP_PROP_FRAME_COUNT)]

    def frames():
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                yield frame
        finally:
            cap.release()

    return frames(), props[0], int(props[1]), int(props[2]), int(props[3])


class _NoProgress:

    def update(self):
        pass


def run_video(inferencer, args) -> dict:
    import cv2
    name = osp.splitext(osp.basename(args.input))[0]
    out_video = osp.join(args.out_dir, f'{name}.mp4')
    out_json = osp.join(args.out_dir, f'{name}.json')
    prepare_out_dir(args, [args.input], [out_video, out_json])
    video, fps, width, height, length = read_video(args.input)
    if width <= 0 or height <= 0:
        raise DemoError(f'{args.input}: the video reports no frame size')
    frames = []
    if args.onnx:  # keep the ONNX demo free of mmengine (and torch)
        progress = _NoProgress()
    else:
        import mmengine
        progress = mmengine.ProgressBar(length)
    # written under a temporary name, moved into place once every frame is
    # in: an interrupted run leaves no half video under the output name
    with atomic_output(out_video) as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'),
                                 fps if fps > 0 else 25.0, (width, height))
        if not writer.isOpened():
            raise DemoError(f'{out_video}: OpenCV cannot write an mp4v video')
        try:
            for frame in video:
                result = inferencer(
                    frame, return_vis=True, pred_score_thr=args.score_thr)
                frames.append(
                    to_jsonable(result['predictions'][0], args.score_thr))
                # the visualizer draws in RGB; OpenCV writes BGR
                writer.write(result['visualization'][0][..., ::-1])
                progress.update()
        finally:
            writer.release()
        if not frames:
            raise DemoError(f'{args.input}: no frame could be read')
    write_json(out_json, dict(video=args.input, fps=fps, frames=frames))
    summary = dict(
        num_frames=len(frames),
        num_faces=sum(f['num_above_thr'] for f in frames),
        video=out_video,
        json=out_json)
    if length > 0 and len(frames) < length:
        summary['note'] = (f'{args.input} announces {length} frames, '
                           f'{len(frames)} could be read')
    return summary


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

    def __call__(self, inputs, batch_size=1, pred_score_thr=0.3,
                 return_vis=False, **unused):
        """Detect in one BGR image or a list of them (the demo reads and
        writes the files)."""
        import numpy as np
        imgs = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
        preds, visualization = [], []
        for img in imgs:
            pred = self._predict(img)
            preds.append(pred)
            if return_vis:
                visualization.append(self._draw(img, pred, pred_score_thr))
        return dict(predictions=preds, visualization=visualization)


#: Errors that are the user's input: one line and exit status 1 from the
#: command line.
USER_ERRORS = (DemoError, ValueError, FileNotFoundError, FileExistsError,
               IsADirectoryError)


def main(argv=None):
    """Run the demo; returns the summary. Raises :class:`DemoError` (after
    writing the other outputs) if some images could not be read."""
    args = parse_args(argv)
    if not osp.exists(args.input):
        raise DemoError(f'input not found: {args.input}')
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
    bad = summary.get('unreadable')
    if bad:
        raise DemoError(
            f'{len(bad)} image(s) could not be read (not an image, or '
            f'damaged), no output written for them: {", ".join(bad[:5])}'
            + (f' (+{len(bad) - 5} more)' if len(bad) > 5 else ''))
    return summary


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS as e:
        sys.exit(f'error: {e}')
