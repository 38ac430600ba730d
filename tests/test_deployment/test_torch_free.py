# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""``hambox_mmdet.deployment`` and ``hambox_mmdet.safe_io`` are torch-free by
module structure: in a fresh interpreter they import and (the detector)
detect without torch, mmcv, mmdet or mmengine, and ``import hambox_mmdet``
installs no import hook and registers nothing (``register_all_modules``
does, tests/test_utils/test_registration.py)."""
import importlib.util
import json
import subprocess
import sys

import pytest

from helpers.deploy_helpers import REPO  # noqa: E402

HEAVY = ('torch', 'mmcv', 'mmdet', 'mmengine')

CODE = r'''
import json, sys
meta_path = list(sys.meta_path)
import numpy as np
from hambox_mmdet.deployment import ONNXFaceDetector
det = ONNXFaceDetector(sys.argv[1])
rng = np.random.default_rng(0)
dets = det(rng.integers(0, 256, (120, 200, 3), dtype=np.uint8))
heavy = sorted({m.split('.')[0] for m in sys.modules} &
               {'torch', 'mmcv', 'mmdet', 'mmengine'})
hook = sys.meta_path != meta_path
# no hook: importing mmdet afterwards registers none of our components
import mmdet.registry as r, mmdet.models
out = dict(heavy=heavy, hook=hook, shape=list(dets.shape),
           dtype=str(dets.dtype),
           registered=['HAMBoxHead' in r.MODELS.module_dict,
                       'FaceAnchorGenerator' in r.TASK_UTILS.module_dict,
                       'WIDERFaceTxtDataset' in r.DATASETS.module_dict,
                       'WIDERFaceMetric' in r.METRICS.module_dict])
print(json.dumps(out))
'''


def run_fresh(*args, **kw):
    return subprocess.run([sys.executable, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, **kw)


@pytest.mark.parametrize('module', ['hambox_mmdet.deployment',
                                    'hambox_mmdet.safe_io', 'hambox_mmdet'])
def test_import_loads_no_torch(module):
    """The issue's done-when check, with mmcv, mmdet, mmengine too, and
    no import hook left behind."""
    heavy = ' or '.join(f'{m!r} in sys.modules' for m in HEAVY)
    code = (f'import sys; meta_path = list(sys.meta_path); import {module}; '
            f'assert not ({heavy}), sorted(sys.modules); '
            'assert sys.meta_path == meta_path, sys.meta_path')
    proc = run_fresh('-c', code)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_no_import_mode_module():
    """The frame-inspecting import hook is gone, not just unused."""
    assert not (REPO / 'hambox_mmdet' / '_import_mode.py').exists()
    proc = run_fresh('-c', 'import hambox_mmdet._import_mode')
    assert proc.returncode != 0
    assert "No module named 'hambox_mmdet._import_mode'" in proc.stderr


@pytest.mark.skipif(importlib.util.find_spec('onnxruntime') is None,
                    reason='onnxruntime is not installed')
def test_fresh_interpreter_detects_without_torch(tiny_onnx):
    proc = run_fresh('-c', CODE, tiny_onnx)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out['heavy'] == [], out
    assert not out['hook']
    assert out['shape'][1] == 5 and out['dtype'] == 'float32'
    # mmdet imported later: nothing of ours registered behind its back
    assert out['registered'] == [False] * 4
