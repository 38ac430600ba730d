# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDBMetric built from a config dict and run through mmengine's Evaluator,
the way the test loop runs it, on real annotations with generated images."""

import numpy as np
import pytest
import torch

from oracles.fddb_reference import FDDB_FOLDS, write_fddb_subset  # noqa: E402

from hambox_mmdet.evaluation.fddb import (  # noqa: E402
    ellipse_bboxes, load_ground_truth as load_fddb_folds,
    read_prediction_file as read_detection_file)
from hambox_mmdet.evaluation.metrics.fddb_metric import \
    fddb_image_key  # noqa: E402

pytest.importorskip('cv2')


@pytest.fixture(scope='module')
def fddb_subset(tmp_path_factory):
    if not FDDB_FOLDS.is_dir():
        pytest.skip(f'FDDB annotations not found at {FDDB_FOLDS}')
    root = tmp_path_factory.mktemp('fddb_metric')
    folds_dir, images_dir, sizes = write_fddb_subset(root, per_fold=4,
                                                     folds=(3, 7), seed=5)
    return folds_dir, images_dir, sizes, load_fddb_folds(str(folds_dir))


def _samples(gt, images_dir, sizes, drop=()):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    out = []
    for key, ells in zip(gt.image_keys, gt.ellipses):
        if key in drop:
            continue
        sample = DetDataSample(metainfo=dict(
            img_path=str(images_dir / (key + '.jpg')), img_id=key,
            ori_shape=sizes[key]))
        boxes = ellipse_bboxes(ells)
        boxes = np.r_[boxes, [[0, 0, 5, 5]]]  # plus one false positive
        sample.pred_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32),
            scores=torch.tensor(np.r_[np.full(len(ells), 0.8), 0.1],
                                dtype=torch.float32),
            labels=torch.zeros(len(boxes), dtype=torch.long))
        out.append(sample)
    return out


@pytest.mark.parametrize('use_images_dir', [False, True])
def test_metric_in_evaluator(fddb_subset, tmp_path, use_images_dir):
    from mmengine.evaluator import Evaluator
    folds_dir, images_dir, sizes, gt = fddb_subset
    # _scope_: what a config's default_scope = 'mmdet' does in the runner
    cfg = dict(type='FDDBMetric', _scope_='mmdet', folds_dir=str(folds_dir),
               outfile=str(tmp_path / 'dets.txt'),
               plot_file=str(tmp_path / 'roc.png'),
               roc_prefix=str(tmp_path / 'roc-'))
    if use_images_dir:
        cfg['images_dir'] = str(images_dir)
    evaluator = Evaluator(cfg)
    samples = _samples(gt, images_dir, sizes)
    for i in range(0, len(samples), 3):  # batches of 3
        evaluator.process(samples[i:i + 3])
    metrics = evaluator.evaluate(len(samples))
    assert metrics['fddb/discrete_tpr@1000fp'] == 1.0
    assert metrics['fddb/discrete_tpr@2000fp'] == 1.0
    assert 0.7 < metrics['fddb/continuous_tpr@1000fp'] < 0.85
    written = read_detection_file(str(tmp_path / 'dets.txt'))
    assert list(written) == gt.image_keys
    assert all(len(v) == len(e) + 1
               for v, e in zip(written.values(), gt.ellipses))
    assert (tmp_path / 'roc.png').is_file()
    assert (tmp_path / 'roc-ContROC.txt').is_file()


def test_metric_missing_images_count_as_missed(fddb_subset):
    from mmengine.evaluator import Evaluator
    folds_dir, images_dir, sizes, gt = fddb_subset
    evaluator = Evaluator(dict(type='FDDBMetric', _scope_='mmdet',
                               folds_dir=str(folds_dir), folds=[3, 7],
                               prefix='fddb_test'))
    drop = set(gt.image_keys[:2])
    evaluator.process(_samples(gt, images_dir, sizes, drop))
    metrics = evaluator.evaluate(len(gt) - 2)
    kept = sum(len(e) for k, e in zip(gt.image_keys, gt.ellipses)
               if k not in drop)
    assert metrics['fddb_test/discrete_tpr@1000fp'] == kept / gt.num_faces


def test_metric_keeps_the_first_of_duplicate_predictions_and_warns(
        fddb_subset, monkeypatch):
    from unittest import mock

    from mmengine.evaluator import Evaluator
    from mmengine.logging import MMLogger
    folds_dir, images_dir, sizes, gt = fddb_subset
    logger = mock.MagicMock()
    monkeypatch.setattr(MMLogger, 'get_current_instance', lambda: logger)
    evaluator = Evaluator(dict(type='FDDBMetric', _scope_='mmdet',
                               folds_dir=str(folds_dir)))
    samples = _samples(gt, images_dir, sizes)
    empty = _samples(gt, images_dir, sizes)[0]  # the first image again,
    empty.pred_instances = empty.pred_instances[:0]  # with no detections
    evaluator.process(samples + [empty])
    metrics = evaluator.evaluate(len(samples) + 1)
    assert metrics['fddb/discrete_tpr@1000fp'] == 1.0  # the first kept
    warnings = [c.args[0] for c in logger.warning.call_args_list]
    assert any('1 duplicate prediction' in w for w in warnings), warnings


def test_metric_rejects_images_outside_the_folds(fddb_subset):
    from mmengine.evaluator import Evaluator
    folds_dir, images_dir, sizes, gt = fddb_subset
    evaluator = Evaluator(dict(type='FDDBMetric', _scope_='mmdet',
                               folds_dir=str(folds_dir), folds=3))
    evaluator.process(_samples(gt, images_dir, sizes))
    with pytest.raises(ValueError, match='not in folds 3'):
        evaluator.evaluate(len(gt))


def test_image_key_from_path_or_id():
    assert fddb_image_key(dict(img_id='2002/08/11/big/img_591',
                               img_path='x.jpg')) == '2002/08/11/big/img_591'
    assert fddb_image_key(dict(
        img_id=3, img_path='/d/originalPics/2002/08/11/big/img_591.jpg')
    ) == '2002/08/11/big/img_591'


@pytest.mark.parametrize('matching', ['official', 'optimal'])
def test_metric_matching_reaches_the_evaluation(fddb_subset, monkeypatch,
                                                matching):
    from mmengine.evaluator import Evaluator

    from hambox_mmdet.evaluation.metrics import fddb_metric
    folds_dir, images_dir, sizes, gt = fddb_subset
    seen = []
    real = fddb_metric.evaluate_fddb

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        seen.append(result.matching)
        return result

    monkeypatch.setattr(fddb_metric, 'evaluate_fddb', spy)
    cfg = dict(type='FDDBMetric', _scope_='mmdet', folds_dir=str(folds_dir))
    if matching != 'official':  # the default is the official program's
        cfg['matching'] = matching
    evaluator = Evaluator(cfg)
    evaluator.process(_samples(gt, images_dir, sizes))
    metrics = evaluator.evaluate(len(gt))
    assert seen == [matching]
    assert metrics['fddb/discrete_tpr@1000fp'] == 1.0


def test_metric_rejects_unknown_matching(fddb_subset):
    from hambox_mmdet.evaluation.metrics.fddb_metric import FDDBMetric
    with pytest.raises(ValueError, match='matching must be one of'):
        FDDBMetric(folds_dir=str(fddb_subset[0]), matching='greedy')
