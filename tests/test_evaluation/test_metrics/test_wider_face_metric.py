# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Tests of WIDERFaceMetric: built from a config, fed mmdet data samples,
it gives exactly the numbers of evaluate_wider."""
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from mmengine.logging import MMLogger

from hambox_mmdet.evaluation import WIDERFaceMetric  # noqa: F401 (registers)
from hambox_mmdet.evaluation.wider import (SETTINGS,
                                           evaluate as evaluate_wider,
                                           load_ground_truth as load_wider_gt,
                                           read_predictions as read_pred_dir)
from hambox_mmdet.evaluation.metrics import wider_image_key
from mmdet.registry import METRICS

from helpers.wider_data import (run_metric, synthetic_preds,  # noqa: E402
                                to_samples, write_fake_mats)

WIDER = Path(
    os.environ.get(
        'HAMBOX_SHARED_WIDERFACE',
        Path(__file__).resolve().parents[3].parent / 'shared' / 'data' /
        'widerface'))
GT_DIR = WIDER / 'eval_tools' / 'ground_truth'
needs_wider = pytest.mark.skipif(
    not (GT_DIR / 'wider_face_val.mat').is_file(),
    reason=f'WIDER FACE ground truth not found at {GT_DIR} (CI has it)')


class LogCapture(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def log_capture(request):
    # a new instance per test: the newest is mmengine's current logger
    logger = MMLogger.get_instance(f'test_wider_face_metric:'
                                   f'{request.node.name}')
    handler = LogCapture()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def as_float32_xywh(preds):
    """What the metric sees after the float32 round trip, as x y w h."""
    out = {}
    for key, p in preds.items():
        xyxy = np.hstack([p[:, :2], p[:, :2] + p[:, 2:4]]).astype(np.float32)
        xyxy = xyxy.astype(np.float64)
        out[key] = np.column_stack([
            xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2],
            p[:, 4].astype(np.float32).astype(np.float64)
        ])
    return out


def test_image_key_from_img_path():
    assert wider_image_key('/d/WIDER_val/images/0--Parade/0_Parade_1.jpg') \
        == '0--Parade/0_Parade_1'
    # rstrip('.jpg') would eat the trailing 'g' and 'j' of the stem
    assert wider_image_key('images/12--Group/12_Group_jpg.jpg') == \
        '12--Group/12_Group_jpg'
    assert wider_image_key('a/b/13--Interview/x.y.jpg') == '13--Interview/x.y'


def test_built_from_config_loads_gt_lazily(tmp_path):
    metric = METRICS.build(
        dict(type='WIDERFaceMetric', gt_dir=str(tmp_path / 'nowhere')))
    assert isinstance(metric, WIDERFaceMetric)
    assert metric.prefix == 'widerface'
    # nothing read at construction; the missing file is named at evaluation
    metric.process({}, to_samples({'0--Parade/0_a': np.zeros((0, 5))}))
    with pytest.raises(FileNotFoundError, match='wider_face_val.mat'):
        metric.evaluate(1)
    with pytest.raises(ValueError, match='iou_arith'):
        METRICS.build(dict(type='WIDERFaceMetric', gt_dir='x',
                           iou_arith='round'))


def test_metric_on_fake_ground_truth(tmp_path, log_capture):
    write_fake_mats(tmp_path)
    gt = load_wider_gt(str(tmp_path))
    preds = {
        '0--Parade/0_a': np.array([[1, 2, 3, 4, 0.9], [5, 6, 7, 8, 0.8],
                                   [50, 50, 5, 5, 0.3]]),
        '1--Handshaking/1_a': np.array([[9, 9, 9, 9, 0.7],
                                        [90, 9, 9, 9, 0.2]]),
    }
    metric = METRICS.build(dict(type='WIDERFaceMetric', gt_dir=str(tmp_path)))
    out = run_metric(metric, to_samples(preds, as_objects=True))
    expected = evaluate_wider(as_float32_xywh(preds), gt).aps
    assert out == {f'widerface/{s}': expected[s] for s in SETTINGS}
    log = '\n'.join(log_capture.messages)
    assert '1 of 3 val images had no predictions' in log
    assert 'count as missed' in log


def test_metric_scores_negative_sizes_as_official(tmp_path, log_capture):
    """A predicted box with x2 < x1 or y2 < y1 has a negative width or
    height: scored as the official tool does (a false positive here), with
    a warning giving the count, and written to the submission files as
    is."""
    write_fake_mats(tmp_path)
    gt = load_wider_gt(str(tmp_path))
    preds = {
        '0--Parade/0_a': np.array([[5, 6, 7, 8, 0.9], [12, 6, -7, 8, 0.95],
                                   [5, 14, 7, -8, 0.5]]),
        '1--Handshaking/1_a': np.array([[9, 9, 9, 9, 0.7],
                                        [90, 9, 9, 9, 0.2]]),
    }
    far = {k: v.copy() for k, v in preds.items()}
    far['0--Parade/0_a'][1:, :4] = [500, 500, 5, 5]
    out_dir = tmp_path / 'submission'
    metric = METRICS.build(dict(type='WIDERFaceMetric', gt_dir=str(tmp_path),
                                outfile_prefix=str(out_dir)))
    out = run_metric(metric, to_samples(preds))
    expected = evaluate_wider(as_float32_xywh(preds), gt)
    assert out == {f'widerface/{s}': expected.aps[s] for s in SETTINGS}
    assert expected.aps == evaluate_wider(as_float32_xywh(far), gt).aps
    assert expected.num_negative_size == 2
    log = '\n'.join(log_capture.messages)
    assert '2 predicted box(es) of negative width or height in 1 image' \
        in log
    assert 'NOTE: 2 box(es) of negative width or height' in log
    back, _ = read_pred_dir(str(out_dir), gt.image_keys)
    assert (back['0--Parade/0_a'][:, 2:4] < 0).any(axis=1).sum() == 2


@needs_wider
@pytest.mark.parametrize('only_present', [False, True])
def test_metric_matches_evaluate_wider_on_real_gt(tmp_path, log_capture,
                                                  only_present):
    gt = load_wider_gt(str(GT_DIR))
    rng = np.random.default_rng(11)
    keys = [gt.image_keys[i] for i in rng.choice(len(gt), 25, replace=False)]
    preds = synthetic_preds(gt, keys, rng)
    preds[keys[0]] = np.zeros((0, 5))  # present, no boxes
    out_dir = tmp_path / 'submission'
    plot = tmp_path / 'pr.png'
    metric = METRICS.build(
        dict(
            type='WIDERFaceMetric',
            gt_dir=str(GT_DIR),
            only_present_images=only_present,
            outfile_prefix=str(out_dir),
            plot_file=str(plot)))
    out = run_metric(metric, to_samples(preds))

    expected = evaluate_wider(
        as_float32_xywh(preds), gt, only_present_images=only_present)
    assert out == {f'widerface/{s}': expected.aps[s] for s in SETTINGS}
    assert all(0 < ap < 1 for ap in out.values())
    # the submission files hold exactly what was evaluated
    back, missing = read_pred_dir(str(out_dir), gt.image_keys)
    assert sorted(back) == sorted(keys) and len(missing) == len(gt) - 25
    again = evaluate_wider(back, gt, only_present_images=only_present)
    assert again.aps == expected.aps
    assert plot.read_bytes()[:4] == b'\x89PNG'

    log = '\n'.join(log_capture.messages)
    assert 'WIDER FACE val' in log and 'easy' in log
    if only_present:
        assert 'cover only the 25 predicted images' in log
        assert 'NOT comparable with full-val numbers' in log
        assert 'count as missed' not in log
    else:
        assert f'{len(gt) - 25} of {len(gt)} val images had no ' \
            'predictions' in log
        assert 'count as missed' in log


def test_submission_only_mode_writes_files_without_ap(tmp_path):
    """gt_dir=None (the WIDER FACE test set): files written, no AP."""
    import numpy as np
    from mmdet.registry import METRICS

    import hambox_mmdet  # noqa: F401
    from hambox_mmdet.evaluation.wider import read_predictions as read_pred_dir
    with pytest.raises(ValueError, match='outfile_prefix'):
        METRICS.build(dict(type='WIDERFaceMetric', gt_dir=None))
    metric = METRICS.build(
        dict(
            type='WIDERFaceMetric',
            gt_dir=None,
            outfile_prefix=str(tmp_path / 'sub')))
    metric.dataset_meta = dict(classes=('face', ))
    sample = dict(
        img_path='/data/WIDER_test/images/0--Parade/0_Parade_Parade_0_1.jpg',
        pred_instances=dict(
            bboxes=np.array([[10., 20., 30., 50.]]), scores=np.array([0.9])))
    metric.process({}, [sample])
    assert metric.evaluate(1) == {}
    key = '0--Parade/0_Parade_Parade_0_1'
    preds, missing = read_pred_dir(str(tmp_path / 'sub'), [key])
    assert missing == []
    assert preds[key].tolist() == [[10., 20., 20., 30., 0.9]]


def test_gt_dir_with_tilde(tmp_path, monkeypatch, tiny_data):
    from hambox_mmdet.evaluation.wider import (
        load_ground_truth as load_wider_gt)
    monkeypatch.setenv('HOME', str(tiny_data.parent))
    gt = load_wider_gt(f'~/{tiny_data.name}/eval_tools/ground_truth')
    assert len(gt.image_keys) == 50
