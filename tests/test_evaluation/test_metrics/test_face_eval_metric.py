# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""``FaceEvalMetric``, ``tools/eval_afw_pascal.py`` and the AFW / PASCAL
test configs, on the real annotation files: perfect, jittered, missing and
duplicated detections, each against the plain-loop reference."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from hambox_mmdet.evaluation.face_eval import (
    load_ground_truth as load_face_eval_gt,
    write_ground_truth as write_face_eval_gt)
from mmdet.registry import DATASETS, METRICS
from mmdet.structures import DetDataSample

REPO = Path(__file__).resolve().parents[3]
from oracles.reference_face_eval import (reference_evaluate,  # noqa: E402
                                         reference_load_gt, reference_read_dets)

init_default_scope('mmdet')
TOOL = REPO / 'tools' / 'eval_afw_pascal.py'
from helpers.face_eval_data import (AFW, FACE_EVAL, PASCAL,  # noqa: E402
                                    needs_face_eval)


def load_tool():
    """tools/eval_afw_pascal.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location('eval_afw_pascal', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def detections(ann, kind, seed=0):
    """(image names, scores, boxes) on the real faces of ``ann``."""
    gt = load_face_eval_gt(ann)
    rng = np.random.default_rng(seed)
    img = gt.face_image
    boxes = gt.boxes.copy()
    scores = rng.uniform(0.5, 1, len(boxes))
    if kind == 'jittered':
        size = np.abs(boxes[:, 2:] - boxes[:, :2])
        boxes += rng.normal(0, 0.12, boxes.shape) * np.tile(size, 2)
        boxes[:, 2:] += 0.15 * size  # a box style, for the calibration
    elif kind == 'missing':
        keep = rng.random(len(boxes)) < 0.6
        img, boxes, scores = img[keep], boxes[keep], scores[keep]
    elif kind == 'duplicated':
        rep = rng.integers(1, 4, len(boxes))
        img, boxes, scores = (np.repeat(img, rep), np.repeat(boxes, rep, 0),
                              np.repeat(scores, rep) *
                              rng.uniform(0.5, 1, rep.sum()))
    if kind != 'perfect':  # plus background boxes
        n = len(gt) * 3
        xy = rng.uniform(0, 400, (n, 2))
        img = np.concatenate([img, rng.integers(0, len(gt), n)])
        boxes = np.concatenate(
            [boxes, np.hstack([xy, xy + rng.uniform(10, 150, (n, 2))])])
        scores = np.concatenate([scores, rng.uniform(0, 0.7, n)])
    names = [gt.image_names[i] for i in img.tolist()]
    return gt, names, scores, boxes


def run_metric(metric, gt, names, scores, boxes):
    """Feed the metric one DetDataSample per ground-truth image."""
    names = np.asarray(names)
    for name in gt.image_names:
        sel = names == name
        sample = DetDataSample(metainfo=dict(img_path=f'/data/AFW/{name}'))
        sample.pred_instances = InstanceData(
            bboxes=torch.from_numpy(boxes[sel]).float(),
            scores=torch.from_numpy(scores[sel]),
            labels=torch.zeros(int(sel.sum()), dtype=torch.long))
        metric.process({}, [sample])
    return metric.evaluate(len(gt))


@needs_face_eval
def test_perfect_detections_score_one():
    metric = METRICS.build(dict(type='FaceEvalMetric', ann_file=str(AFW)))
    assert metric.prefix == 'afw'
    gt, names, scores, boxes = detections(AFW, 'perfect')
    out = run_metric(metric, gt, names, scores, boxes)
    assert out == {'afw/ap': 1.0, 'afw/ap_calibrated': 1.0}


@needs_face_eval
@pytest.mark.parametrize('kind', ['jittered', 'missing', 'duplicated'])
def test_metric_equals_the_plain_loop(tmp_path, kind):
    gt, names, scores, boxes = detections(PASCAL, kind)
    metric = METRICS.build(
        dict(
            type='FaceEvalMetric',
            ann_file=str(PASCAL),
            outfile=str(tmp_path / 'dets.txt')))
    out = run_metric(metric, gt, names, scores, boxes)
    ref = reference_evaluate(
        reference_load_gt(str(PASCAL)),
        reference_read_dets(str(tmp_path / 'dets.txt')))
    assert out['pascal/ap'] == pytest.approx(ref['ap'], abs=1e-12)
    assert out['pascal/ap_calibrated'] == pytest.approx(
        ref['ap_calibrated'], abs=1e-12)
    assert 0.05 < out['pascal/ap'] < 1
    if kind == 'jittered':  # the box style is learnt back
        assert out['pascal/ap_calibrated'] > out['pascal/ap'] + 0.05


@needs_face_eval
def test_metric_outfile_and_plot_agree_with_the_tool(tmp_path):
    gt, names, scores, boxes = detections(AFW, 'jittered', seed=1)
    metric = METRICS.build(
        dict(
            type='FaceEvalMetric',
            ann_file=str(AFW),
            prefix='mine',
            outfile=str(tmp_path / 'afw.txt'),
            plot_file=str(tmp_path / 'pr.png')))
    out = run_metric(metric, gt, names, scores, boxes)
    assert set(out) == {'mine/ap', 'mine/ap_calibrated'}
    assert (tmp_path / 'pr.png').stat().st_size > 10000
    eval_afw_pascal = load_tool()
    tool = eval_afw_pascal.run(
        eval_afw_pascal.parse_args([
            str(tmp_path / 'afw.txt'), '--ann',
            str(AFW), '--json',
            str(tmp_path / 'o.json')
        ]))
    assert tool['ap'] == out['mine/ap']
    assert tool['ap_calibrated'] == out['mine/ap_calibrated']


def test_metric_hand_made_file(tmp_path):
    """A generated annotation file: known APs through the mmengine path."""
    write_face_eval_gt(tmp_path / 'my_faces.mat', ['a.jpg', 'b.jpg'],
                       [[400, 300], [400, 300]],
                       [[[0, 0, 99, 99], [200, 0, 299, 99]],
                        [[0, 0, 20, 20]]])
    metric = METRICS.build(
        dict(type='FaceEvalMetric', ann_file=str(tmp_path / 'my_faces.mat')))
    assert metric.prefix == 'face_eval'
    preds = {
        'a.jpg': [[0.9, 0, 0, 99, 99], [0.8, 0, 0, 99, 99],
                  [0.7, 200, 0, 299, 99]],
        'b.jpg': [[0.95, 0, 0, 20, 20]],  # dropped: sides of 20 px
        'c.jpg': [],
    }
    for name, rows in preds.items():
        rows = np.array(rows, dtype=np.float32).reshape(-1, 5)
        sample = DetDataSample(metainfo=dict(img_path=f'/x/{name}'))
        sample.pred_instances = InstanceData(
            bboxes=torch.from_numpy(rows[:, 1:]),
            scores=torch.from_numpy(rows[:, 0]),
            labels=torch.zeros(len(rows), dtype=torch.long))
        metric.process({}, [sample])
    out = metric.evaluate(3)
    # TP, duplicate (FP), TP: precision 1, 1/2, 2/3 -> AP 1/2 + 1/2 * 2/3
    assert out['face_eval/ap'] == pytest.approx(5 / 6, abs=1e-12)
    assert out['face_eval/ap_calibrated'] == pytest.approx(5 / 6, abs=1e-12)


def test_metric_bad_arguments():
    with pytest.raises(ValueError, match='num_calib_iters'):
        METRICS.build(
            dict(type='FaceEvalMetric', ann_file='a.mat', num_calib_iters=0))
    with pytest.raises(ValueError, match=r'iou_thr must be in \[0, 1\)'):
        METRICS.build(dict(type='FaceEvalMetric', ann_file='a.mat',
                           iou_thr=1.0))
    metric = METRICS.build(
        dict(type='FaceEvalMetric', ann_file='/nowhere/AFW.mat'))
    with pytest.raises(FileNotFoundError, match='/nowhere/AFW.mat'):
        metric.gt


@needs_face_eval
@pytest.mark.slow
def test_tool_reproduces_dpm_afw(tmp_path):
    """The command line, as a user runs it, on the toolkit's DPM file."""
    det = FACE_EVAL / 'detections' / 'AFW' / 'DPM.txt'
    proc = subprocess.run([
        sys.executable,
        str(TOOL),
        str(det), '--ann',
        str(AFW), '--json',
        str(tmp_path / 'afw.json'), '--plot',
        str(tmp_path / 'afw.png')
    ],
                          capture_output=True,
                          text=True,
                          cwd=str(tmp_path),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'AP 97.21 with the 5-iteration box calibration, 92.04 without' \
        in proc.stdout
    out = json.loads((tmp_path / 'afw.json').read_text())
    assert round(out['ap_calibrated'] * 100, 2) == 97.21
    assert round(out['ap'] * 100, 2) == 92.04
    assert out['num_faces_counted'] == 473
    assert (tmp_path / 'afw.png').is_file()


def test_tool_bad_files_exit_with_one_line(tmp_path):
    eval_afw_pascal = load_tool()
    write_face_eval_gt(tmp_path / 'a.mat', ['a.jpg'], [[100, 100]],
                       [[[0, 0, 40, 40]]])
    bad = tmp_path / 'bad.txt'
    bad.write_text('a 1 0 0 40 40\nb 1 0 0\n')
    with pytest.raises(SystemExit) as err:
        eval_afw_pascal.main([str(bad), '--ann', str(tmp_path / 'a.mat')])
    assert str(err.value) == (f'error: {bad}, line 2: expected 6 fields '
                              '"image score x1 y1 x2 y2": \'b 1 0 0\'')
    with pytest.raises(SystemExit, match='nope.mat: no such annotation'):
        eval_afw_pascal.main(
            [str(bad), '--ann', str(tmp_path / 'nope.mat')])


@needs_face_eval
def test_tool_in_process_pascal_dpm(tmp_path, capsys):
    eval_afw_pascal = load_tool()
    det = FACE_EVAL / 'detections' / 'PASCAL' / 'DPM.txt'
    out = eval_afw_pascal.run(
        eval_afw_pascal.parse_args([str(det), '--ann', str(PASCAL)]))
    assert round(out['ap_calibrated'] * 100, 2) == 90.29
    assert round(out['ap'] * 100, 2) == 86.30
    assert '90.29' in capsys.readouterr().out
    # no calibration at all: both numbers equal
    out = eval_afw_pascal.run(
        eval_afw_pascal.parse_args(
            [str(det), '--ann', str(PASCAL), '--nit', '1']))
    assert out['ap_calibrated'] == out['ap']


@needs_face_eval
@pytest.mark.parametrize('name,ann,prefix,images', [
    ('hambox_r50_fpn_afw_test.py', AFW, 'afw', 205),
    ('hambox_r50_fpn_pascal_test.py', PASCAL, 'pascal', 851),
])
def test_test_configs_build_dataset_and_metric(tmp_path, name, ann, prefix,
                                               images):
    import hambox_mmdet  # noqa: F401
    cfg = Config.fromfile(str(REPO / 'configs' / 'hambox' / name))
    data = cfg.test_dataloader.dataset
    assert data.type == 'FaceEvalDataset' and data.test_mode
    assert cfg.test_evaluator.type == 'FaceEvalMetric'
    assert cfg.test_evaluator.prefix == prefix
    assert cfg.model.bbox_head.type == 'HAMBoxHead'  # the WIDER FACE model
    # the data layout the config documents, with placeholder images
    root = tmp_path / 'face_eval'
    (root / 'annotations').mkdir(parents=True)
    (root / 'annotations' / ann.name).symlink_to(ann)
    img_dir = root / data.data_prefix['img']
    img_dir.mkdir()
    for img_name in load_face_eval_gt(ann).image_names:
        (img_dir / img_name).touch()
    dataset = DATASETS.build(dict(data, data_root=str(root)))
    assert len(dataset) == images
    metric = METRICS.build(
        dict(
            cfg.test_evaluator,
            ann_file=str(root / 'annotations' / ann.name)))
    assert metric.prefix == prefix


@pytest.mark.slow
def test_afw_test_config_runs_end_to_end(tmp_path):
    """`mim test` of the AFW config, in-process: the R50 WIDER FACE model
    (random weights) over generated images in the AFW layout, scored by
    FaceEvalMetric."""
    import mmcv
    from mmengine.runner import Runner

    import hambox_mmdet  # noqa: F401
    root = tmp_path / 'face_eval'
    names = ['101.jpg', '102.jpg', '103.jpg']
    faces = [[[20, 30, 70, 90]], [[10, 10, 60, 55], [90, 20, 140, 80]], []]
    write_face_eval_gt(root / 'annotations' / 'new_annotations_AFW.mat',
                       names, [[160, 128]] * 3, faces)
    (root / 'AFW').mkdir()
    for name, boxes in zip(names, faces):
        img = np.full((128, 160, 3), 100, dtype=np.uint8)
        for x1, y1, x2, y2 in boxes:
            img[y1:y2, x1:x2] = (50, 120, 200)
        mmcv.imwrite(img, str(root / 'AFW' / name))
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'hambox' / 'hambox_r50_fpn_afw_test.py'))
    cfg.model.backbone.init_cfg = None
    cfg.test_dataloader.dataset.data_root = str(root) + '/'
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    cfg.test_evaluator.ann_file = str(
        root / 'annotations' / 'new_annotations_AFW.mat')
    cfg.test_evaluator.outfile = str(tmp_path / 'afw_dets.txt')
    cfg.work_dir = str(tmp_path / 'work')
    metrics = Runner.from_cfg(cfg).test()
    assert set(metrics) == {'afw/ap', 'afw/ap_calibrated'}
    assert all(0 <= v <= 1 for v in metrics.values())
    # the written detections are the model's, on the three images
    written = (tmp_path / 'afw_dets.txt').read_text().split('\n')
    assert {line.split()[0] for line in written if line} <= {'101', '102',
                                                             '103'}
