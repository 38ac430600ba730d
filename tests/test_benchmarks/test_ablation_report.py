# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""benchmarks/ablation_report.py on hand-made runs: the paired differences,
the level criterion and the outer-face tables are computed as stated."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'benchmarks' / 'ablation_report.py'


def load():
    spec = importlib.util.spec_from_file_location('ablation_report', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault('ablation_report', module)
    spec.loader.exec_module(module)
    return module


def write_run(root, model, seed, aps, outer=None, mining=None):
    d = root / f'{model}_seed{seed}'
    d.mkdir()
    run = dict(seed=seed, iters=1000, checkpoint='x.pth',
               outer_face_recall=outer or {}, mining=mining,
               positives_per_img=dict(num_pos_norm=15.0, num_pos_com=1.0),
               **dict(zip(('easy', 'medium', 'hard'), aps)))
    (d / 'result.json').write_text(json.dumps(run))


def test_report_by_hand(tmp_path, capsys):
    hambox = {0: (.50, .40, .30), 1: (.60, .50, .40), 2: (.55, .45, .35)}
    base = {0: (.52, .41, .33), 1: (.50, .44, .30), 2: (.57, .47, .36)}
    for seed in range(3):
        write_run(tmp_path, 'hambox', seed, hambox[seed],
                  {'score>=0.5/D2': 0.5, 'score>=0.5/D2_faces': 2.0},
                  dict(compensated_per_img=1.0, faces_below_k_stage1=0.4,
                       faces_below_k_final=0.1, compensated_reg_iou=0.6,
                       ignored_negatives_per_img=9.0))
        write_run(tmp_path, 'baseline', seed, base[seed],
                  {'score>=0.5/D2': 0.0, 'score>=0.5/D2_faces': 2.0})
    out = tmp_path / 'all.json'
    load().main([str(tmp_path), '--out', str(out)])
    text = capsys.readouterr().out
    # hambox - baseline per seed: Easy -2, +10, -2: mean +2.0, std 6.9
    assert '| 1 | 60.0 / 50.0 / 40.0 | 50.0 / 44.0 / 30.0 | +10.0 / +6.0 / ' \
        '+10.0 |' in text
    assert 'easy: mean +2.0, std 6.9: level or better' in text
    # Medium: -1, +6, -2: mean +1.0; Hard: -3, +10, -1: mean +2.0
    assert 'medium: mean +1.0' in text and 'hard: mean +2.0' in text
    # the assigner table pairs against HAMBox
    assert '-2.0 ± 6.9 (+2.0, -10.0, +2.0)' in text
    # outer-face recall in %, paired by seed
    assert '| hambox | 0,1,2 | - | - | 50.0 ± 0.0 |' in text
    assert '-50.0 ± 0.0 (-50.0, -50.0, -50.0)' in text
    assert '| hambox | 15.0 | 1.00 | 40 % | 10 % | 0.60 | 9.0 |' in text
    saved = json.loads(out.read_text())['runs']
    assert set(saved) == {'hambox', 'baseline'}
    assert 'checkpoint' not in saved['hambox']['0']


def test_behind_is_said(tmp_path, capsys):
    for seed, (h, b) in enumerate([(.40, .50), (.42, .50)]):
        write_run(tmp_path, 'hambox', seed, (h, h, h))
        write_run(tmp_path, 'baseline', seed, (b, b, b))
    load().main([str(tmp_path)])
    assert 'easy: mean -9.0, std 1.4: behind' in capsys.readouterr().out


def test_paired_t_test_by_hand(tmp_path, capsys):
    """Differences -2, +10, -2 (Easy): mean +2, sample std 6.93, t = 0.50;
    with 2 degrees of freedom the two-sided p is exactly 2/3."""
    hambox = {0: (.50, .40, .30), 1: (.40, .50, .40), 2: (.55, .45, .35)}
    other = {0: (.48, .41, .31), 1: (.50, .52, .42), 2: (.53, .47, .37)}
    for seed in range(3):
        write_run(tmp_path, 'hambox', seed, hambox[seed])
        write_run(tmp_path, 'atss', seed, other[seed])
    load().main([str(tmp_path)])
    text = capsys.readouterr().out
    # Easy -2, +10, -2; Medium +1, +2, +2; Hard +1, +2, +2
    assert '| atss | 0,1,2 | +2.0, t = +0.50, p = 0.67, 1/3 |' in text
    # Medium: mean 5/3, std 0.577: t = 5.00, p = 0.038
    assert '+1.7, t = +5.00, p = 0.04, 3/3' in text


def test_existing_out_is_kept(tmp_path):
    write_run(tmp_path, 'hambox', 0, (.5, .4, .3))
    out = tmp_path / 'all.json'
    out.write_text('mine')
    with pytest.raises(SystemExit, match='exists'):
        load().main([str(tmp_path), '--out', str(out)])
    assert out.read_text() == 'mine'
    load().main([str(tmp_path), '--out', str(out), '--overwrite'])
    assert 'hambox' in json.loads(out.read_text())['runs']
