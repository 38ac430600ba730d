# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""``hambox_mmdet.deployment`` imports and detects without torch, mmcv or
mmdet (fresh interpreter), and importing mmdet afterwards still registers
every HAMBox component."""
import json
import subprocess
import sys

import pytest

pytest.importorskip('onnxruntime')

from deploy_helpers import REPO  # noqa: E402

CODE = r'''
import json, sys
import numpy as np
from hambox_mmdet.deployment import ONNXFaceDetector
det = ONNXFaceDetector(sys.argv[1])
rng = np.random.default_rng(0)
dets = det(rng.integers(0, 256, (120, 200, 3), dtype=np.uint8))
heavy = sorted({m.split('.')[0] for m in sys.modules} &
               {'torch', 'mmcv', 'mmdet', 'mmengine'})
import mmdet.registry as r
out = dict(heavy=heavy, shape=list(dets.shape), dtype=str(dets.dtype),
           registered=['HAMBoxHead' in r.MODELS.module_dict,
                       'FaceAnchorGenerator' in r.TASK_UTILS.module_dict,
                       'WIDERFaceTxtDataset' in r.DATASETS.module_dict,
                       'WIDERFaceMetric' in r.METRICS.module_dict])
print(json.dumps(out))
'''


def test_fresh_interpreter_imports_no_torch(tiny_onnx):
    proc = subprocess.run([sys.executable, '-c', CODE, tiny_onnx],
                          cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out['heavy'] == [], out
    assert out['shape'][1] == 5 and out['dtype'] == 'float32'
    # mmdet imported later: the components got registered then
    assert out['registered'] == [True] * 4
