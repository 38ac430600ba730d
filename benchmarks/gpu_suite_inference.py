# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The ``inference`` section of ``benchmarks/gpu_suite.py``.

Images per second of ``model.predict`` (randomly initialised weights, the
configs' test settings) for the HAMBox and baseline R50-FPN and the tiny
HAMBox R18: one image of ``single`` (width, height) and a batch of square
images. The components
must be registered first (``gpu_suite.py`` does it).
"""
import os.path as osp

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'HAMBox R50-FPN': 'configs/hambox/hambox_r50_fpn_widerface.py',
    'baseline R50-FPN':
    'configs/baselines/retinanet_r50_fpn_face_widerface.py',
    'HAMBox tiny R18': 'configs/hambox/hambox_r18_fpn_tiny_widerface.py',
}


def time_inference(device: str, single: tuple, square: int, batch: int,
                   repeats: int) -> dict:
    """One row per model: images per second and milliseconds per batch."""
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmengine.config import Config
    from timing import median_time
    w, h = single
    rows = []
    torch.manual_seed(0)
    for name, path in CONFIGS.items():
        cfg = Config.fromfile(osp.join(ROOT, path))
        cfg.model.backbone.init_cfg = None
        model = MODELS.build(cfg.model).to(device).eval()
        row = dict(model=name, config=path)
        for key, (bw, bh, b) in (('single', (w, h, 1)),
                                 ('batch', (square, square, batch))):
            inputs = torch.rand(b, 3, bh, bw, device=device) * 255
            samples = [
                DetDataSample(
                    metainfo=dict(
                        img_shape=(bh, bw),
                        ori_shape=(bh, bw),
                        pad_shape=(bh, bw),
                        batch_input_shape=(bh, bw),
                        scale_factor=(1., 1.))) for _ in range(b)
            ]
            with torch.no_grad():
                sec = median_time(
                    lambda: model.predict(
                        inputs, [x.clone() for x in samples], rescale=True),
                    repeats, device)
            row[f'{key}_images_per_s'] = b / sec
            row[f'{key}_ms_per_batch'] = 1000 * sec
        print(f'inference: {row}', flush=True)
        rows.append(row)
        del model
    return dict(single=f'1 x {w}x{h}', batch=f'{batch} x {square}x{square}',
                repeats=repeats, rows=rows)
