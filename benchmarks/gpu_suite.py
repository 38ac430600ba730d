# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The measurements of ``benchmarks/gpu_suite.sh``, as one Python step.

Sections (``--sections``, comma-separated; all by default), one module
each next to this file:

- ``env`` (``gpu_suite_env.py``): Python, torch, CUDA, the GPU, mmcv /
  mmdet / mmengine, and a check that ``mmcv.ops.nms`` runs on a tensor of
  ``--device``;
- ``assigner`` (``gpu_suite_assigner.py``): ``HAMBoxAssigner`` against
  ``MaxIoUAssigner`` (0.35 / 0.35, without and with low-quality matching),
  87,360 anchors of a 1024 x 1024 image, 10 / 100 / 1,000 faces (the inputs
  of ``bench_assigner.py``);
- ``train_step`` (``gpu_suite_train_step.py``): one R50-FPN training step
  (forward, loss, backward, SGD) of HAMBox and of its baseline, batch 8 at
  640 x 640, 10 / 100 / 1,000 faces per image (the models of
  ``bench_train_step.py``), with the targets HAMBox <= 1.1x the baseline at
  100 faces and its 1,000-face step <= 1.2x its 10-face step;
- ``inference`` (``gpu_suite_inference.py``): images per second of the
  HAMBox and baseline R50-FPN and of the tiny R18 model, one 640 x 480 image
  and batches of 8 at 640 x 640.

``--ablation-json`` adds a run of ``ablation_real_wider.py`` to the report.
Writes ``--json`` and a Markdown table (``--markdown``; both by
``gpu_suite_report.py``), after each section, so a crash keeps the rest::

    python benchmarks/gpu_suite.py --device cuda --json gpu_suite.json \\
        --markdown gpu_suite.md
    python benchmarks/gpu_suite.py --device cpu --quick   # logic check

``--quick`` shrinks every size (2 face counts, small images, batch 2, one
repeat) so that the logic runs in about a minute on a CPU. With
``--sections none`` (``gpu_suite.sh``'s report step) only the report is
written: nothing is measured or registered, and an existing ``--json`` is
kept and merged into.
"""
import argparse
import json
import os.path as osp
import sys
import time
import traceback

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
for path in (ROOT, osp.join(ROOT, 'benchmarks')):
    if path not in sys.path:
        sys.path.insert(0, path)

from gpu_suite_report import add_ablation, markdown, save  # noqa: E402

SECTIONS = ('env', 'assigner', 'train_step', 'inference')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--device')  # default: cuda if torch sees one
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
    if args.device is None or args.device.startswith('cuda'):
        import torch
        if args.device is None:
            args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
        if args.device.startswith('cuda') and not torch.cuda.is_available():
            parser.error(f'--device {args.device}: torch {torch.__version__} '
                         'sees no CUDA device')
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    return args


def sizes(quick: bool) -> dict:
    """The face counts, batches and image sizes of the sections."""
    if quick:
        return dict(assign_faces=[10, 50], step_faces=[10, 50], batch=2,
                    size=128, infer_size=(128, 96), infer_batch=2)
    return dict(assign_faces=[10, 100, 1000], step_faces=[10, 100, 1000],
                batch=8, size=640, infer_size=(640, 480), infer_batch=8)


def register_components() -> None:
    """mmdet's and HAMBox's components, for the sections that build them."""
    from hambox_mmdet.utils import register_all_modules
    register_all_modules()


def measure(name: str, args) -> dict:
    """Runs one section; its module is imported only when it runs."""
    s = sizes(args.quick)
    if name == 'env':
        from gpu_suite_env import check_env
        return check_env(args.device)
    if name == 'assigner':
        from gpu_suite_assigner import time_assigners
        return time_assigners(args.device, s['assign_faces'], args.repeats)
    if name == 'train_step':
        from gpu_suite_train_step import time_train_steps
        return time_train_steps(args.device, s['step_faces'], s['batch'],
                                s['size'], args.repeats)
    from gpu_suite_inference import time_inference
    return time_inference(args.device, s['infer_size'], s['size'],
                          s['infer_batch'], args.repeats)


def main(argv=None):
    args = parse_args(argv)
    if args.sections:
        register_components()
    report = dict(device=args.device, quick=args.quick)
    if args.json and osp.exists(args.json) and not args.sections:
        with open(args.json) as f:  # only merging: keep what is there
            report = json.load(f)
    failed = []
    for name in args.sections:  # saved after each: a crash keeps the rest
        start = time.time()
        try:
            report[name] = measure(name, args)
        except Exception:  # noqa: B902  (reported, and the exit code says)
            failed.append(name)
            report.setdefault('errors', {})[name] = traceback.format_exc()
            print(f'{name} FAILED:\n{traceback.format_exc()}', flush=True)
        report.setdefault('seconds', {})[name] = round(time.time() - start, 1)
        save(report, args.json, args.markdown)
    if args.ablation_json:
        add_ablation(report, args.ablation_json)
    save(report, args.json, args.markdown)
    print('\n' + markdown(report))
    if failed:
        sys.exit(f'error: section(s) {", ".join(failed)} failed (above)')


if __name__ == '__main__':
    main()
