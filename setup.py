# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Packaging of hambox_mmdet.

Like OpenMMLab's own packages, the installed package carries the repository's
``configs/`` and ``tools/`` under ``hambox_mmdet/.mim/``, where
``mim train hambox_mmdet <config>`` and ``mim test ...`` look for them: they
are copied there when a wheel is built (``pip install .``) and symlinked for
``pip install -e .`` (note that mim cannot find the package of an editable
install: install normally to use mim).
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')
# repository scripts (set-up, tests, quick start): not for an installed copy
REPO_ONLY = ('setup_env.sh', 'setup_env_cuda.sh', 'run_tests.sh',
             'quickstart.sh', 'quickstart.py')


def readme() -> str:
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(ROOT, 'hambox_mmdet', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt``, comments dropped."""
    path = osp.join(ROOT, 'requirements', f'{name}.txt')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def add_mim_extension() -> None:
    """Put configs/, tools/ (without the repository scripts) and
    model-index.yml (what ``mim search`` reads) into hambox_mmdet/.mim
    (copy, or symlink for an editable install)."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif any(cmd in sys.argv for cmd in ('sdist', 'bdist_wheel', 'build',
                                         'build_py', 'install')):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(ROOT, 'hambox_mmdet', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(ROOT, name)
        dst = osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isfile(src):
            shutil.copyfile(src, dst)
        else:
            shutil.copytree(
                src, dst,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc',
                                              *REPO_ONLY))


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='hambox_mmdet',
        version=get_version(),
        description='HAMBox (CVPR 2020) online high-quality anchor mining '
        'for face detection, as an MMDetection 3.x extension',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='face detection, HAMBox, WIDER FACE, mmdetection',
        packages=find_packages(include=('hambox_mmdet', 'hambox_mmdet.*')),
        package_data={
            'hambox_mmdet': [
                '.mim/model-index.yml',
                '.mim/configs/**/*.py',
                '.mim/configs/**/*.yml',
                '.mim/configs/**/*.md',
                '.mim/tools/**/*.py',
                '.mim/tools/**/*.sh',
            ]
        },
        include_package_data=False,
        python_requires='>=3.8',
        install_requires=parse_requirements('runtime'),
        extras_require={
            'tests': parse_requirements('tests'),
            'deploy': parse_requirements('deploy')
        },
        license='Apache License 2.0',
        zip_safe=False)
