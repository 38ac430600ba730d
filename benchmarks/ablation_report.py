# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The tables of BENCHMARKS.md from the runs of benchmarks/run_cpu_grid.sh.

Reads every finished run (``<work-dir>/<model>_seed<seed>/result.json``),
saves them all in one JSON (``--out``, committed as the raw results) and
prints the markdown tables: the root-cause grid of the regression-aware
loss, HAMBox against its baseline seed by seed, the assigner comparison
with per-seed differences against HAMBox, outer-face recall per
matched-anchor bin, and the mining statistics::

    python benchmarks/ablation_report.py work_dirs/grid \\
        --out benchmarks/results/cpu_grid_2026-12-06.json
"""
import argparse
import json
import os.path as osp
import statistics
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from ablation_real_wider import AP_KEYS, read_runs  # noqa: E402

from hambox_mmdet.safe_io import check_new_output, write_json  # noqa: E402

WHAT = {
    'baseline': 'RetinaHead + MaxIoUAssigner 0.35 + FocalLoss',
    'hambox': 'HAMBox, shipped default (joint divisor)',
    'hambox_separate': 'HAMBox, the paper read literally: cls and box '
    'compensated terms / N_com',
    'hambox_separate_cls': 'separate divisor in the cls term only',
    'hambox_separate_bbox': 'separate divisor in the box term only',
    'hambox_no_iou_weight': 'shipped default without F_i (weight 1)',
    'hambox_noignore': 'shipped default without the ignore rule',
    'hambox_separate_no_iou_weight': 'literal form without F_i',
    'hambox_separate_noignore': 'literal form without the ignore rule',
    'hambox_focal': 'mining + plain FocalLoss',
    'maxiou_lq': 'MaxIoUAssigner 0.35 + low-quality matching',
    'atss': 'ATSSAssigner (topk 9) via LevelATSSAssigner',
}
ORDER = list(WHAT)


def fmt(values, sign=''):
    """Mean, ± sample std where there are two values or more."""
    if not values:
        return ''
    text = f'{statistics.mean(values):{sign}.1f}'
    if len(values) > 1:
        text += f' ± {statistics.stdev(values):.1f}'
    return text


def fmt_diff(values):
    """Signed mean ± std of differences, then each difference."""
    if not values:
        return ''
    return fmt(values, '+') + ' (' + ', '.join(f'{v:+.1f}'
                                             for v in values) + ')'


def ap(run, key):
    return 100 * run[key]


def table(runs, models, reference, title):
    lines = [f'| model | {title} | seeds | Easy | Medium | Hard | '
             f'Easy - {reference} | Medium - {reference} | '
             f'Hard - {reference} |', '|---|---|---|' + '---:|' * 6]
    ref = runs.get(reference, {})
    for m in models:
        if m not in runs:
            continue
        seeds = sorted(runs[m])
        cells = [fmt([ap(runs[m][s], k) for s in seeds]) for k in AP_KEYS]
        for k in AP_KEYS:
            common = [s for s in seeds if s in ref]
            cells.append('' if m == reference else fmt_diff(
                [ap(runs[m][s], k) - ap(ref[s], k) for s in common]))
        lines.append(f"| {m} | {WHAT.get(m, '')} | "
                     f"{','.join(map(str, seeds))} | " + ' | '.join(cells) +
                     ' |')
    return '\n'.join(lines)


def per_seed(runs, a, b):
    lines = [f'| seed | {a} Easy / Medium / Hard | {b} Easy / Medium / Hard '
             f'| {a} - {b} |', '|---|---|---|---|']
    for s in sorted(set(runs.get(a, {})) & set(runs.get(b, {}))):
        ra, rb = runs[a][s], runs[b][s]
        lines.append(
            f'| {s} | ' + ' / '.join(f'{ap(ra, k):.1f}' for k in AP_KEYS) +
            ' | ' + ' / '.join(f'{ap(rb, k):.1f}' for k in AP_KEYS) + ' | ' +
            ' / '.join(f'{ap(ra, k) - ap(rb, k):+.1f}' for k in AP_KEYS) +
            ' |')
    return '\n'.join(lines)


def level(runs, a, b):
    """Mean paired difference against minus one std of the differences."""
    out = []
    common = sorted(set(runs.get(a, {})) & set(runs.get(b, {})))
    if len(common) < 2:
        return 'fewer than 2 paired seeds'
    for k in AP_KEYS:
        d = [ap(runs[a][s], k) - ap(runs[b][s], k) for s in common]
        mean, std = statistics.mean(d), statistics.stdev(d)
        out.append(f'{k}: mean {mean:+.1f}, std {std:.1f}: '
                   + ('level or better' if mean >= -std else 'behind'))
    return '; '.join(out)


def significance(runs, models, reference='hambox'):
    """Paired two-sided t-test of each model against ``reference`` over the
    common seeds: the p-value that the mean paired difference is zero, and
    how many seeds have the sign of the mean. With 3 seeds (2 degrees of
    freedom) only a paired difference about 4.3 times its standard error
    reaches p < 0.05."""
    from scipy import stats
    lines = [f'| model - {reference} | seeds | ' + ' | '.join(
        f'{k.capitalize()}: mean, t, p, same sign' for k in AP_KEYS) + ' |',
             '|---|---|' + '---|' * len(AP_KEYS)]
    ref = runs.get(reference, {})
    for m in models:
        common = sorted(set(runs.get(m, {})) & set(ref))
        if m == reference or len(common) < 2:
            continue
        cells = []
        for k in AP_KEYS:
            d = [ap(runs[m][s], k) - ap(ref[s], k) for s in common]
            mean = statistics.mean(d)
            if statistics.stdev(d) == 0:
                cells.append(f'{mean:+.1f}, no spread')
                continue
            t, p = stats.ttest_1samp(d, 0.0)
            same = sum((x > 0) == (mean > 0) and x != 0 for x in d)
            cells.append(f'{mean:+.1f}, t = {t:+.2f}, p = {p:.2f}, '
                         f'{same}/{len(d)}')
        lines.append(f"| {m} | {','.join(map(str, common))} | " +
                     ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def outer(runs, models, point='score>=0.5'):
    bins = ('D0', 'D1', 'D2', 'D3', 'D4', 'D>=5')
    lines = ['| model | seeds | ' + ' | '.join(
        b.replace('D', 'D = ').replace('= >=', '>=') for b in bins) +
        ' | all |', '|---|---|' + '---:|' * (len(bins) + 1)]
    faces = None
    for m in models:
        if m not in runs:
            continue
        seeds = sorted(runs[m])
        cells = []
        for b in bins + ('all', ):
            vals = [100 * runs[m][s]['outer_face_recall'][f'{point}/{b}']
                    for s in seeds
                    if f'{point}/{b}' in runs[m][s].get('outer_face_recall',
                                                         {})]
            cells.append(fmt(vals) if vals else '-')
        if faces is None:
            r = runs[m][seeds[0]]['outer_face_recall']
            faces = [int(r.get(f'{point}/{b}_faces', 0)) for b in bins]
        lines.append(f"| {m} | {','.join(map(str, seeds))} | " +
                     ' | '.join(cells) + ' |')
    if faces is not None:
        lines.append('| (faces in the bin) | | ' +
                     ' | '.join(map(str, faces)) + f' | {sum(faces)} |')
    return '\n'.join(lines)


def outer_paired(runs, models, reference='hambox', point='score>=0.5'):
    """Per-seed differences of outer-face recall (model - reference), in
    percentage points, per D bin."""
    bins = ('D0', 'D2', 'D3', 'D4', 'D>=5', 'all')
    lines = [f'| model - {reference} | seeds | ' + ' | '.join(
        b.replace('D', 'D = ').replace('= >=', '>=') for b in bins) + ' |',
        '|---|---|' + '---:|' * len(bins)]
    ref = runs.get(reference, {})
    for m in models:
        if m == reference or m not in runs:
            continue
        common = sorted(set(runs[m]) & set(ref))
        cells = []
        for b in bins:
            key = f'{point}/{b}'
            d = [100 * (runs[m][s]['outer_face_recall'][key] -
                        ref[s]['outer_face_recall'][key]) for s in common
                 if key in runs[m][s].get('outer_face_recall', {})
                 and key in ref[s].get('outer_face_recall', {})]
            cells.append(fmt_diff(d) if d else '-')
        lines.append(f"| {m} | {','.join(map(str, common))} | " +
                     ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def mining(runs, models):
    keys = ('compensated_per_img', 'faces_below_k_stage1',
            'faces_below_k_final', 'compensated_reg_iou',
            'ignored_negatives_per_img')
    lines = ['| model | stage-1 positives / img | compensated / img | '
             'faces D < K before | after | compensated regressed IoU | '
             'ignored negatives / img |', '|---|' + '---:|' * 6]
    for m in models:
        if m not in runs:
            continue
        rs = [runs[m][s] for s in sorted(runs[m])]
        if not all(r.get('mining') for r in rs):
            continue
        pos = statistics.mean(r['positives_per_img']['num_pos_norm']
                              for r in rs)
        vals = [statistics.mean(r['mining'][k] for r in rs) for k in keys]
        lines.append(f'| {m} | {pos:.1f} | {vals[0]:.2f} | '
                     f'{100 * vals[1]:.0f} % | {100 * vals[2]:.0f} % | '
                     f'{vals[3]:.2f} | {vals[4]:.1f} |')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='save every run here (JSON)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing --out')
    args = parser.parse_args(argv)
    if args.out:
        try:
            check_new_output(args.out, args.overwrite)
        except (OSError, ValueError) as e:
            sys.exit(f'error: {e}')
    runs = read_runs(args.work_dir)
    if not runs:
        sys.exit(f'error: no finished run under {args.work_dir}')
    models = [m for m in ORDER if m in runs] + sorted(set(runs) - set(ORDER))
    root = [m for m in models if m.startswith('hambox') or m == 'baseline']
    print('## Root cause (seed 0 unless stated)\n')
    print(table(runs, root, 'baseline', 'what'))
    print('\n## HAMBox (shipped default) vs baseline, seed by seed\n')
    print(per_seed(runs, 'hambox', 'baseline'))
    print('\nlevel criterion: ' + level(runs, 'hambox', 'baseline'))
    print('\n## Assigners\n')
    cmp_models = [m for m in ('hambox', 'baseline', 'maxiou_lq', 'atss',
                              'hambox_focal') if m in runs]
    print(table(runs, cmp_models, 'hambox', 'what'))
    print('\n## Paired t-test against HAMBox (two-sided)\n')
    print(significance(runs, cmp_models))
    print('\n## Outer-face recall at score >= 0.5 (Hard faces, %)\n')
    print(outer(runs, cmp_models))
    print('\n## Outer-face recall at score >= 0.5, paired by seed\n')
    print(outer_paired(runs, cmp_models))
    print('\n## Outer-face recall at the Hard best-F1 threshold (%)\n')
    print(outer(runs, cmp_models, 'hard_best_f1'))
    print('\n## Outer-face recall at the Hard best-F1 threshold, paired\n')
    print(outer_paired(runs, cmp_models, point='hard_best_f1'))
    print('\n## Mining statistics (means over training and seeds)\n')
    print(mining(runs, models))
    if args.out:
        keep = {m: {str(s): {k: v for k, v in r.items() if k != 'checkpoint'}
                    for s, r in by.items()} for m, by in runs.items()}
        write_json(args.out, dict(work_dir=args.work_dir, runs=keep),
                   indent=1)


if __name__ == '__main__':
    main()
