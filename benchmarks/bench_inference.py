# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Inference speed: the HAMBox detector against its baseline.

HAMBox changes training only, so both models should predict at the same
speed; this measures it (random init, random VGA-sized images, the test
settings of the configs: score threshold 0.02, up to 1,000 boxes)::

    python benchmarks/bench_inference.py [--device cuda] [--size 640 480]
"""
import argparse
import sys
from pathlib import Path

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config

from hambox_mmdet.utils import register_all_modules

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    'HAMBox R50-FPN': 'configs/hambox/hambox_r50_fpn_widerface.py',
    'baseline R50-FPN':
    'configs/baselines/retinanet_r50_fpn_face_widerface.py',
    'HAMBox tiny R18': 'configs/hambox/hambox_r18_fpn_tiny_widerface.py',
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--size', type=int, nargs=2, default=[640, 480],
                        metavar=('W', 'H'))
    parser.add_argument('--repeats', type=int, default=10)
    args = parser.parse_args()
    register_all_modules()  # mmdet's and HAMBox's components
    w, h = args.size
    torch.manual_seed(0)
    inputs = torch.rand(1, 3, h, w, device=args.device) * 255
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(h, w),
            ori_shape=(h, w),
            pad_shape=(h, w),
            batch_input_shape=(h, w),
            scale_factor=(1., 1.)))
    print(f'device {args.device}, one {w}x{h} image per forward, median of '
          f'{args.repeats}')
    print('| model | ms / image | images / s |')
    print('|---|---:|---:|')
    for name, path in CONFIGS.items():
        cfg = Config.fromfile(str(ROOT / path))
        cfg.model.backbone.init_cfg = None
        model = MODELS.build(cfg.model).to(args.device).eval()
        with torch.no_grad():
            ms = 1000 * median_time(
                lambda: model.predict(inputs, [sample.clone()], rescale=True),
                args.repeats, args.device)
        print(f'| {name} | {ms:.1f} | {1000 / ms:.1f} |')


if __name__ == '__main__':
    main()
