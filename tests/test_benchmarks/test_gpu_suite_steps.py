# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The steps of benchmarks/gpu_suite.py one by one, without a GPU: the
section runner (a failing section is reported and the rest kept), the
training-step targets and the report's tables and files."""
import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / 'benchmarks'


def load(name):
    spec = importlib.util.spec_from_file_location(name,
                                                  BENCHMARKS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failing_section_is_reported_and_the_rest_kept(tmp_path,
                                                         monkeypatch):
    suite = load('gpu_suite')
    calls = []

    def check_env(device):
        raise RuntimeError('boom')

    def time_assigners(device, faces, repeats):
        calls.append((device, faces, repeats))
        return dict(repeats=repeats, rows=[
            dict(faces=10, anchors=87360, maxiou_ms=1., maxiou_lq_ms=2.,
                 hambox_ms=3., hambox_over_maxiou=3., compensated=1)])

    for name, fn in (('gpu_suite_env', check_env),
                     ('gpu_suite_assigner', time_assigners)):
        module = types.ModuleType(name)
        setattr(module, fn.__name__, fn)
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(suite, 'register_components', lambda: None)
    out_json, out_md = tmp_path / 'o' / 'r.json', tmp_path / 'o' / 'r.md'
    with pytest.raises(SystemExit, match=r'section\(s\) env failed'):
        suite.main(['--device', 'cpu', '--quick', '--sections',
                    'env,assigner', '--json', str(out_json), '--markdown',
                    str(out_md)])
    assert calls == [('cpu', [10, 50], 1)]  # --quick sizes, one repeat
    report = json.loads(out_json.read_text())
    assert report['errors']['env'].strip().endswith('RuntimeError: boom')
    assert 'env' not in report and report['assigner']['repeats'] == 1
    assert set(report['seconds']) == {'env', 'assigner'}
    text = out_md.read_text()
    assert '**env FAILED**: `RuntimeError: boom`' in text
    assert '| 10 | 1.0 | 2.0 | 3.0 | 3.00x | 1 |' in text


def test_train_step_targets():
    targets = load('gpu_suite_train_step').targets
    rows = [dict(faces=10, hambox_ms=100., hambox_over_baseline=1.),
            dict(faces=100, hambox_ms=110., hambox_over_baseline=1.15),
            dict(faces=1000, hambox_ms=115., hambox_over_baseline=1.05)]
    assert targets(rows) == dict(
        hambox_over_baseline_at_100=dict(value=1.15, target=1.1, met=False),
        hambox_1000_over_10=dict(value=1.15, target=1.2, met=True))
    assert targets(rows[:1]) == {}  # --quick's face counts: nothing to check


def test_report_tables_and_files(tmp_path):
    report_module = load('gpu_suite_report')
    report = dict(
        device='cpu', quick=True,
        env=dict(python='3.12.3', torch='2.5.1', cuda=None, mmcv='2.1.0',
                 mmdet='3.3.0', mmengine='0.10.7', device='cpu',
                 mmcv_ops_nms=dict(device='cpu', ok=False)),
        inference=dict(single='1 x 128x96', batch='2 x 128x128', repeats=1,
                       rows=[dict(model='HAMBox tiny R18',
                                  single_images_per_s=40.04,
                                  batch_images_per_s=120.56)]),
        errors=dict(train_step='Traceback ...\nValueError: bad\n'))
    text = report_module.markdown(report)
    assert text.startswith('# GPU suite (run on cpu)\n')
    assert 'cpu, Python 3.12.3, torch 2.5.1 (CUDA None)' in text
    assert 'mmcv.ops.nms on cpu: FAILED' in text
    assert '--quick: tiny sizes' in text
    assert '| model | images/s, 1 x 128x96 | images/s, 2 x 128x128 |' in text
    assert '| HAMBox tiny R18 | 40.0 | 120.6 |' in text
    assert '**train_step FAILED**: `ValueError: bad`' in text
    # no ablation file: said; one: merged
    report_module.add_ablation(report, str(tmp_path / 'absent.json'))
    assert 'no ablation results at' in report_module.markdown(report)
    out_json = tmp_path / 'deep' / 'er' / 'r.json'
    report_module.save(report, str(out_json))  # makes the folders
    assert json.loads(out_json.read_text()) == report
    assert not (tmp_path / 'deep' / 'er' / 'r.md').exists()


def test_budget_says_minutes_only_when_capped():
    report = load('gpu_suite_report')
    assert report.budget_text(dict(iters=300, minutes=None)) == \
        '300 iterations (iteration-matched)'
    assert report.budget_text(dict(iters=300, minutes=4.0)) == \
        '300 iterations / 4.0 minutes (whichever first)'
