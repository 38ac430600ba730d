# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""What an installed copy carries for mim: configs, tools and the model
index (what `mim search` reads), and none of the repository's scripts."""
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
REPO_ONLY = ('setup_env.sh', 'setup_env_cuda.sh', 'run_tests.sh',
             'quickstart.sh', 'quickstart.py')


def installed_mim() -> Path:
    site = next((Path(p) for p in sys.path
                 if p.endswith('site-packages')
                 and (Path(p) / 'hambox_mmdet' / '.mim').is_dir()), None)
    if site is None:
        pytest.skip('hambox_mmdet is not installed (tools/setup_env.sh '
                    'installs it)')
    return site / 'hambox_mmdet' / '.mim'


def test_installed_copy_has_mim_files_and_no_repository_scripts():
    mim = installed_mim()
    assert (mim / 'model-index.yml').is_file()
    assert (mim / 'configs' / 'hambox' / 'metafile.yml').is_file()
    assert (mim / 'tools' / 'train.py').is_file()
    assert (mim / 'tools' / 'test.py').is_file()
    for name in REPO_ONLY:
        assert not (mim / 'tools' / name).exists(), name


def test_metafile_names_existing_configs():
    from modelindex.load_model_index import load
    models = load(str(REPO / 'model-index.yml'))
    models.build_models_with_collections()
    assert {m.name for m in models.models} >= {
        'hambox_r18_fpn_tiny_widerface', 'retinanet_r18_fpn_tiny_widerface'}
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    for path in index['Import']:
        meta = yaml.safe_load((REPO / path).read_text())
        assert meta['Collections'][0]['Name'] == 'HAMBox'
        assert meta['Models']
        for model in meta['Models']:
            assert (REPO / model['Config']).is_file(), model['Config']
            assert model['In Collection'] == 'HAMBox'
            for result in model.get('Results', []):
                assert result['Dataset'] == 'WIDER FACE'
                metrics = result['Metrics']
                assert set(metrics) == {'Easy AP', 'Medium AP', 'Hard AP'}
                assert all(isinstance(v, float) and 0 < v < 100
                           for v in metrics.values()), metrics


def test_mim_search_lists_the_models():
    """`mim search` reads the installed model index (click 8.1: with 8.3 it
    fails before reading anything)."""
    import shutil
    import subprocess
    installed_mim()
    mim = shutil.which('mim', path=str(Path(sys.executable).parent))
    if mim is None:
        pytest.skip('mim is not installed next to this python')
    proc = subprocess.run([mim, 'search', 'hambox_mmdet'],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for name in ('hambox_r18_fpn_tiny_widerface',
                 'retinanet_r18_fpn_tiny_widerface',
                 'hambox_r50_fpn_widerface'):
        assert f'config id: {name}' in proc.stdout
