# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The three benchmark subpackages share their layout and names (#20): the
same modules, the same exported names for the same roles, the names before
#20 still importable with a DeprecationWarning, and the datasets read the
ground truth without importing the evaluation."""
import ast
import importlib
from pathlib import Path

import pytest

from hambox_mmdet import evaluation
from hambox_mmdet.datasets import annotations
from hambox_mmdet.evaluation import face_eval, fddb, wider

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = {'wider': wider, 'fddb': fddb, 'face_eval': face_eval}
MODULES = ('annotations', 'predictions', 'evaluate', 'results', 'plot')
COMMON = ('load_ground_truth', 'read_predictions', 'write_predictions',
          'evaluate', 'plot_curves')
#: subpackage -> (ground-truth class, result class)
CLASSES = {
    'wider': ('WiderFaceGT', 'WiderEvalResult'),
    'fddb': ('FDDBGroundTruth', 'FDDBResult'),
    'face_eval': ('FaceEvalGT', 'FaceEvalResult'),
}
#: (module, old name, new name) of every rename of #20
RENAMED = [
    (wider, 'load_wider_gt', 'load_ground_truth'),
    (wider, 'read_pred_dir', 'read_predictions'),
    (wider, 'write_pred_dir', 'write_predictions'),
    (wider, 'evaluate_wider', 'evaluate'),
    (wider, 'plot_pr_curves', 'plot_curves'),
    (fddb, 'load_fddb_folds', 'load_ground_truth'),
    (fddb, 'read_detections', 'read_predictions'),
    (fddb, 'read_detection_file', 'read_prediction_file'),
    (fddb, 'write_detections', 'write_predictions'),
    (fddb, 'evaluate_fddb', 'evaluate'),
    (fddb, 'plot_roc_curves', 'plot_curves'),
    (face_eval, 'load_face_eval_gt', 'load_ground_truth'),
    (face_eval, 'write_face_eval_gt', 'write_ground_truth'),
    (face_eval, 'read_face_eval_dets', 'read_predictions'),
    (face_eval, 'write_face_eval_dets', 'write_predictions'),
    (face_eval, 'evaluate_face_eval', 'evaluate'),
    (face_eval, 'plot_face_eval_pr', 'plot_curves'),
    (evaluation, 'evaluate_wider', 'wider.evaluate'),
    (evaluation, 'load_wider_gt', 'wider.load_ground_truth'),
    (evaluation, 'plot_pr_curves', 'wider.plot_curves'),
    (evaluation, 'read_pred_dir', 'wider.read_predictions'),
    (evaluation, 'write_pred_dir', 'wider.write_predictions'),
    (evaluation, 'evaluate_fddb', 'fddb.evaluate'),
    (evaluation, 'load_fddb_folds', 'fddb.load_ground_truth'),
    (evaluation, 'evaluate_face_eval', 'face_eval.evaluate'),
    (evaluation, 'load_face_eval_gt', 'face_eval.load_ground_truth'),
    (evaluation, 'read_face_eval_dets', 'face_eval.read_predictions'),
]


@pytest.mark.parametrize('name', sorted(BENCHMARKS))
def test_same_modules_and_names(name):
    package = BENCHMARKS[name]
    for module in MODULES:
        importlib.import_module(f'{package.__name__}.{module}')
    for attr in COMMON + CLASSES[name]:
        assert attr in package.__all__, attr
        assert getattr(package, attr) is not None
    for attr in COMMON:
        assert callable(getattr(package, attr)), attr
    # the entry point is the function, its module is evaluate.py
    assert package.evaluate.__module__ == f'{package.__name__}.evaluate'
    # every result has its log lines
    assert callable(getattr(package, CLASSES[name][1]).summary)


@pytest.mark.parametrize('name', sorted(BENCHMARKS))
def test_annotations_are_the_datasets_readers(name):
    """One reader per benchmark, in datasets/annotations; the evaluation's
    annotations module is the same objects."""
    reader = getattr(annotations, name)
    ours = importlib.import_module(
        f'{BENCHMARKS[name].__name__}.annotations')
    for attr in ours.__all__:
        assert getattr(ours, attr) is getattr(reader, attr), attr


@pytest.mark.parametrize('module,old,new', RENAMED,
                         ids=[f'{m.__name__}.{o}' for m, o, _ in RENAMED])
def test_old_names_warn_and_give_the_new_object(module, old, new):
    obj = module
    for part in new.split('.'):
        obj = getattr(obj, part)
    with pytest.warns(DeprecationWarning, match=f'use .*{new}'):
        assert getattr(module, old) is obj
    assert old not in module.__all__
    with pytest.raises(AttributeError, match='no attribute'):
        module.no_such_name


def test_from_import_of_an_old_name():
    with pytest.warns(DeprecationWarning, match='evaluate_wider'):
        from hambox_mmdet.evaluation.wider import evaluate_wider
    assert evaluate_wider is wider.evaluate


def test_datasets_do_not_import_the_evaluation():
    """``grep -rn evaluation hambox_mmdet/datasets`` finds no import."""
    for path in sorted((REPO / 'hambox_mmdet' / 'datasets').rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or '']
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any('evaluation' in n for n in names), \
                f'{path}:{node.lineno} imports {names}'
