# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBox against its baseline, trained and evaluated on real WIDER FACE.

The two models differ only in the mining strategy: the small CPU model of
``configs/hambox/hambox_r18_fpn_tiny_widerface.py`` (HAMBoxHead +
HAMBoxAssigner + RegressionAwareFocalLoss) against
``configs/baselines/retinanet_r18_fpn_tiny_widerface.py`` (RetinaHead +
MaxIoUAssigner 0.35 / 0.35 without low-quality matching + FocalLoss): the
same network (ImageNet-free, it learns from scratch), anchors, data,
pipeline, budget, learning-rate schedule and seed. Each model trains on the
present WIDER FACE train images of ``--data-root`` (missing images are
skipped) and is evaluated with the official WIDER FACE metric
(``WIDERFaceMetric``) on the present val images, with
``only_present_images=True``: such numbers are NOT comparable with full-val
ones, and the output says so::

    python benchmarks/ablation_real_wider.py --iters 1000 --minutes 20 \\
        --seeds 0,1 --json ablation.json
    python benchmarks/ablation_real_wider.py --smoke --json smoke.json

Budget: ``--iters`` (a fixed number of iterations: the fairer choice on a
shared CPU) and/or ``--minutes`` (wall clock of training per model); with
both, training stops at whichever comes first. The learning rate follows
the tiny config's shape (linear warm-up, then cosine decay to a quarter)
over the budget's progress, max(iteration / iters, elapsed / minutes), so
both models get the same schedule whichever budget ends it.

Every (model, seed) run trains and tests in a child process of its own (one
after the other; ``--parallel N`` runs N at a time, e.g. on a GPU), so that
one crash does not lose the others; the JSON holds,
per model, the list of runs (``seed``, ``easy``, ``medium``, ``hard``,
``iters``, ``minutes``, ``checkpoint``, and for HAMBox ``mining``: the mean
over training of the statistics ``HAMBoxHead`` logs, or null where the head
logs none) and a summary (mean, sample std over seeds, HAMBox - baseline).
"""
import argparse
import json
import math
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:  # this checkout's hambox_mmdet, in the children too
    sys.path.insert(0, ROOT)

CONFIGS = {
    'hambox': osp.join(ROOT, 'configs', 'hambox',
                       'hambox_r18_fpn_tiny_widerface.py'),
    'baseline': osp.join(ROOT, 'configs', 'baselines',
                         'retinanet_r18_fpn_tiny_widerface.py'),
}
# variants (--models): one part of a base config changed; the root-cause
# grid of the regression-aware loss (BENCHMARKS.md) and the assigners users
# would pick instead of HAMBox
_FOCAL = dict(_delete_=True, type='FocalLoss', use_sigmoid=True, gamma=2.0,
              alpha=0.25, loss_weight=1.0)
_LOSS = 'model.bbox_head.loss_cls.'
_SEPARATE = {_LOSS + 'com_normalizer': 'separate'}
VARIANTS = {
    # the paper's formula read literally: the compensated terms divided by
    # N_com, the stage-1 terms by N_norm (cls and box)
    'hambox_separate': ('hambox', _SEPARATE),
    # the separate normaliser in one term only
    'hambox_separate_cls': ('hambox', {
        **_SEPARATE, 'model.bbox_head.bbox_com_normalizer': 'joint'}),
    'hambox_separate_bbox': ('hambox', {
        'model.bbox_head.bbox_com_normalizer': 'separate'}),
    # the literal form without the IoU weight F_i / without the ignore rule
    'hambox_separate_no_iou_weight': ('hambox', {
        **_SEPARATE, _LOSS + 'iou_weighted': False}),
    'hambox_separate_noignore': ('hambox', {
        **_SEPARATE, _LOSS + 'ignore_reg_iou_thr': None}),
    # the shipped (joint) form without F_i / without the ignore rule
    'hambox_no_iou_weight': ('hambox', {_LOSS + 'iou_weighted': False}),
    'hambox_noignore': ('hambox', {_LOSS + 'ignore_reg_iou_thr': None}),
    # mining with mmdet's FocalLoss: compensated anchors are ordinary
    # positives (no IoU weight, one normaliser), no negatives ignored
    'hambox_focal': ('hambox', {'model.bbox_head.loss_cls': _FOCAL}),
    # the baseline's matching plus each face's best anchor (RetinaFace-style
    # low-quality matching, mmdet RetinaNet's min_pos_iou=0)
    'maxiou_lq': ('baseline', {
        'model.train_cfg.assigner.match_low_quality': True,
        'model.train_cfg.assigner.min_pos_iou': 0.0}),
    # mmdet's ATSSAssigner (SCRFD's choice) on the same network and loss as
    # the baseline: HAMBoxHead passes it the per-level anchor counts
    'atss': ('hambox', {
        'model.bbox_head.loss_cls': _FOCAL,
        'model.train_cfg.assigner': dict(
            _delete_=True, type='LevelATSSAssigner', topk=9,
            ignore_iof_thr=0.5)}),
}
TRAIN_ANN = 'wider_face_split/wider_face_train_bbx_gt.txt'
VAL_ANN = 'wider_face_split/wider_face_val_bbx_gt.txt'
GT_MAT = 'eval_tools/ground_truth/wider_face_val.mat'
DEFAULT_DATA = osp.join(osp.dirname(ROOT), 'shared', 'data', 'widerface')
# what HAMBoxHead logs through mmengine's MessageHub (``hambox/<name>``)
MINING_KEYS = ('compensated_per_img', 'faces_below_k_stage1',
               'faces_below_k_final', 'compensated_reg_iou',
               'ignored_negatives_per_img')
AP_KEYS = ('easy', 'medium', 'hard')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--data-root', default=DEFAULT_DATA,
        help='WIDER FACE in the official layout (default: ../shared/data/'
        'widerface)')
    parser.add_argument(
        '--minutes', type=float,
        help='training budget per model, wall-clock minutes')
    parser.add_argument(
        '--iters', type=int,
        help='training budget per model, iterations (with --minutes: '
        'whichever comes first)')
    parser.add_argument('--seeds', default=None,
                        help='comma-separated seeds (default 0,1)')
    parser.add_argument(
        '--models', default='hambox,baseline',
        help='comma-separated, from: ' + ', '.join(list(CONFIGS) +
                                                   list(VARIANTS)) +
        ' (all but the first two: variants, see VARIANTS)')
    parser.add_argument(
        '--work-dir', default=osp.join(ROOT, 'work_dirs', 'ablation'),
        help='one sub-folder per model and seed (checkpoint, logs)')
    parser.add_argument('--json', help='write the results here')
    parser.add_argument(
        '--smoke', action='store_true',
        help='about a minute per model, one seed: a check that it all runs '
        '(defaults: --minutes 0.5, --max-val-images 20, --seeds 0)')
    parser.add_argument('--batch-size', type=int,
                        help='images per iteration (default: the config\'s, '
                        '4)')
    parser.add_argument('--workers', type=int, default=1,
                        help='data-loading processes per run (default 1: '
                        'on 2 cores more only compete with the training)')
    parser.add_argument('--lr', type=float,
                        help='peak learning rate (default: the config\'s)')
    parser.add_argument(
        '--max-train-images', type=int, default=0,
        help='train on the first N present train images (0: all)')
    parser.add_argument(
        '--max-val-images', type=int,
        help='evaluate on the first N present val images (default: all)')
    parser.add_argument(
        '--threads', type=int, default=1,
        help='torch threads per run (default 1: measured on 2 shared cores, '
        'torch\'s default of 2 threads plus 2 loader workers took 4 to 5 s '
        'per iteration, 1 thread and 1 worker 0.9 s; 0: torch\'s default)')
    parser.add_argument('--log-interval', type=int, default=5,
                        help='iterations between log lines / scalars.json '
                        'entries')
    parser.add_argument(
        '--device', choices=['auto', 'cpu', 'cuda'], default='auto',
        help='auto: CUDA when available (mmengine\'s choice)')
    parser.add_argument(
        '--parallel', type=int, default=1,
        help='runs at a time (default 1; on a GPU machine all of them: '
        'the runs share it alike)')
    parser.add_argument(
        '--collect', metavar='WORK_DIR',
        help='train nothing: table every finished run under WORK_DIR '
        '(<model>_seed<seed>/result.json) with means, spreads and per-seed '
        'differences against --reference')
    parser.add_argument(
        '--reference', default='hambox',
        help='with --collect: the model the others are paired with '
        '(default hambox)')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child or args.collect:
        return args
    if args.smoke:
        if args.minutes is None and args.iters is None:
            args.minutes = 0.5
        if args.max_val_images is None:
            args.max_val_images = 20
        args.seeds = args.seeds or '0'
    if args.minutes is None and args.iters is None:
        parser.error('give a training budget: --iters and/or --minutes '
                     '(or --smoke)')
    if args.parallel < 1:
        parser.error('--parallel must be at least 1')
    if (args.minutes is not None and args.minutes <= 0) or (
            args.iters is not None and args.iters <= 0):
        parser.error('--minutes and --iters must be positive')
    args.seeds = [int(s) for s in (args.seeds or '0,1').split(',')]
    args.models = [m.strip() for m in args.models.split(',') if m.strip()]
    unknown = [m for m in args.models if m not in CONFIGS and
               m not in VARIANTS]
    if unknown or not args.models:
        parser.error(f'--models: unknown {unknown}; choose from '
                     f'{", ".join(list(CONFIGS) + list(VARIANTS))}')
    return args


def check_data_root(data_root: str) -> dict:
    """Count the present train and val images; fail naming what is
    missing."""
    missing = [
        f for f in (TRAIN_ANN, VAL_ANN, GT_MAT)
        if not osp.isfile(osp.join(data_root, f))
    ]
    if missing:
        sys.exit(f'error: {data_root} is not a WIDER FACE root in the '
                 f'official layout: missing {", ".join(missing)}')
    from hambox_mmdet.datasets.wider_face_parser import parse_wider_bbx_gt
    counts = {}
    for split, ann in (('train', TRAIN_ANN), ('val', VAL_ANN)):
        paths = parse_wider_bbx_gt(osp.join(data_root, ann)).img_paths
        present = sum(
            osp.isfile(osp.join(data_root, f'WIDER_{split}', 'images', p))
            for p in paths)
        counts[split] = dict(present=present, annotated=len(paths))
    return counts


# ----------------------------------------------------------------- child


def _budget_hook_cls():
    from mmengine.hooks import Hook

    class BudgetHook(Hook):
        """Stops training at the budget and drives the learning rate.

        lr = peak x warm-up x (r + (1 - r) (1 + cos(pi p)) / 2), with
        p = max(iter / max_iters, elapsed / max_seconds) the budget's
        progress, r the config's eta_min / lr, and a linear warm-up from
        0.01 over the first ``warmup_iters`` iterations.
        """
        priority = 'HIGHEST'  # before RuntimeInfoHook logs the lr

        def __init__(self, max_iters, max_seconds, warmup_iters, min_ratio):
            self.max_iters = max_iters
            self.max_seconds = max_seconds
            self.warmup_iters = warmup_iters
            self.min_ratio = min_ratio
            self.start = None
            self.peak = None
            self.train_seconds = 0.

        def progress(self, runner) -> float:
            p = 0.
            if self.max_iters:
                p = runner.iter / self.max_iters
            if self.max_seconds:
                elapsed = time.perf_counter() - self.start
                p = max(p, elapsed / self.max_seconds)
            return min(p, 1.)

        def before_train(self, runner):
            self.start = time.perf_counter()
            groups = runner.optim_wrapper.optimizer.param_groups
            self.peak = [g['lr'] for g in groups]

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            p = self.progress(runner)
            factor = self.min_ratio + (1 - self.min_ratio) * 0.5 * (
                1 + math.cos(math.pi * p))
            if runner.iter < self.warmup_iters:
                factor *= 0.01 + 0.99 * runner.iter / self.warmup_iters
            groups = runner.optim_wrapper.optimizer.param_groups
            for group, peak in zip(groups, self.peak):
                group['lr'] = peak * factor

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            self.train_seconds = time.perf_counter() - self.start
            if self.max_seconds and self.train_seconds >= self.max_seconds:
                runner.train_loop.stop_training = True

    return BudgetHook


def _mean_scalars(hub, work_dir: str, names, prefix: str):
    """Mean over training of the scalars ``prefix + name``: from the
    MessageHub's full history, else from ``vis_data/scalars.json``."""
    found = {}
    for name in names:
        buf = hub.log_scalars.get(prefix + name)
        if buf is not None and len(buf.data[0]):
            found[name] = float(buf.mean())
    if len(found) == len(names):
        return found
    sums = {}
    for path in sorted(_find_files(work_dir, 'scalars.json')):
        with open(path) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                for name in names:
                    # scalars.json drops the mode prefix ('train/')
                    key = (prefix + name).split('train/', 1)[-1]
                    if name not in found and key in entry:
                        s = sums.setdefault(name, [0., 0])
                        s[0] += float(entry[key])
                        s[1] += 1
    found.update({k: v[0] / v[1] for k, v in sums.items() if v[1]})
    return found


# the losses and, with the regression-aware loss, its four terms (each over
# all positives: comparable across normalisers and with the baseline)
LOSS_KEYS = ('loss_cls', 'loss_bbox', 'cls_stage1', 'cls_com', 'bbox_stage1',
             'bbox_com')


def _loss_curves(hub, pieces: int = 10) -> dict:
    """Each logged loss term averaged over ``pieces`` equal spans of
    training (the loss curve, coarsely), from the MessageHub history."""
    curves = {}
    for name in LOSS_KEYS:
        buf = hub.log_scalars.get('train/' + name)
        if buf is None or not len(buf.data[0]):
            continue
        values = [float(v) for v in buf.data[0]]
        step = max(len(values) // pieces, 1)
        curves[name] = [
            sum(values[i:i + step]) / len(values[i:i + step])
            for i in range(0, step * pieces, step) if values[i:i + step]
        ]
    return curves


def _find_files(folder: str, name: str):
    for dirpath, _, files in os.walk(folder):
        if name in files:
            yield osp.join(dirpath, name)


def run_child(spec_path: str) -> None:
    """Train one model with one seed within the budget, save it, test it."""
    with open(spec_path) as f:
        spec = json.load(f)
    os.environ['HAMBOX_TINY_DATA'] = spec['data_root']
    import torch

    from hambox_mmdet.utils import register_all_modules
    register_all_modules()  # mmdet's and HAMBox's components
    if spec['threads']:
        torch.set_num_threads(spec['threads'])
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(spec['config'])
    if spec.get('overrides'):
        cfg.merge_from_dict(spec['overrides'])
    cfg.work_dir = spec['work_dir']
    cfg.launcher = 'none'
    cfg.randomness = dict(seed=spec['seed'], deterministic=False)
    workers = spec['workers']
    loader = dict(num_workers=workers, persistent_workers=workers > 0)
    cfg.train_dataloader.update(loader)
    if spec['batch_size']:
        cfg.train_dataloader.batch_size = spec['batch_size']
    train_ds = cfg.train_dataloader.dataset
    train_ds.update(on_missing_image='skip')
    if spec['max_train_images']:
        train_ds.indices = spec['max_train_images']
    cfg.test_dataloader.update(loader)
    test_ds = cfg.test_dataloader.dataset
    test_ds.update(on_missing_image='skip')
    if spec['max_val_images']:
        test_ds.indices = spec['max_val_images']
    cfg.test_evaluator.only_present_images = True
    # recall by matched anchors D with the model's own anchors (issue 19)
    cfg.test_evaluator.outer_face_recall = dict(
        anchor_generator=cfg.model.bbox_head.anchor_generator)

    # the budget hook replaces the config's schedulers (same shape)
    # the floor is the config's eta_min relative to the config's lr, so that
    # --lr scales the whole schedule
    config_lr = cfg.optim_wrapper.optimizer.lr
    eta_min = next((s['eta_min'] for s in cfg.get('param_scheduler') or []
                    if 'eta_min' in s), 0.25 * config_lr)
    min_ratio = min(eta_min / config_lr, 1.)
    peak_lr = spec['lr'] or config_lr
    cfg.optim_wrapper.optimizer.lr = peak_lr
    warmup = next((s['end'] for s in cfg.get('param_scheduler') or []
                   if s['type'] == 'LinearLR'), 100)
    cfg.param_scheduler = None
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop',
        max_iters=spec['iters'] or 10**9,
        val_interval=10**9)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    cfg.default_hooks.logger = dict(
        type='LoggerHook', interval=spec['log_interval'])
    cfg.log_processor = dict(window_size=spec['log_interval'], by_epoch=False)

    runner = Runner.from_cfg(cfg)
    budget = _budget_hook_cls()(
        spec['iters'], 60 * spec['minutes'] if spec['minutes'] else None,
        warmup, min_ratio)
    runner.register_hook(budget)
    runner.train()
    iters = runner.iter
    ckpt = f'iter_{iters}.pth'
    runner.save_checkpoint(
        cfg.work_dir, ckpt, save_optimizer=False,
        save_param_scheduler=False, by_epoch=False)
    # HAMBoxHead records train/hambox/<name>; the log shows hambox/<name>.
    # runner.log_dir: this run's folder only (a reused work_dir holds older
    # runs' scalars.json too)
    mining = _mean_scalars(runner.message_hub, runner.log_dir, MINING_KEYS,
                           'train/hambox/')
    positives = _mean_scalars(runner.message_hub, runner.log_dir,
                              ('num_pos_norm', 'num_pos_com'), 'train/')
    loss_curves = _loss_curves(runner.message_hub)
    train_images = len(runner.train_dataloader.dataset)

    start = time.perf_counter()
    metrics = runner.test()
    result = dict(
        seed=spec['seed'],
        **{k: float(metrics[f'widerface/{k}']) for k in AP_KEYS},
        outer_face_recall={
            k.split('/', 2)[2]: v for k, v in metrics.items()
            if k.startswith('widerface/outer/')
        },
        iters=iters,
        minutes=round(budget.train_seconds / 60, 3),
        test_minutes=round((time.perf_counter() - start) / 60, 3),
        checkpoint=osp.join(cfg.work_dir, ckpt),
        mining=mining or None,
        positives_per_img=positives or None,
        loss_curves=loss_curves,
        train_images=train_images,
        val_images=len(runner.test_dataloader.dataset),
        batch_size=cfg.train_dataloader.batch_size,
        peak_lr=peak_lr,
        device=str(next(runner.model.parameters()).device))
    with open(spec['result'], 'w') as f:
        json.dump(result, f, indent=1)


# ---------------------------------------------------------------- parent


def launch(args, model: str, seed: int) -> dict:
    """Start the child process of one (model, seed) run."""
    work_dir = osp.join(osp.abspath(args.work_dir), f'{model}_seed{seed}')
    os.makedirs(work_dir, exist_ok=True)
    base, overrides = VARIANTS.get(model, (model, None))
    spec = dict(
        config=CONFIGS[base], overrides=overrides,
        data_root=osp.abspath(args.data_root) + '/',
        work_dir=work_dir, seed=seed, iters=args.iters, minutes=args.minutes,
        batch_size=args.batch_size, workers=args.workers, lr=args.lr,
        max_train_images=args.max_train_images,
        max_val_images=args.max_val_images, log_interval=args.log_interval,
        threads=args.threads, result=osp.join(work_dir, 'result.json'))
    spec_path = osp.join(work_dir, 'spec.json')
    with open(spec_path, 'w') as f:
        json.dump(spec, f, indent=1)
    if osp.exists(spec['result']):
        os.remove(spec['result'])
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    if args.device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    if args.threads:
        env['OMP_NUM_THREADS'] = str(args.threads)
    log_path = osp.join(work_dir, 'run.log')
    print(f'-> {model}, seed {seed}: training and testing in a child '
          f'process (log: {log_path})', flush=True)
    log = open(log_path, 'w')
    proc = subprocess.Popen(
        [sys.executable, osp.abspath(__file__), '--child', spec_path],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    return dict(model=model, seed=seed, proc=proc, log=log,
                log_path=log_path, result=spec['result'], start=time.time())


def collect(job: dict) -> dict:
    """Wait for a run's child; its result, or an error entry."""
    returncode = job['proc'].wait()
    job['log'].close()
    model, seed = job['model'], job['seed']
    if returncode != 0 or not osp.exists(job['result']):
        with open(job['log_path']) as f:
            tail = f.read()[-3000:]
        print(f'   {model}, seed {seed}: FAILED (exit code {returncode}); '
              f'end of its log:\n{tail}', flush=True)
        return dict(seed=seed, error=f'exit code {returncode}',
                    log=job['log_path'])
    with open(job['result']) as f:
        result = json.load(f)
    print(f"   {model}, seed {seed}: {result['iters']} iterations in "
          f"{result['minutes']:.2f} min (+ "
          f"{time.time() - job['start'] - 60 * result['minutes']:.0f} s "
          f"set-up and test): Easy {result['easy']:.4f}, Medium "
          f"{result['medium']:.4f}, Hard {result['hard']:.4f}", flush=True)
    return result


def run_all(args) -> dict:
    """Every (model, seed) run, at most ``--parallel`` at a time."""
    # interleaved: a shared machine's load changes hit both models alike
    pending = [(m, s) for s in args.seeds for m in args.models]
    results, running = {}, []
    while pending or running:
        while pending and len(running) < args.parallel:
            running.append(launch(args, *pending.pop(0)))
        done = next((j for j in running if j['proc'].poll() is not None),
                    None)
        if done is None:
            time.sleep(0.5)
            continue
        running.remove(done)
        results[done['model'], done['seed']] = collect(done)
    return {m: [results[m, s] for s in args.seeds] for m in args.models}


def summarise(models: dict) -> dict:
    """Mean and sample std over seeds; HAMBox - baseline against the
    spread."""
    summary = {}
    for model, runs in models.items():
        ok = [r for r in runs if 'error' not in r]
        summary[model] = dict(runs=len(ok), failed=len(runs) - len(ok))
        for key in AP_KEYS + ('iters', ):
            values = [r[key] for r in ok]
            summary[model][key] = dict(
                mean=statistics.mean(values) if values else None,
                std=statistics.stdev(values) if len(values) > 1 else None,
                min=min(values) if values else None,
                max=max(values) if values else None)
    if all(summary.get(m, {}).get('runs') for m in ('hambox', 'baseline')):
        diff = {}
        for key in AP_KEYS:
            h, b = summary['hambox'][key], summary['baseline'][key]
            d = h['mean'] - b['mean']
            spread = None
            if h['std'] is not None and b['std'] is not None:
                spread = h['std'] + b['std']
            diff[key] = dict(
                diff=d, spread=spread,
                outside_spread=None if spread is None else abs(d) > spread)
        summary['hambox_minus_baseline'] = diff
    return summary


def fmt(stat: dict) -> str:
    if stat['mean'] is None:
        return 'n/a'
    text = f"{100 * stat['mean']:.1f}"
    return text + (f" ± {100 * stat['std']:.1f}"
                   if stat['std'] is not None else '')


def markdown(summary: dict, models: list) -> str:
    lines = ['| model | runs | Easy AP (%) | Medium AP (%) | Hard AP (%) | '
             'iterations |', '|---|---:|---:|---:|---:|---:|']
    for m in models:
        s = summary[m]
        iters = s['iters']['mean']
        lines.append(
            f"| {m} | {s['runs']} | {fmt(s['easy'])} | {fmt(s['medium'])} | "
            f"{fmt(s['hard'])} | {'n/a' if iters is None else round(iters)} "
            '|')
    diff = summary.get('hambox_minus_baseline')
    if diff:
        cells = []
        for key in AP_KEYS:
            d = diff[key]
            cell = f"{100 * d['diff']:+.1f}"
            if d['spread'] is not None:
                cell += (' (outside' if d['outside_spread'] else
                         ' (inside') + \
                    f" the seed spread ±{100 * d['spread']:.1f})"
            cells.append(cell)
        lines.append(f"| HAMBox - baseline | | {' | '.join(cells)} | |")
    return '\n'.join(lines)


def read_runs(work_dir: str) -> dict:
    """Every finished run under ``work_dir``: {model: {seed: result}}."""
    runs = {}
    for name in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, name, 'result.json')
        model, sep, seed = name.rpartition('_seed')
        if not sep or not seed.isdigit() or not osp.isfile(path):
            continue
        with open(path) as f:
            runs.setdefault(model, {})[int(seed)] = json.load(f)
    return runs


def paired(runs: dict, reference: str) -> dict:
    """Per model: APs per seed, mean and sample std, and the per-seed
    differences (model - reference) on the seeds both have, with their mean
    and sample std. The same seed gives both models the same initial
    weights and data order, so the pairs cancel much of the seed noise."""
    out = {}
    ref = runs.get(reference, {})
    for model, by_seed in runs.items():
        seeds = sorted(by_seed)
        entry = dict(seeds=seeds,
                     iters=[by_seed[s]['iters'] for s in seeds])
        for key in AP_KEYS:
            values = [100 * by_seed[s][key] for s in seeds]
            entry[key] = dict(
                values=values, mean=statistics.mean(values),
                std=statistics.stdev(values) if len(values) > 1 else None)
            common = [s for s in seeds if s in ref]
            if model != reference and common:
                diffs = [100 * (by_seed[s][key] - ref[s][key])
                         for s in common]
                entry[key]['diff_vs_reference'] = dict(
                    seeds=common, values=diffs,
                    mean=statistics.mean(diffs),
                    std=statistics.stdev(diffs) if len(diffs) > 1 else None)
        out[model] = entry
    return out


def paired_markdown(table: dict, reference: str) -> str:
    lines = [f'| model | seeds | Easy | Medium | Hard | Easy - {reference} | '
             f'Medium - {reference} | Hard - {reference} |',
             '|---|---|---:|---:|---:|---:|---:|---:|']

    def stat(d, sign=''):
        text = f"{d['mean']:{sign}.1f}"
        return text + (f" ± {d['std']:.1f}" if d['std'] is not None else '')

    for model, e in table.items():
        cells = [stat(e[k]) for k in AP_KEYS]
        for k in AP_KEYS:
            d = e[k].get('diff_vs_reference')
            cells.append('' if d is None else stat(d, '+') + ' (' + ', '.join(
                f'{v:+.1f}' for v in d['values']) + ')')
        seeds = ','.join(map(str, e['seeds']))
        lines.append(f"| {model} | {seeds} | {' | '.join(cells)} |")
    return '\n'.join(lines)


def collect_main(args) -> None:
    runs = read_runs(args.collect)
    if not runs:
        sys.exit(f'error: no finished run (<model>_seed<seed>/result.json) '
                 f'under {args.collect}')
    table = paired(runs, args.reference)
    text = paired_markdown(table, args.reference)
    print(text)
    print('\n(AP in %, official WIDER FACE metric over the present val '
          'images only; mean ± sample std over seeds; the differences are '
          'per seed, same seed = same initial weights and data order)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(work_dir=osp.abspath(args.collect),
                           reference=args.reference, models=table,
                           markdown=text), f, indent=1)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        run_child(args.child)
        return
    if args.collect:
        collect_main(args)
        return
    data_root = osp.abspath(args.data_root)
    counts = check_data_root(data_root)
    n_val = counts['val']['present']
    if args.max_val_images:
        n_val = min(n_val, args.max_val_images)
    budget = ' and '.join(
        b for b in (f'{args.iters} iterations' if args.iters else '',
                    f'{args.minutes:g} minutes' if args.minutes else '')
        if b) + ' (whichever first)' * bool(args.iters and args.minutes)
    print(f"WIDER FACE at {data_root}: {counts['train']['present']} of "
          f"{counts['train']['annotated']} train images present, "
          f"{counts['val']['present']} of {counts['val']['annotated']} val")
    print(f'-> evaluating on {n_val} present val images only '
          '(WIDERFaceMetric only_present_images=True): NOT comparable with '
          'full-val numbers')
    print(f"-> models {', '.join(args.models)}; seeds "
          f"{', '.join(map(str, args.seeds))}; budget per run: {budget}",
          flush=True)
    start = time.time()
    results = run_all(args)
    summary = summarise(results)
    table = markdown(summary, args.models)
    print('\n' + table)
    print(f'\n(official WIDER FACE metric over {n_val} present val images '
          'only, only_present_images=True; mean ± sample std over seeds; '
          f'{(time.time() - start) / 60:.1f} min in all)')
    out = dict(
        data_root=data_root,
        train_images=dict(counts['train'],
                          used=args.max_train_images or
                          counts['train']['present']),
        val_images=dict(counts['val'], evaluated=n_val),
        only_present_images=True,
        note='official WIDER FACE metric over the present val images only '
        '(only_present_images=True): not comparable with full-val numbers',
        budget=dict(iters=args.iters, minutes=args.minutes,
                    batch_size=args.batch_size, workers=args.workers,
                    lr=args.lr, device=args.device, smoke=args.smoke,
                    threads=args.threads,
                    parallel=args.parallel),
        configs={
            m: osp.relpath(CONFIGS[VARIANTS.get(m, (m, ))[0]], ROOT)
            for m in args.models
        },
        overrides={m: VARIANTS[m][1]
                   for m in args.models if m in VARIANTS},
        models=results,
        summary=summary,
        markdown=table)
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)
        print(f'results written to {args.json}')
    failed = sum(s['failed'] for m, s in summary.items() if m in results)
    if failed:
        sys.exit(f'error: {failed} run(s) failed (see above)')


if __name__ == '__main__':
    main()
