# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""ONNX export and onnxruntime inference against PyTorch inference.

For the tiny R18 and the R50 HAMBox configs (random init, no download; the
classifier rescaled so that a few hundred boxes pass the 0.02 score
threshold and post-processing has real work): the time of
``tools/deployment/export_onnx.py`` (dynamic shapes), the network alone
(PyTorch forward vs. ``InferenceSession.run``) and images / s end to end
(preprocessing, network, decoding, NMS) of ``ONNXFaceDetector``
(onnxruntime, CPU) and of mmdet's ``inference_detector`` (PyTorch, CPU), on
the same 640 x 480 BGR image::

    python benchmarks/bench_onnx.py [--repeats 5] [--size 640 480]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config

from hambox_mmdet.utils import register_all_modules

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools' / 'deployment'))
import export_onnx  # noqa: E402

CONFIGS = {
    'HAMBox tiny R18': 'configs/hambox/hambox_r18_fpn_tiny_widerface.py',
    'HAMBox R50-FPN': 'configs/hambox/hambox_r50_fpn_widerface.py',
}


def make_checkpoint(config: str, path: str, img: np.ndarray) -> None:
    """Random-init weights, saved as mmengine does (``state_dict`` +
    ``meta``), with the classifier rescaled so that its logits on ``img``
    have standard deviation 1 around -5.5: a few hundred boxes above the
    0.02 score threshold, as a detector on a busy picture."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    head = model.bbox_head
    with torch.no_grad():
        inputs = model.data_preprocessor(
            dict(inputs=[torch.from_numpy(img.transpose(2, 0, 1).copy())]),
            False)['inputs']
        head.retina_cls.bias.zero_()
        logits = torch.cat([c.flatten() for c in head(
            model.extract_feat(inputs))[0]])
        head.retina_cls.weight.div_(logits.std())
        head.retina_cls.bias.fill_(-5.5 - float(logits.mean() /
                                                logits.std()))
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=('face', )))), path)


def interleaved_medians(fns, repeats: int) -> list:
    """Median seconds of each function, timed in turn within each repeat
    (after one warm-up call each), so that load from other processes on a
    shared machine affects all of them alike."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, t in zip(fns, times):
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, nargs=2, default=[640, 480],
                        metavar=('W', 'H'))
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    register_all_modules()  # mmdet's and HAMBox's components
    from mmdet.apis import inference_detector, init_detector

    from hambox_mmdet.deployment import ONNXFaceDetector
    w, h = args.size
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    print(f'one {w}x{h} BGR image, median of {args.repeats} (interleaved); '
          f'torch threads {torch.get_num_threads()}, cpu count '
          f'{os.cpu_count()}, load average {os.getloadavg()[0]:.1f}')
    print('| model | export (s) | network ms: PyTorch / onnxruntime | '
          'end to end images / s: PyTorch | onnxruntime | onnxruntime / '
          'PyTorch | boxes |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    with tempfile.TemporaryDirectory() as tmp:
        for name, rel in CONFIGS.items():
            config = str(ROOT / rel)
            ckpt, onnx_file = f'{tmp}/m.pth', f'{tmp}/m.onnx'
            make_checkpoint(config, ckpt, img)
            start = time.perf_counter()
            export_onnx.export(export_onnx.parse_args(
                [config, ckpt, '--out', onnx_file, '--dynamic',
                 '--cfg-options', 'model.backbone.init_cfg=None']))
            export_s = time.perf_counter() - start
            cfg = Config.fromfile(config)
            cfg.model.backbone.init_cfg = None
            model = init_detector(cfg, ckpt, device='cpu')
            det = ONNXFaceDetector(onnx_file)
            batch = det.preprocess([img])[0]
            net = export_onnx.RawHeadOutputs(model).eval()
            with torch.no_grad():
                n_torch, n_ort, t_torch, t_ort = interleaved_medians([
                    lambda: net(torch.from_numpy(batch)),
                    lambda: det.session.run(det.output_names,
                                            {det.input_name: batch}),
                    lambda: inference_detector(model, img),
                    lambda: det(img),
                ], args.repeats)
            boxes = len(det(img))
            print(f'| {name} | {export_s:.1f} | {1000 * n_torch:.0f} / '
                  f'{1000 * n_ort:.0f} | {1 / t_torch:.2f} | '
                  f'{1 / t_ort:.2f} | {t_torch / t_ort:.2f}x | {boxes} |')


if __name__ == '__main__':
    main()
