# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The measurements of ``benchmarks/gpu_suite.sh``, as one Python step.

Sections (``--sections``, comma-separated; all by default):

- ``env``: Python, torch, CUDA, the GPU, mmcv / mmdet / mmengine, and a check
  that ``mmcv.ops.nms`` runs on a tensor of ``--device``;
- ``assigner``: ``HAMBoxAssigner`` against ``MaxIoUAssigner`` (0.35 / 0.35,
  without and with low-quality matching), 87,360 anchors of a 1024 x 1024
  image, 10 / 100 / 1,000 faces (the inputs of ``bench_assigner.py``);
- ``train_step``: one R50-FPN training step (forward, loss, backward, SGD)
  of HAMBox and of its baseline, batch 8 at 640 x 640, 10 / 100 / 1,000
  faces per image (the models of ``bench_train_step.py``), with the targets
  HAMBox <= 1.1x the baseline at 100 faces and its 1,000-face step <= 1.2x
  its 10-face step;
- ``inference``: images per second of the HAMBox and baseline R50-FPN and
  of the tiny R18 model, one 640 x 480 image and batches of 8 at 640 x 640.

``--ablation-json`` adds a run of ``ablation_real_wider.py`` to the report.
Writes ``--json`` and a Markdown table (``--markdown``)::

    python benchmarks/gpu_suite.py --device cuda --json gpu_suite.json \\
        --markdown gpu_suite.md
    python benchmarks/gpu_suite.py --device cpu --quick   # logic check

``--quick`` shrinks every size (2 face counts, small images, batch 2, one
repeat) so that the logic runs in about a minute on a CPU.
"""
import argparse
import json
import os
import os.path as osp
import platform
import sys
import time
import traceback

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
for path in (ROOT, osp.join(ROOT, 'benchmarks')):
    if path not in sys.path:
        sys.path.insert(0, path)

SECTIONS = ('env', 'assigner', 'train_step', 'inference')
TRAIN_NAMES = {
    'hambox': 'HAMBox',
    'baseline': 'baseline (MaxIoU)',
    'baseline_lq': 'baseline + low-quality (stock)',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes: checks the logic on a CPU')
    parser.add_argument('--sections', default=','.join(SECTIONS),
                        help=f'comma-separated, from {", ".join(SECTIONS)} '
                        '(or "none")')
    parser.add_argument('--json', help='write the results here')
    parser.add_argument('--markdown', help='write the Markdown tables here')
    parser.add_argument('--ablation-json',
                        help='an ablation_real_wider.py --json output to '
                        'include')
    parser.add_argument('--repeats', type=int,
                        help='timed repeats per measurement (default 5; '
                        '--quick: 1)')
    args = parser.parse_args(argv)
    args.sections = [] if args.sections == 'none' else [
        s.strip() for s in args.sections.split(',') if s.strip()]
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f'--sections: unknown {unknown}')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: torch {torch.__version__} '
                     'sees no CUDA device')
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    return args


def sizes(quick: bool) -> dict:
    if quick:
        return dict(assign_faces=[10, 50], step_faces=[10, 50], batch=2,
                    size=128, infer_size=(128, 96), infer_batch=2)
    return dict(assign_faces=[10, 100, 1000], step_faces=[10, 100, 1000],
                batch=8, size=640, infer_size=(640, 480), infer_batch=8)


def section_env(device: str) -> dict:
    import mmcv
    import mmdet
    import mmengine
    out = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        mmcv=mmcv.__version__,
        mmdet=mmdet.__version__,
        mmengine=mmengine.__version__,
        device=device,
        cpu_threads=torch.get_num_threads())
    if device.startswith('cuda'):
        props = torch.cuda.get_device_properties(device)
        out.update(gpu=props.name,
                   gpu_memory_gib=round(props.total_memory / 2**30, 1),
                   compute_capability=f'{props.major}.{props.minor}')
    from mmcv.ops import nms
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]],
                         dtype=torch.float32, device=device)
    scores = torch.tensor([0.9, 0.8, 0.7], device=device)
    _, keep = nms(boxes, scores, 0.5)
    out['mmcv_ops_nms'] = dict(device=str(keep.device),
                               ok=keep.cpu().tolist() == [0, 2])
    if not out['mmcv_ops_nms']['ok']:
        raise RuntimeError(f'mmcv.ops.nms on {device} kept {keep.tolist()}, '
                           'expected [0, 2]')
    print(f"env: {out}", flush=True)
    return out


def section_assigner(device: str, quick: bool, repeats: int) -> dict:
    from bench_assigner import make_inputs
    from mmdet.registry import TASK_UTILS
    from timing import median_time
    common = dict(pos_iou_thr=0.35, neg_iou_thr=0.35, min_pos_iou=0.)
    assigners = {
        'hambox': TASK_UTILS.build(dict(type='HAMBoxAssigner')),
        'maxiou': TASK_UTILS.build(
            dict(type='MaxIoUAssigner', match_low_quality=False, **common)),
        'maxiou_lq': TASK_UTILS.build(
            dict(type='MaxIoUAssigner', match_low_quality=True, **common)),
    }
    rows = []
    for n in sizes(quick)['assign_faces']:
        pred, gt = make_inputs(n, seed=n, device=device)
        row = dict(faces=n, anchors=len(pred.priors))
        for name, assigner in assigners.items():
            row[f'{name}_ms'] = 1000 * median_time(
                lambda a=assigner: a.assign(pred, gt), repeats, device)
        result = assigners['hambox'].assign(pred, gt)
        row['compensated'] = int(
            result.get_extra_property('compensated').sum())
        row['hambox_over_maxiou'] = row['hambox_ms'] / row['maxiou_ms']
        print(f'assigner: {row}', flush=True)
        rows.append(row)
    return dict(rows=rows, repeats=repeats)


def section_train_step(device: str, quick: bool, repeats: int) -> dict:
    from bench_train_step import build, make_batch, step_time
    s = sizes(quick)
    torch.manual_seed(0)
    models = {
        'hambox': build('hambox', device),
        'baseline': build('baseline', device),
        'baseline_lq': build('baseline', device, low_quality=True),
    }
    state = models['hambox'].state_dict()
    for name in ('baseline', 'baseline_lq'):
        models[name].load_state_dict(state)  # identical weights
    rows = []
    for n in s['step_faces']:
        batch = make_batch(s['batch'], n, s['size'], device, n)
        row = dict(faces=n)
        for name, model in models.items():
            if device.startswith('cuda'):
                torch.cuda.reset_peak_memory_stats(device)
            row[f'{name}_ms'] = 1000 * step_time(model, batch, repeats,
                                                 device)
            if device.startswith('cuda'):
                row[f'{name}_peak_gib'] = round(
                    torch.cuda.max_memory_allocated(device) / 2**30, 2)
        row['hambox_over_baseline'] = row['hambox_ms'] / row['baseline_ms']
        print(f'train step: {row}', flush=True)
        rows.append(row)
    out = dict(batch=s['batch'], size=s['size'], repeats=repeats, rows=rows)
    by_faces = {r['faces']: r for r in rows}
    targets = {}
    if 100 in by_faces:
        ratio = by_faces[100]['hambox_over_baseline']
        targets['hambox_over_baseline_at_100'] = dict(
            value=ratio, target=1.1, met=ratio <= 1.1)
    if 10 in by_faces and 1000 in by_faces:
        ratio = by_faces[1000]['hambox_ms'] / by_faces[10]['hambox_ms']
        targets['hambox_1000_over_10'] = dict(
            value=ratio, target=1.2, met=ratio <= 1.2)
    out['targets'] = targets
    return out


def section_inference(device: str, quick: bool, repeats: int) -> dict:
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmengine.config import Config
    from timing import median_time
    s = sizes(quick)
    configs = {
        'HAMBox R50-FPN': 'configs/hambox/hambox_r50_fpn_widerface.py',
        'baseline R50-FPN':
        'configs/baselines/retinanet_r50_fpn_face_widerface.py',
        'HAMBox tiny R18': 'configs/hambox/hambox_r18_fpn_tiny_widerface.py',
    }
    w, h = s['infer_size']
    square = s['size']
    rows = []
    torch.manual_seed(0)
    for name, path in configs.items():
        cfg = Config.fromfile(osp.join(ROOT, path))
        cfg.model.backbone.init_cfg = None
        model = MODELS.build(cfg.model).to(device).eval()
        row = dict(model=name, config=path)
        for key, (bw, bh, b) in (('single', (w, h, 1)),
                                 ('batch', (square, square,
                                            s['infer_batch']))):
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
    return dict(single=f'1 x {w}x{h}',
                batch=f"{s['infer_batch']} x {square}x{square}",
                repeats=repeats, rows=rows)


def markdown(report: dict) -> str:
    out = ['# GPU suite' if report.get('device', '').startswith('cuda')
           else f"# GPU suite (run on {report.get('device')})"]
    env = report.get('env')
    if env:
        out += ['', f"{env.get('gpu', env['device'])}, Python "
                f"{env['python']}, torch {env['torch']} (CUDA "
                f"{env['cuda']}), mmcv {env['mmcv']}, mmdet {env['mmdet']}, "
                f"mmengine {env['mmengine']}; mmcv.ops.nms on "
                f"{env['mmcv_ops_nms']['device']}: "
                f"{'ok' if env['mmcv_ops_nms']['ok'] else 'FAILED'}"]
    if report.get('quick'):
        out += ['', '**--quick: tiny sizes, a logic check, not a '
                'measurement.**']
    a = report.get('assigner')
    if a:
        out += ['', '## Assigner (one 1024 x 1024 image, '
                f"{a['rows'][0]['anchors']:,} anchors; median of "
                f"{a['repeats']})", '',
                '| faces | MaxIoU (ms) | MaxIoU + low-quality (ms) | '
                'HAMBox (ms) | HAMBox / MaxIoU | compensated |',
                '|---:|---:|---:|---:|---:|---:|']
        for r in a['rows']:
            out.append(f"| {r['faces']:,} | {r['maxiou_ms']:.1f} | "
                       f"{r['maxiou_lq_ms']:.1f} | {r['hambox_ms']:.1f} | "
                       f"{r['hambox_over_maxiou']:.2f}x | "
                       f"{r['compensated']} |")
    t = report.get('train_step')
    if t:
        out += ['', f"## Training step, R50-FPN, batch {t['batch']} x "
                f"{t['size']}x{t['size']} (median of {t['repeats']})", '',
                '| faces / image | ' + ' | '.join(
                    f'{v} (ms)' for v in TRAIN_NAMES.values()) +
                ' | HAMBox / baseline |', '|---:|' + '---:|' * 4]
        for r in t['rows']:
            out.append(f"| {r['faces']:,} | " + ' | '.join(
                f"{r[k + '_ms']:.0f}" for k in TRAIN_NAMES) +
                f" | {r['hambox_over_baseline']:.2f}x |")
        for key, v in t['targets'].items():
            out.append(f"\n- {key}: {v['value']:.2f}x (target <= "
                       f"{v['target']}x): {'met' if v['met'] else 'NOT met'}")
    i = report.get('inference')
    if i:
        out += ['', f"## Inference (random init, score threshold 0.02, "
                f"median of {i['repeats']})", '',
                f"| model | images/s, {i['single']} | images/s, "
                f"{i['batch']} |", '|---|---:|---:|']
        for r in i['rows']:
            out.append(f"| {r['model']} | {r['single_images_per_s']:.1f} | "
                       f"{r['batch_images_per_s']:.1f} |")
    for name, error in report.get('errors', {}).items():
        out += ['', f'**{name} FAILED**: `{error.strip().splitlines()[-1]}`']
    ab = report.get('ablation')
    if ab:
        b = ab['budget']
        out += ['', '## Ablation: HAMBox vs baseline on real WIDER FACE '
                'images (tiny R18, from scratch)', '',
                f"{ab['train_images']['used']} train images, "
                f"{ab['val_images']['evaluated']} val images "
                '(only_present_images=True: not comparable with full val); '
                f"budget per run: {b['iters']} iterations / {b['minutes']} "
                f"minutes (whichever first), batch {b['batch_size']}.", '',
                ab['markdown']]
        if ab.get('error'):
            out += ['', f"ablation: {ab['error']}"]
    elif report.get('ablation_error'):
        out += ['', f"## Ablation\n\n{report['ablation_error']}"]
    return '\n'.join(out) + '\n'


def main(argv=None):
    args = parse_args(argv)
    import hambox_mmdet  # noqa: F401  (registers the components)
    report = dict(device=args.device, quick=args.quick)
    if args.json and osp.exists(args.json) and not args.sections:
        with open(args.json) as f:  # only merging: keep what is there
            report = json.load(f)
    steps = dict(
        env=lambda: section_env(args.device),
        assigner=lambda: section_assigner(args.device, args.quick,
                                          args.repeats),
        train_step=lambda: section_train_step(args.device, args.quick,
                                              args.repeats),
        inference=lambda: section_inference(args.device, args.quick,
                                            args.repeats))

    def save():
        for path, text in ((args.json, json.dumps(report, indent=1)),
                           (args.markdown, markdown(report))):
            if path:
                os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
                with open(path, 'w') as f:
                    f.write(text)

    failed = []
    for name in args.sections:  # saved after each: a crash keeps the rest
        start = time.time()
        try:
            report[name] = steps[name]()
        except Exception:  # noqa: B902  (reported, and the exit code says)
            failed.append(name)
            report.setdefault('errors', {})[name] = traceback.format_exc()
            print(f'{name} FAILED:\n{traceback.format_exc()}', flush=True)
        report.setdefault('seconds', {})[name] = round(time.time() - start, 1)
        save()
    if args.ablation_json:
        if osp.exists(args.ablation_json):
            with open(args.ablation_json) as f:
                report['ablation'] = json.load(f)
        else:
            report['ablation_error'] = (
                f'no ablation results at {args.ablation_json} (skipped or '
                'failed: see its log)')
    save()
    print('\n' + markdown(report))
    if failed:
        sys.exit(f'error: section(s) {", ".join(failed)} failed (above)')


if __name__ == '__main__':
    main()
