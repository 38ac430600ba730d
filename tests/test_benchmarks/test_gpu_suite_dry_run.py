# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""benchmarks/gpu_suite.sh --dry-run (no GPU needed): it prints the steps
and checks its inputs; and gpu_suite.py's report on hand-made results."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / 'benchmarks' / 'gpu_suite.sh'
SHARED_WHEELS = REPO.parent / 'shared' / 'device'
TAG = 'cp%d%d' % sys.version_info[:2]


def dry_run(*args):
    return subprocess.run(
        ['bash', str(SUITE), '--dry-run', '--python', sys.executable, *args],
        cwd=REPO, capture_output=True, text=True, timeout=60)


def fake_wheels(folder: Path, tag: str, extra=()) -> Path:
    folder.mkdir()
    for name in (f'mmcv-2.1.0-{tag}-{tag}-linux_x86_64.whl',
                 'mmdet-3.3.0-py3-none-any.whl',
                 'mmengine-0.10.7-py3-none-any.whl',
                 'pycocotools-2.0.11-cp38-abi3-manylinux2014_x86_64.whl',
                 'terminaltables-3.1.10-py2.py3-none-any.whl') + tuple(extra):
        (folder / name).write_bytes(b'')
    (folder / 'mmcv-2.1.0.tar.gz').write_bytes(b'')  # not a wheel: ignored
    return folder


def test_dry_run_prints_the_steps(tmp_path):
    wheels = fake_wheels(tmp_path / 'w', TAG)
    proc = dry_run('--wheels-dir', str(wheels), '--data-root',
                   str(tmp_path / 'absent'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert 'dry run: inputs OK' in out
    assert f'mmcv-2.1.0-{TAG}-{TAG}-linux_x86_64.whl' in out
    assert '--no-index --no-deps' in out
    assert 'benchmarks/gpu_suite.py --device cuda' in out
    assert 'ablation skipped: no data at' in out  # said, not an error
    assert 'gpu_suite.md' in out


def test_dry_run_with_real_data_plans_the_ablation(tmp_path, wider_root):
    wheels = fake_wheels(tmp_path / 'w', TAG)
    proc = dry_run('--wheels-dir', str(wheels), '--data-root',
                   str(wider_root), '--ablation-seeds', '0,1,2')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'benchmarks/ablation_real_wider.py' in proc.stdout
    assert '1239 train, 243 val images present' in proc.stdout
    assert '--seeds 0,1,2' in proc.stdout
    # the assigner comparison of the CPU grid, matched on iterations
    assert ('--models hambox,baseline,maxiou_lq,atss,hambox_focal'
            in proc.stdout)
    assert '--iters 300' in proc.stdout and '--minutes' not in proc.stdout
    proc = dry_run('--wheels-dir', str(wheels), '--data-root',
                   str(wider_root), '--ablation-minutes', '4')
    assert '--iters 300 --minutes 4' in proc.stdout


def test_wrong_python_tag_is_said(tmp_path):
    other = 'cp310' if TAG == 'cp39' else 'cp39'
    wheels = fake_wheels(tmp_path / 'w', other)
    proc = dry_run('--wheels-dir', str(wheels), '--no-ablation')
    assert proc.returncode == 1
    assert f'python tag {other} does not fit {TAG}' in proc.stderr
    assert 'build one for this machine' in proc.stderr
    # checked against the GPU machine's Python instead of this one's
    proc = dry_run('--wheels-dir', str(wheels), '--no-ablation',
                   '--python-tag', other)
    assert proc.returncode == 0, proc.stderr
    # abi3 wheels fit later Pythons only
    proc = dry_run('--wheels-dir', str(wheels), '--no-ablation',
                   '--python-tag', 'cp37')
    assert proc.returncode == 1
    assert 'python tag cp38 (abi3) does not fit cp37' in proc.stderr


def test_missing_and_duplicate_wheels_are_said(tmp_path):
    proc = dry_run('--no-ablation')  # no .device_wheels in a clean clone?
    if not (REPO / '.device_wheels').is_dir():
        assert proc.returncode == 1
        assert 'no mmcv wheel' in proc.stderr
    proc = dry_run('--no-ablation', '--mmcv-wheel', str(tmp_path / 'x.whl'))
    assert proc.returncode == 1 and 'no such file' in proc.stderr
    wheels = fake_wheels(tmp_path / 'w', TAG,
                         extra=('mmdet-3.2.0-py3-none-any.whl', ))
    proc = dry_run('--wheels-dir', str(wheels), '--no-ablation')
    assert proc.returncode == 1
    assert 'two wheels of the same package' in proc.stderr
    assert 'mmdet' in proc.stderr
    # two mmcv wheels in the folder: which one is not guessed
    second = f'mmcv-2.1.0-{TAG}-{TAG}-manylinux_x86_64.whl'
    wheels = fake_wheels(tmp_path / 'w2', TAG, extra=(second, ))
    proc = dry_run('--wheels-dir', str(wheels), '--no-ablation')
    assert proc.returncode == 1
    assert 'two mmcv wheels in' in proc.stderr
    # unless --mmcv-wheel names it
    proc = dry_run('--wheels-dir', str(wheels), '--no-ablation',
                   '--mmcv-wheel',
                   str(wheels / f'mmcv-2.1.0-{TAG}-{TAG}-linux_x86_64.whl'))
    assert proc.returncode == 0, proc.stderr


def test_unknown_option_fails():
    proc = dry_run('--bogus')
    assert proc.returncode == 1 and 'unknown option --bogus' in proc.stderr


@pytest.mark.skipif(not SHARED_WHEELS.is_dir(),
                    reason='../shared/device (the GPU machine\'s wheels) '
                    'is only present in development and CI')
def test_the_shared_device_wheels_fit_the_gpu_machine():
    # the GPU machine runs Python 3.12 (../shared/docs/environment.md)
    proc = dry_run('--wheels-dir', str(SHARED_WHEELS), '--python-tag',
                   'cp312', '--no-ablation')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'mmcv-2.1.0-cp312-cp312-linux_x86_64.whl' in proc.stdout


def load_suite():
    path = REPO / 'benchmarks' / 'gpu_suite.py'
    spec = importlib.util.spec_from_file_location('gpu_suite', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_tables_from_hand_made_results():
    suite = load_suite()
    report = dict(
        device='cuda',
        quick=False,
        assigner=dict(repeats=5, rows=[
            dict(faces=1000, anchors=87360, maxiou_ms=4.6, maxiou_lq_ms=300.,
                 hambox_ms=9.2, hambox_over_maxiou=2., compensated=812)]),
        train_step=dict(
            batch=8, size=640, repeats=5,
            rows=[dict(faces=100, hambox_ms=130., baseline_ms=128.,
                       baseline_lq_ms=140., hambox_over_baseline=130 / 128)],
            targets=dict(hambox_over_baseline_at_100=dict(
                value=130 / 128, target=1.1, met=True))),
        ablation_error='no ablation results at x (skipped or failed)')
    text = suite.markdown(report)
    assert '| 1,000 | 4.6 | 300.0 | 9.2 | 2.00x | 812 |' in text
    assert '| 100 | 130 | 128 | 140 | 1.02x |' in text
    assert 'hambox_over_baseline_at_100: 1.02x (target <= 1.1x): met' in text
    assert 'no ablation results' in text


def test_python_step_on_cpu_quick(tmp_path):
    """gpu_suite.py's logic on a CPU: the environment check (mmcv.ops.nms
    on the device), the assigner section, JSON and Markdown, then merging
    an ablation result into them."""
    out_json, out_md = tmp_path / 'gpu_suite.json', tmp_path / 'gpu_suite.md'
    script = str(REPO / 'benchmarks' / 'gpu_suite.py')
    proc = subprocess.run(
        [sys.executable, script, '--device', 'cpu', '--quick', '--sections',
         'env,assigner', '--json', str(out_json), '--markdown', str(out_md)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    import json
    report = json.loads(out_json.read_text())
    assert report['env']['mmcv_ops_nms'] == dict(device='cpu', ok=True)
    rows = report['assigner']['rows']
    assert [r['faces'] for r in rows] == [10, 50]
    assert all(r['anchors'] == 87360 for r in rows)
    assert all(r['compensated'] >= 0 and r['hambox_ms'] > 0 for r in rows)
    assert '## Assigner' in out_md.read_text()
    # merging: the ablation's table joins the report, the rest stays
    ablation = dict(
        budget=dict(iters=10, minutes=1.0, batch_size=16),
        train_images=dict(used=100), val_images=dict(evaluated=68),
        markdown='| model | runs |\n|---|---:|\n| hambox | 2 |')
    (tmp_path / 'ablation.json').write_text(json.dumps(ablation))
    proc = subprocess.run(
        [sys.executable, script, '--sections', 'none', '--json',
         str(out_json), '--markdown', str(out_md), '--ablation-json',
         str(tmp_path / 'ablation.json')],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out_md.read_text()
    assert '## Assigner' in text and '| hambox | 2 |' in text
    assert '100 train images, 68 val images' in text
    assert json.loads(out_json.read_text())['ablation']['budget']['iters'] \
        == 10
