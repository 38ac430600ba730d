# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""tools/setup_env.sh --cuda: its arguments and its plan (--dry-run), which
need no GPU; the CPU path takes no new arguments."""
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / 'tools' / 'setup_env.sh'


def setup(*args, env=None):
    return subprocess.run(['bash', str(SETUP), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60, env=env)


def test_cuda_plan_builds_mmcv_for_the_given_card():
    proc = setup('--cuda', '--dry-run', '--cuda-arch', '9.0')
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST='9.0'" in out
    assert '--no-build-isolation --no-cache-dir' in out
    assert 'torch==2.13.0, the CUDA build' in out
    assert 'mmcv.ops.nms on a CUDA tensor' in out
    assert 'dry run: nothing changed' in out


def test_cuda_plan_with_a_prebuilt_wheel(tmp_path):
    wheel = tmp_path / 'mmcv-2.1.0-cp312-cp312-linux_x86_64.whl'
    wheel.write_bytes(b'')
    proc = setup('--cuda', '--dry-run', '--mmcv-wheel', str(wheel))
    assert proc.returncode == 0, proc.stderr
    assert f'--force-reinstall {wheel} (prebuilt' in proc.stdout
    assert 'FORCE_CUDA' not in proc.stdout


@pytest.mark.parametrize('args, code, message', [
    (['--bogus'], 2, 'unknown option --bogus'),
    (['--dry-run'], 2, 'go with --cuda'),
    (['--mmcv-wheel', 'x.whl'], 2, 'go with --cuda'),
    (['--cuda', '--cuda-arch'], 2, 'usage'),
    (['--cuda', '--dry-run', '--cuda-arch', 'sm90'], 1,
     'expected compute capabilities like 9.0'),
    (['--cuda', '--dry-run', '--mmcv-wheel', '/nonexistent/mmcv.whl'], 1,
     'no such file'),
])
def test_bad_arguments_are_said(args, code, message):
    proc = setup(*args)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_other_mmcv_versions_are_refused(tmp_path):
    wheel = tmp_path / 'mmcv-2.2.0-cp312-cp312-linux_x86_64.whl'
    wheel.write_bytes(b'')
    proc = setup('--cuda', '--dry-run', '--mmcv-wheel', str(wheel))
    assert proc.returncode == 1 and 'mmcv 2.1.0' in proc.stderr


def test_arch_needs_nvidia_smi_or_an_option(tmp_path):
    # a PATH without nvidia-smi (CI machines have none anyway)
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)}
    proc = setup('--cuda', '--dry-run', env=env)
    if proc.returncode == 0:  # a GPU machine with nvidia-smi in /usr/bin
        assert 'TORCH_CUDA_ARCH_LIST=' in proc.stdout
    else:
        assert proc.returncode == 1
        assert 'give --cuda-arch' in proc.stderr
    env['TORCH_CUDA_ARCH_LIST'] = '8.0;9.0'
    proc = setup('--cuda', '--dry-run', env=env)
    assert proc.returncode == 0, proc.stderr
    assert "TORCH_CUDA_ARCH_LIST='8.0;9.0'" in proc.stdout
