# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""docs/bad_input.md stays true: every row names tests that exist, and
every test of the bad-input test files has a row (the tests themselves
assert the behaviour the row describes)."""
import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / 'docs' / 'bad_input.md'
TEST_FILES = ('tests/test_deployment/test_bad_input_deploy.py',
              'tests/test_datasets/test_bad_input_data.py',
              'tests/test_evaluation/test_bad_input_eval.py',
              'tests/test_utils/test_safe_io.py')


def table_rows():
    rows = [line for line in DOC.read_text().splitlines()
            if line.startswith('| `') or line.startswith('| all ')]
    return [[c.strip() for c in row.strip('|').split('|')] for row in rows]


def _test_names(path):
    tree = ast.parse((REPO / path).read_text())
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef)
            and node.name.startswith('test_')}


def test_every_row_names_existing_tests():
    rows = table_rows()
    assert len(rows) >= 25
    for tool, bad, what, tests in rows:
        assert tool and bad and what, (tool, bad, what)
        refs = re.findall(r'`([^`]+)::(test_\w+)`', tests)
        assert refs, f'row without a test: {bad}'
        for path, name in refs:
            assert path in TEST_FILES, path
            assert name in _test_names(path), f'{path}::{name}'


def test_every_bad_input_test_has_a_row():
    text = DOC.read_text()
    for path in TEST_FILES:
        for name in _test_names(path):
            assert f'`{path}::{name}`' in text, f'{path}::{name} not in doc'
