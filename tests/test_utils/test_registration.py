# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Registration the OpenMMLab way (fresh interpreters, as a user's process
starts): ``hambox_mmdet.utils.register_all_modules()`` registers every
component, each component subpackage registers its own on import, a config's
``custom_imports`` of the three subpackages is enough (checkpoints included),
and ``import hambox_mmdet`` alone loads no torch and registers nothing."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'hambox' / 'hambox_r18_fpn_tiny_widerface.py'

#: (subpackage, registry, name): every component and where it comes from.
COMPONENTS = [
    ('models', 'TASK_UTILS', 'HAMBoxAssigner'),
    ('models', 'TASK_UTILS', 'LevelATSSAssigner'),
    ('models', 'TASK_UTILS', 'FaceAnchorGenerator'),
    ('models', 'MODELS', 'HAMBoxHead'),
    ('models', 'MODELS', 'RegressionAwareFocalLoss'),
    ('datasets', 'DATASETS', 'WIDERFaceTxtDataset'),
    ('datasets', 'DATASETS', 'FDDBDataset'),
    ('datasets', 'DATASETS', 'FaceEvalDataset'),
    ('datasets', 'TRANSFORMS', 'LoadWIDERFaceAnnotations'),
    ('datasets', 'TRANSFORMS', 'RandomSquareCrop'),
    ('datasets', 'TRANSFORMS', 'DataAnchorSampling'),
    ('evaluation', 'METRICS', 'WIDERFaceMetric'),
    ('evaluation', 'METRICS', 'FDDBMetric'),
    ('evaluation', 'METRICS', 'FaceEvalMetric'),
]

#: Defines ``registered()``: our component names found in mmdet's
#: registries (imports mmdet.registry only when called).
PRELUDE = f'''
import json, sys, warnings
COMPONENTS = {COMPONENTS!r}
def registered():
    import mmdet.registry as r
    return [n for _, reg, n in COMPONENTS
            if n in getattr(r, reg).module_dict]
def allowed():
    import torch
    return sorted(str(g) for g in torch.serialization.get_safe_globals())
'''


def run_fresh(code: str, *args) -> dict:
    """Run ``PRELUDE + code`` in a fresh interpreter from the repository
    root; it prints one JSON object last."""
    proc = subprocess.run([sys.executable, '-c', PRELUDE + code, *args],
                          cwd=REPO, capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_alone_loads_no_torch_and_registers_nothing():
    out = run_fresh('''
meta_path = list(sys.meta_path)
import hambox_mmdet
heavy = sorted({m.split('.')[0] for m in sys.modules} &
               {'torch', 'mmcv', 'mmdet', 'mmengine'})
hook = sys.meta_path != meta_path
# mmdet's own components loaded afterwards: still none of ours (no hook)
import mmdet.datasets, mmdet.evaluation, mmdet.models
print(json.dumps(dict(heavy=heavy, hook=hook, registered=registered(),
                      version=hambox_mmdet.__version__)))
''')
    assert out == dict(heavy=[], hook=False, registered=[],
                       version=out['version'])


def test_register_all_modules_registers_all_idempotent_and_sets_scope():
    out = run_fresh('''
import mmdet.datasets, mmdet.evaluation, mmdet.models
from mmengine.registry import DefaultScope
before = registered()
import hambox_mmdet
from hambox_mmdet.utils import register_all_modules
assert hambox_mmdet.register_all_modules is register_all_modules
register_all_modules()
first = (registered(), allowed(), DefaultScope.get_current_instance())
with warnings.catch_warnings():
    warnings.simplefilter('error')  # a second call warns about nothing
    register_all_modules()
second = (registered(), allowed(), DefaultScope.get_current_instance())
import mmdet.registry as r
print(json.dumps(dict(
    before=before, after=first[0], same=first == second,
    history_buffer_allowed=any('HistoryBuffer' in g for g in first[1]),
    scope=first[2].scope_name,
    stock=['RetinaNet' in r.MODELS.module_dict,
           'DetVisualizationHook' in r.HOOKS.module_dict])))
''')
    assert out['before'] == []
    assert out['after'] == [n for _, _, n in COMPONENTS]
    assert out['same']  # idempotent: nothing new, the same scope instance
    assert out['history_buffer_allowed']
    assert out['scope'] == 'mmdet'
    assert out['stock'] == [True, True]  # mmdet's own modules too


def test_default_scope_like_mmdet():
    """``init_default_scope`` as in ``mmdet.utils.register_all_modules``:
    another current scope is replaced by ``mmdet`` with a warning; with
    ``False`` the scope is left alone."""
    out = run_fresh('''
from mmengine.registry import DefaultScope
from hambox_mmdet.utils import register_all_modules
register_all_modules(init_default_scope=False)
untouched = DefaultScope.get_current_instance() is None
register_all_modules()  # creates the 'mmdet' default scope
DefaultScope.get_instance('other', scope_name='mmengine')
register_all_modules(init_default_scope=False)
kept = DefaultScope.get_current_instance().scope_name
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    register_all_modules()
print(json.dumps(dict(
    untouched=untouched, kept=kept,
    now=DefaultScope.get_current_instance().scope_name,
    warnings=[str(w.message) for w in caught])))
''')
    assert out['untouched'] and out['kept'] == 'mmengine'
    assert out['now'] == 'mmdet'
    assert any('"mmengine" is not "mmdet"' in w for w in out['warnings'])


@pytest.mark.parametrize('subpackage', ['models', 'datasets', 'evaluation'])
def test_each_subpackage_registers_its_own(subpackage):
    out = run_fresh(f'''
import mmdet.datasets, mmdet.evaluation, mmdet.models
before = registered()
import hambox_mmdet.{subpackage}
print(json.dumps(dict(before=before, after=registered(),
                      history_buffer_allowed=any(
                          'HistoryBuffer' in g for g in allowed()))))
''')
    own = [n for sub, _, n in COMPONENTS if sub == subpackage]
    assert out['before'] == []
    assert set(own) <= set(out['after'])
    if subpackage == 'models':
        # so that custom_imports alone loads mmengine checkpoints
        assert out['history_buffer_allowed']


def test_config_custom_imports_alone(tmp_path):
    """What ``mim test --checkpoint`` does without our tools: the config's
    ``custom_imports`` registers everything and installs the allow-list, so
    a Runner checkpoint loads with ``weights_only=True`` (torch >= 2.6);
    the old ``imports=['hambox_mmdet']`` registers nothing and fails with
    mmengine's "not in the registry" KeyError (documented in
    hambox_mmdet/__init__.py)."""
    import torch
    from mmengine.logging import MessageHub
    ckpt = tmp_path / 'runner.pth'
    # what an mmengine Runner checkpoint pickles beyond tensors
    hub = MessageHub.get_instance('test_config_custom_imports_alone')
    hub.update_scalar('train/loss', 1.0)
    hub.update_scalar('train/loss', 2.0)
    torch.save(dict(state_dict={}, message_hub=hub.state_dict()), ckpt)
    old = tmp_path / 'old_form.py'
    old.write_text(f'_base_ = {str(TINY)!r}\n'
                   "custom_imports = dict(imports=['hambox_mmdet'], "
                   'allow_failed_imports=False)\n')
    out = run_fresh('''
from mmengine.config import Config
from mmdet.registry import MODELS
cfg = Config.fromfile(sys.argv[2])
try:
    MODELS.build(cfg.model)
    old_error = None
except KeyError as e:
    old_error = str(e)
old_registered = registered()
import pickle, torch
try:  # nothing installed the allow-list yet: torch refuses the checkpoint
    torch.load(sys.argv[1], weights_only=True)
    refused = False
except pickle.UnpicklingError:
    refused = True
cfg = Config.fromfile(sys.argv[3])  # imports the custom_imports
ckpt = torch.load(sys.argv[1], weights_only=True)
print(json.dumps(dict(
    old_error=old_error, old_registered=old_registered, refused=refused,
    registered=registered(), imports=cfg.custom_imports['imports'],
    loss=ckpt['message_hub']['log_scalars']['train/loss'].mean())))
''', str(ckpt), str(old), str(TINY))
    assert out['old_registered'] == [] and out['refused']
    assert 'is not in the mmdet::model registry' in out['old_error']
    assert out['imports'] == [
        'hambox_mmdet.models', 'hambox_mmdet.datasets',
        'hambox_mmdet.evaluation'
    ]
    assert out['registered'] == [n for _, _, n in COMPONENTS]
    assert out['loss'] == 1.5


def test_lazy_attribute():
    import hambox_mmdet
    from hambox_mmdet.utils import register_all_modules
    assert hambox_mmdet.register_all_modules is register_all_modules
    with pytest.raises(AttributeError, match='no attribute'):
        hambox_mmdet.no_such_thing
