# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""`import hambox_mmdet` registers every component in mmdet's registries."""
import subprocess
import sys

import pytest

COMPONENTS = [
    ('TASK_UTILS', 'HAMBoxAssigner'),
    ('TASK_UTILS', 'FaceAnchorGenerator'),
    ('MODELS', 'HAMBoxHead'),
    ('MODELS', 'RegressionAwareFocalLoss'),
    ('DATASETS', 'WIDERFaceTxtDataset'),
    ('TRANSFORMS', 'LoadWIDERFaceAnnotations'),
    ('TRANSFORMS', 'RandomSquareCrop'),
    ('TRANSFORMS', 'DataAnchorSampling'),
    ('METRICS', 'WIDERFaceMetric'),
    ('DATASETS', 'FDDBDataset'),
    ('METRICS', 'FDDBMetric'),
    ('DATASETS', 'FaceEvalDataset'),
    ('METRICS', 'FaceEvalMetric'),
]


@pytest.mark.parametrize('registry,name', COMPONENTS)
def test_registered_in_mmdet_scope(registry, name):
    import mmdet.registry

    import hambox_mmdet  # noqa: F401
    reg = getattr(mmdet.registry, registry)
    assert reg.scope == 'mmdet'
    assert name in reg.module_dict, f'{name} not in mmdet {registry}'


def test_nothing_registered_before_import():
    """A fresh interpreter: the names come from our import, not from mmdet."""
    code = ('import mmdet.registry as r, mmdet.models, mmdet.datasets, '
            'mmdet.evaluation; '
            f'names = {COMPONENTS!r}; '
            'before = [n for reg, n in names if n in getattr(r, reg).module_dict]; '
            'import hambox_mmdet; '
            'after = [n for reg, n in names if n in getattr(r, reg).module_dict]; '
            'print(len(before), len(after))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ['0', str(len(COMPONENTS))]
