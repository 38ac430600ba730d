# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Tests of tools/eval_widerface.py (run as a script and in-process)."""
import importlib.util
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.logging import MMLogger

from hambox_mmdet.evaluation.wider import (SETTINGS,
                                           evaluate as evaluate_wider,
                                           load_ground_truth as load_wider_gt,
                                           write_predictions as write_pred_dir)

from helpers.wider_data import synthetic_preds, write_fake_mats  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'eval_widerface.py'
WIDER = Path(
    os.environ.get('HAMBOX_SHARED_WIDERFACE',
                   REPO.parent / 'shared' / 'data' / 'widerface'))
GT_DIR = WIDER / 'eval_tools' / 'ground_truth'
needs_wider = pytest.mark.skipif(
    not (GT_DIR / 'wider_face_val.mat').is_file(),
    reason=f'WIDER FACE ground truth not found at {GT_DIR} (CI has it)')


def load_tool():
    spec = importlib.util.spec_from_file_location('eval_widerface', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(*args, cwd):
    """The tool as a plain script, from a foreign working directory."""
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)],
                          cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope='module')
def fake_gt(tmp_path_factory):
    folder = tmp_path_factory.mktemp('gt')
    write_fake_mats(folder)
    return folder


FAKE_PREDS = {
    '0--Parade/0_a': np.array([[1, 2, 3, 4, 0.9], [5, 6, 7, 8, 0.8],
                               [50, 50, 5, 5, 0.3]]),
    '0--Parade/0_b': np.zeros((0, 5)),
}


@needs_wider
def test_script_json_equals_metric(tmp_path):
    """Subprocess run on a written folder: same APs as the metric; boxes of
    negative width or height scored with a warning (mmengine logger)."""
    from hambox_mmdet.evaluation import WIDERFaceMetric
    from helpers.wider_data import run_metric, to_samples
    gt = load_wider_gt(str(GT_DIR))
    rng = np.random.default_rng(5)
    keys = [gt.image_keys[i] for i in rng.choice(len(gt), 30, replace=False)]
    preds = synthetic_preds(gt, keys, rng, negative=0.02)
    num_negative = sum(int((p[:, 2:4] < 0).any(axis=1).sum())
                       for p in preds.values())
    assert num_negative > 0
    pred_dir = tmp_path / 'preds'
    metric = WIDERFaceMetric(gt_dir=str(GT_DIR), outfile_prefix=str(pred_dir))
    metric_aps = run_metric(metric, to_samples(preds))

    out_json, out_png = tmp_path / 'aps.json', tmp_path / 'pr.png'
    proc = run_tool(pred_dir, '--gt-dir', GT_DIR, '--json', out_json,
                    '--plot', out_png, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    aps = json.loads(out_json.read_text())
    assert aps == {s: metric_aps[f'widerface/{s}'] for s in SETTINGS}
    assert all(0 <= v <= 1 for v in aps.values())
    assert f'{len(gt) - 30} missing' in proc.stdout
    assert 'count as missed' in proc.stdout
    assert f"Hard   Val AP: {aps['hard']:.4f}" in proc.stdout
    assert f'{num_negative} predicted box(es) of negative width or ' \
        'height' in proc.stdout + proc.stderr
    assert f'NOTE: {num_negative} box(es) of negative width' in proc.stdout
    assert out_png.read_bytes()[:4] == b'\x89PNG'


def test_script_bad_file_fails_with_one_line(tmp_path, fake_gt):
    pred_dir = tmp_path / 'preds'
    write_pred_dir(str(pred_dir), FAKE_PREDS)
    bad = pred_dir / '0--Parade' / '0_a.txt'
    lines = bad.read_text().splitlines()
    lines[3] = '5 6 7'
    bad.write_text('\n'.join(lines) + '\n')
    proc = run_tool(pred_dir, '--gt-dir', fake_gt, cwd=tmp_path)
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert err.startswith('error: ') and '\n' not in err, err
    assert '0_a.txt: line 4: expected 5 fields' in err
    assert 'Traceback' not in proc.stderr


def test_in_process_counts_missing_and_only_present(tmp_path, fake_gt,
                                                    capsys):
    tool = load_tool()
    pred_dir = tmp_path / 'preds'
    write_pred_dir(str(pred_dir), FAKE_PREDS)
    gt = load_wider_gt(str(fake_gt))
    out_json = tmp_path / 'aps.json'
    tool.main([str(pred_dir), '--gt-dir', str(fake_gt), '--json',
               str(out_json)])
    out = capsys.readouterr().out
    assert '2 read, 1 missing (of 3 val images)' in out
    assert json.loads(out_json.read_text()) == evaluate_wider(FAKE_PREDS,
                                                              gt).aps
    # replacing the earlier JSON needs --overwrite (issue #21)
    tool.main([str(pred_dir), '--gt-dir', str(fake_gt), '--json',
               str(out_json), '--only-present-images', '--overwrite'])
    out = capsys.readouterr().out
    assert 'cover only the 2 images' in out
    assert json.loads(out_json.read_text()) == evaluate_wider(
        FAKE_PREDS, gt, only_present_images=True).aps
    # the Python ports' float64 overlaps on request
    tool.main([str(pred_dir), '--gt-dir', str(fake_gt), '--iou-arith',
               'float'])
    assert 'Easy   Val AP' in capsys.readouterr().out


@pytest.mark.parametrize('line,what', [
    ('1 2 3 4 nan', 'NaN or inf'),
    ('1 2 inf 4 0.5', 'NaN or inf'),
    ('1 2 3 4 x', 'non-numeric'),
    ('1 2 3 4', 'expected 5 fields'),
])
def test_in_process_bad_values_name_file_and_line(tmp_path, fake_gt, line,
                                                  what):
    tool = load_tool()
    pred_dir = tmp_path / 'preds'
    write_pred_dir(str(pred_dir), FAKE_PREDS)
    bad = pred_dir / '0--Parade' / '0_a.txt'
    lines = bad.read_text().splitlines()
    lines[4] = line
    bad.write_text('\n'.join(lines) + '\n')
    with pytest.raises(SystemExit) as e:
        tool.main([str(pred_dir), '--gt-dir', str(fake_gt)])
    msg = str(e.value.code)
    assert msg.startswith('error: ') and str(bad) in msg
    assert 'line 5' in msg and what in msg, msg


class LogCapture(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append((record.levelno, record.getMessage()))


def test_negative_sizes_scored_with_a_warning(tmp_path, fake_gt, capsys):
    """Boxes of negative width or height are read and scored as the
    official tool does (false positives here), with a count."""
    tool = load_tool()
    preds = {k: v.copy() for k, v in FAKE_PREDS.items()}
    preds['0--Parade/0_a'] = np.vstack([
        preds['0--Parade/0_a'], [[12, 6, -7, 8, 0.95], [5, 14, 7, -8, 0.4],
                                 [1, 2, -0.5, -0.5, 0.2]]])
    pred_dir = tmp_path / 'preds'
    write_pred_dir(str(pred_dir), preds)
    out_json = tmp_path / 'aps.json'
    logger = MMLogger.get_instance('test_eval_widerface_tool:negative')
    handler = LogCapture()
    logger.addHandler(handler)
    try:
        tool.main([str(pred_dir), '--gt-dir', str(fake_gt), '--json',
                   str(out_json)])
    finally:
        logger.removeHandler(handler)
    out = capsys.readouterr().out
    assert 'NOTE: 3 box(es) of negative width or height in 1 file(s)' in out
    warned = [m for lvl, m in handler.messages if lvl == logging.WARNING]
    assert len(warned) == 1
    assert '3 predicted box(es) of negative width or height' in warned[0]
    gt = load_wider_gt(str(fake_gt))
    far = {k: v.copy() for k, v in preds.items()}
    far['0--Parade/0_a'][3:, :4] = [500, 500, 5, 5]
    aps = json.loads(out_json.read_text())
    assert aps == evaluate_wider(preds, gt).aps == evaluate_wider(far, gt).aps


def test_in_process_missing_inputs(tmp_path, fake_gt):
    tool = load_tool()
    with pytest.raises(SystemExit) as e:
        tool.main([str(tmp_path / 'nope'), '--gt-dir', str(fake_gt)])
    assert 'prediction folder not found' in str(e.value.code)
    (tmp_path / 'preds').mkdir()
    with pytest.raises(SystemExit) as e:
        tool.main([str(tmp_path / 'preds'), '--gt-dir', str(tmp_path)])
    assert 'wider_face_val.mat' in str(e.value.code)
