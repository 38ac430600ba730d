# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""One training step: HAMBox against its baseline, with crowds.

Builds the full models of ``configs/hambox/hambox_r50_fpn_widerface.py``
(HAMBoxHead + HAMBoxAssigner + RegressionAwareFocalLoss) and of
``configs/baselines/retinanet_r50_fpn_face_widerface.py`` (RetinaHead +
MaxIoUAssigner + FocalLoss; also with mmdet's stock low-quality matching),
random init, and times forward + loss + backward + SGD step on a batch of
640 x 640 images holding 10, 100 or 1,000 faces each::

    python benchmarks/bench_train_step.py [--device cuda] [--batch-size 8]

Reports the median step time of each model and face count, and the ratios
the issue asks about: HAMBox / baseline at the same face count, and each
model's 1,000-face step / its own 10-face step.
"""
import argparse
import sys
from pathlib import Path

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

from hambox_mmdet.utils import register_all_modules

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    'hambox': ROOT / 'configs/hambox/hambox_r50_fpn_widerface.py',
    'baseline': ROOT / 'configs/baselines/retinanet_r50_fpn_face_widerface.py',
}


def build(name: str, device: str, low_quality: bool = False):
    cfg = Config.fromfile(str(CONFIGS[name]))
    cfg.model.backbone.init_cfg = None
    if low_quality:
        cfg.model.train_cfg.assigner.match_low_quality = True
        cfg.model.train_cfg.assigner.min_pos_iou = 0.
    model = MODELS.build(cfg.model).to(device)
    model.train()
    return model


def make_batch(batch_size: int, num_faces: int, size: int, device: str,
               seed: int):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.rand(batch_size, 3, size, size, generator=g) * 255
    samples = []
    for _ in range(batch_size):
        side = torch.exp(
            torch.empty(num_faces).uniform_(2.0, 5.3, generator=g))
        xy = torch.rand(num_faces, 2, generator=g) * (size - side[:, None])
        wh = torch.stack([side, side * 1.25], 1).clamp(max=size - 1)
        boxes = torch.cat([xy, (xy + wh).clamp(max=size)], 1)
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                pad_shape=(size, size),
                batch_input_shape=(size, size),
                scale_factor=(1., 1.)))
        sample.gt_instances = InstanceData(
            bboxes=boxes.to(device),
            labels=torch.zeros(num_faces, dtype=torch.long, device=device))
        samples.append(sample)
    return inputs.to(device), samples


def step_time(model, batch, repeats: int, device: str) -> float:
    inputs, samples = batch
    optim = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def step():
        loss, _ = model.parse_losses(model.loss(inputs, samples))
        optim.zero_grad()
        loss.backward()
        optim.step()

    return median_time(step, repeats, device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--size', type=int, default=640)
    parser.add_argument('--faces', type=int, nargs='+',
                        default=[10, 100, 1000])
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    register_all_modules()  # mmdet's and HAMBox's components
    torch.manual_seed(0)
    models = {
        'HAMBox': build('hambox', args.device),
        'baseline (MaxIoU)': build('baseline', args.device),
        'baseline + low-quality (stock)': build('baseline', args.device,
                                                low_quality=True),
    }
    # identical weights: only the training strategy differs
    state = models['HAMBox'].state_dict()
    for name in list(models)[1:]:
        models[name].load_state_dict(state)
    print(f'device {args.device}, batch {args.batch_size} x '
          f'{args.size}x{args.size}, median of {args.repeats} steps')
    times = {}
    for n in args.faces:
        batch = make_batch(args.batch_size, n, args.size, args.device, n)
        for name, model in models.items():
            times[name, n] = step_time(model, batch, args.repeats,
                                       args.device)
    names = list(models)
    print('| faces / image | ' + ' | '.join(f'{m} (ms)' for m in names) +
          ' | HAMBox / baseline |')
    print('|---:|' + '---:|' * (len(names) + 1))
    for n in args.faces:
        row = ' | '.join(f'{1000 * times[m, n]:.0f}' for m in names)
        ratio = times['HAMBox', n] / times['baseline (MaxIoU)', n]
        print(f'| {n} | {row} | {ratio:.2f}x |')
    lo, hi = min(args.faces), max(args.faces)
    print(f'\n{hi}-face step / own {lo}-face step: ' + ', '.join(
        f'{m}: {times[m, hi] / times[m, lo]:.2f}x' for m in names))


if __name__ == '__main__':
    main()
