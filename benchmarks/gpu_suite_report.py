# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The last step of ``benchmarks/gpu_suite.py``: its report.

``markdown`` turns the results of the sections (and of an
``ablation_real_wider.py --json`` run that ``add_ablation`` merges in) into
Markdown tables; ``save`` writes the results as JSON and that Markdown.
No torch here: ``gpu_suite.sh``'s report step only reads JSON.
"""
import json
import os
import os.path as osp

# the models of the training-step table, in its column order
TRAIN_NAMES = {
    'hambox': 'HAMBox',
    'baseline': 'baseline (MaxIoU)',
    'baseline_lq': 'baseline + low-quality (stock)',
}


def add_ablation(report: dict, path: str) -> None:
    """Merges an ``ablation_real_wider.py --json`` output into ``report``,
    or says that there is none at ``path`` (skipped or failed)."""
    if osp.exists(path):
        with open(path) as f:
            report['ablation'] = json.load(f)
    else:
        report['ablation_error'] = (
            f'no ablation results at {path} (skipped or '
            'failed: see its log)')


def save(report: dict, json_path=None, markdown_path=None) -> None:
    """Writes ``report`` as JSON and as Markdown to the paths given."""
    for path, text in ((json_path, json.dumps(report, indent=1)),
                       (markdown_path, markdown(report))):
        if path:
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text)


def budget_text(budget: dict) -> str:
    """The ablation's budget in words: iterations, and minutes only where a
    wall-clock cap was set (the default run is iteration-matched)."""
    if budget.get('minutes') is None:
        return f"{budget['iters']} iterations (iteration-matched)"
    return (f"{budget['iters']} iterations / {budget['minutes']} minutes "
            '(whichever first)')


def markdown(report: dict) -> str:
    """The Markdown tables of every section present in ``report``."""
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
                f'budget per run: {budget_text(b)}, '
                f"batch {b['batch_size']}.", '',
                ab['markdown']]
    elif report.get('ablation_error'):
        out += ['', f"## Ablation\n\n{report['ablation_error']}"]
    return '\n'.join(out) + '\n'
