# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The declared dependencies match what the package imports and uses.

Every third-party module imported under ``hambox_mmdet/`` must be declared in
``requirements/runtime.txt``, or in the requirement file of an optional extra
of ``setup.py`` (then it may only be imported inside functions, so that
``import hambox_mmdet`` works without the extra); and the torch floor must be
at least what the code's torch calls need.
"""
import ast
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / 'hambox_mmdet'
REQUIREMENTS = REPO / 'requirements'

#: Import name -> the distributions that provide it (any one declared will
#: do). Names not listed here must be their own distribution's name.
DISTRIBUTIONS = {
    'cv2': {
        'opencv-python', 'opencv-python-headless', 'opencv-contrib-python',
        'opencv-contrib-python-headless'
    },
    'PIL': {'pillow'},
    'skimage': {'scikit-image'},
    'sklearn': {'scikit-learn'},
    'yaml': {'pyyaml'},
}
#: torch features the code uses (a regular expression over the package's
#: source) and the first torch release that has them.
TORCH_FEATURES = {
    r'argsort\([^)]*stable\s*=': '1.13',  # pytorch/pytorch#75162
    r'\.scatter_reduce_\(': '1.12',  # the (dim, index, src, reduce) form
}
#: Extras that are not about running the package.
NOT_RUNTIME_EXTRAS = ('tests', )


def _read_requirements(name: str) -> list:
    """The requirements of ``requirements/<name>.txt``, comments dropped."""
    lines = (REQUIREMENTS / f'{name}.txt').read_text().splitlines()
    return [
        Requirement(line.split('#')[0].strip()) for line in lines
        if line.split('#')[0].strip()
    ]


def _extras() -> dict:
    """Extra name -> its requirements: the ``parse_requirements('<name>')``
    of setup.py's ``extras_require``, plus any other requirements file that
    is not runtime, tests or the constraints."""
    setup = (REPO / 'setup.py').read_text()
    names = set(re.findall(r"parse_requirements\(\s*'(\w+)'\s*\)", setup))
    names |= {p.stem for p in REQUIREMENTS.glob('*.txt')}
    names -= {'runtime', 'constraints', *NOT_RUNTIME_EXTRAS}
    for name in names:
        assert (REQUIREMENTS / f'{name}.txt').is_file(), \
            f'setup.py names requirements/{name}.txt, which is missing'
    return {name: _read_requirements(name) for name in sorted(names)}


def _third_party_imports(module_level_only: bool = False) -> dict:
    """Top-level name -> files, of every absolute import under the package
    that is neither the standard library nor the package itself; with
    ``module_level_only``, only the imports run when the file is imported
    (not those inside functions)."""
    found = {}
    for path in sorted(PACKAGE.rglob('*.py')):
        if '.mim' in path.parts:
            continue
        todo = [ast.parse(path.read_text(), str(path))]
        while todo:
            node = todo.pop()
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                names = []
            for name in names:
                top = name.split('.')[0]
                if top not in sys.stdlib_module_names and \
                        top != 'hambox_mmdet':
                    found.setdefault(top, set()).add(
                        str(path.relative_to(REPO)))
            if not (module_level_only and isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef))):
                todo.extend(ast.iter_child_nodes(node))
    return found


needs_stdlib_names = pytest.mark.skipif(
    not hasattr(sys, 'stdlib_module_names'),
    reason='sys.stdlib_module_names needs Python >= 3.10')


@needs_stdlib_names
def test_the_scan_sees_the_known_imports():
    # The scan must find what the package is known to import, or the test
    # below could pass vacuously.
    found = _third_party_imports()
    assert {'torch', 'numpy', 'mmdet', 'mmengine', 'mmcv', 'cv2',
            'terminaltables'} <= set(found)
    assert not {'os', 'typing', 'hambox_mmdet'} & set(found)


@needs_stdlib_names
def test_every_third_party_import_is_declared():
    runtime = {canonicalize_name(r.name) for r in _read_requirements(
        'runtime')}
    extras = {
        extra: {canonicalize_name(r.name)
                for r in reqs}
        for extra, reqs in _extras().items()
    }
    at_import = _third_party_imports(module_level_only=True)
    missing, eager = [], []
    for module, files in sorted(_third_party_imports().items()):
        dists = DISTRIBUTIONS.get(module, {canonicalize_name(module)})
        if dists & runtime:
            continue
        extra = [name for name, d in extras.items() if dists & d]
        if not extra:
            missing.append(f'{module} ({" or ".join(sorted(dists))}; '
                           f'imported by {", ".join(sorted(files))})')
        elif module in at_import:
            eager.append(f'{module} (extra {extra[0]}; imported when '
                         f'{", ".join(sorted(at_import[module]))} is)')
    assert not missing, ('imported but declared neither in '
                         'requirements/runtime.txt nor in an extra: ' +
                         '; '.join(missing))
    assert not eager, ('modules of optional extras must be imported inside '
                       'functions: ' + '; '.join(eager))


def test_torch_floor_covers_the_features_used():
    source = '\n'.join(
        p.read_text() for p in PACKAGE.rglob('*.py')
        if '.mim' not in p.parts)
    used = {
        pattern: version
        for pattern, version in TORCH_FEATURES.items()
        if re.search(pattern, source)
    }
    assert used, 'no feature found: the patterns are stale'
    needed = max(Version(v) for v in used.values())
    torch_req, = (
        r for r in _read_requirements('runtime') if r.name == 'torch')
    # No release before the one that has every feature used is allowed ...
    for older in ('1.8.0', '1.11.0', '1.12.0', '1.12.1'):
        if Version(older) < needed:
            assert not torch_req.specifier.contains(older), (
                f'requirements/runtime.txt allows torch {older}, but the '
                f'code needs >= {needed} ({sorted(used)})')
    # ... and the first that has them is.
    assert torch_req.specifier.contains(str(needed))


def test_pins_satisfy_the_ranges():
    """Every pin of constraints.txt is inside the runtime range."""
    pins = {
        canonicalize_name(r.name): next(iter(r.specifier)).version
        for r in _read_requirements('constraints')
    }
    for req in _read_requirements('runtime'):
        pin = pins.get(canonicalize_name(req.name))
        if pin is not None:
            assert req.specifier.contains(pin, prereleases=True), (req, pin)
