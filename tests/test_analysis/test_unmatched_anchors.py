# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The unmatched-anchor analysis (HAMBox Sec. 3 / Fig. 2(d)): hand-made
images with known answers, a plain-loop reference, and the tool end to end:
the tiny HAMBox detector on generated data, the tiny RetinaHead baseline on
real WIDER FACE val images."""
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet.structures.bbox import bbox_overlaps

from hambox_mmdet.analysis import (FACE_GROUPS, analyse_anchor_predictions,
                                   format_anchor_analysis,
                                   summarise_anchor_analysis)

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'analysis_tools' / 'unmatched_anchor_analysis.py'
TINY = REPO_ROOT / 'configs' / 'hambox' / 'hambox_r18_fpn_tiny_widerface.py'
BASELINE = (REPO_ROOT / 'configs' / 'baselines' /
            'retinanet_r18_fpn_tiny_widerface.py')
NMS = dict(type='nms', iou_threshold=0.4)
RESIZE = 'test_dataloader.dataset.pipeline.1.scale_factor=0.75'


def _t(rows):
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 4)


def _image_one():
    """Four faces and ten anchors; IoUs and NMS outcomes worked out by hand.

    Faces: F0 [0,0,100,100], F1 [200,0,300,100], F2 (small) [400,0,440,40],
    F3 [0,200,100,300].

    ==== ================= ======================= ===== ===================
    a    anchor, IoU        regressed box, IoU      score outcome
    ==== ================= ======================= ===== ===================
    a0   F0 1.00 matched    F0 0.96 correct         0.90  kept
    a1   F0 0.68 matched    F0 0.98 correct         0.80  NMS'd by a0 (0.94)
    a2   F1 0.33 unmatched  F1 1.00 correct         0.70  kept
    a3   F1 0.82 matched    F1 1.00                 0.20  no prediction
    a4   F2 0.16 unmatched  F2 0.95 correct         0.60  kept
    a5   none   unmatched   none                    0.95  kept (false pos.)
    a6   F0 0.90 matched    F0 0.25 wrong           0.55  kept (0.25 to a0)
    a7   none   unmatched   F0 0.50 wrong (strict)  0.51  NMS'd by a0 (0.48)
    a8   F3 1.00 matched    F3 0.95 correct         0.52  NMS'd by a9 (0.44)
    a9   none   unmatched   F3 0.43 wrong           0.85  kept
    ==== ================= ======================= ===== ===================

    D = 3, 1, 0, 1. Before NMS: 9 predictions, 5 correct, 2 from unmatched
    anchors; all four faces found. After NMS: 6 predictions, 3 correct
    (a0, a2, a4), 2 from unmatched; F3 lost.
    """
    faces = _t([[0, 0, 100, 100], [200, 0, 300, 100], [400, 0, 440, 40],
                [0, 200, 100, 300]])
    anchors = _t([[0, 0, 100, 100], [10, 10, 110, 110], [150, 0, 250, 100],
                  [210, 0, 310, 100], [380, 0, 480, 100],
                  [600, 600, 700, 700], [5, 0, 105, 100],
                  [300, 300, 400, 400], [0, 200, 100, 300],
                  [500, 500, 600, 600]])
    boxes = _t([[2, 2, 100, 100], [0, 0, 98, 100], [200, 0, 300, 100],
                [200, 0, 300, 100], [402, 0, 440, 40], [600, 600, 700, 700],
                [60, 0, 160, 100], [0, 0, 50, 100], [0, 205, 100, 300],
                [0, 240, 100, 340]])
    scores = torch.tensor(
        [0.9, 0.8, 0.7, 0.2, 0.6, 0.95, 0.55, 0.51, 0.52, 0.85])
    return anchors, scores, boxes, faces


def _image_two():
    """One face with five matched anchors (D = 5) and no correct
    prediction; one confident false positive from an unmatched anchor."""
    faces = _t([[0, 0, 64, 64]])
    anchors = _t([[0, 0, 64, 64], [2, 0, 66, 64], [0, 2, 64, 66],
                  [2, 2, 66, 66], [4, 0, 68, 64], [200, 200, 264, 264]])
    boxes = anchors.clone()
    boxes[5] = torch.tensor([300., 300., 364., 364.])
    scores = torch.tensor([0.1, 0.1, 0.1, 0.1, 0.1, 0.9])
    return anchors, scores, boxes, faces


def test_hand_made_image():
    res = analyse_anchor_predictions(*_image_one(), nms_cfg=NMS)
    assert res.num_anchors == 10
    assert res.num_matched_anchors == 5  # a0, a1, a3, a6, a8
    assert res.face_num_matched.tolist() == [3, 1, 0, 1]
    b, a = res.before_nms, res.after_nms
    assert (b.num_preds, b.num_correct, b.num_correct_from_unmatched) == \
        (9, 5, 2)
    assert b.face_found.tolist() == [True, True, True, True]
    assert (a.num_preds, a.num_correct, a.num_correct_from_unmatched) == \
        (6, 3, 2)
    assert a.face_found.tolist() == [True, True, True, False]
    # kept anchors, in NMS order (descending score)
    assert res.keep.tolist() == [5, 0, 9, 2, 4, 6]


def test_hand_made_summary_and_table():
    results = [
        analyse_anchor_predictions(*_image_one(), nms_cfg=NMS),
        analyse_anchor_predictions(*_image_two(), nms_cfg=NMS)
    ]
    s = summarise_anchor_analysis(results)
    assert (s['num_images'], s['num_faces'], s['num_anchors'],
            s['num_matched_anchors']) == (2, 5, 16, 10)
    assert s['mean_matched_per_face'] == pytest.approx(10 / 5)
    assert s['share_faces_matched'] == pytest.approx(4 / 5)
    assert s['predictions'] == dict(
        before_nms=dict(
            num_preds=10,
            num_correct=5,
            num_correct_from_unmatched=2,
            num_correct_from_matched=3,
            share_correct_from_unmatched=pytest.approx(0.4)),
        after_nms=dict(
            num_preds=7,
            num_correct=3,
            num_correct_from_unmatched=2,
            num_correct_from_matched=1,
            share_correct_from_unmatched=pytest.approx(2 / 3)))
    rows = {r['group']: r for r in s['face_groups']}
    assert list(rows) == list(FACE_GROUPS)
    # group: faces, found before NMS, found after NMS
    expected = {'0': (1, 1, 1), '1': (2, 2, 1), '2': (0, 0, 0),
                '3': (1, 1, 1), '>3': (1, 0, 0)}
    for group, (n, before, after) in expected.items():
        row = rows[group]
        assert (row['num_faces'], row['num_found_before_nms'],
                row['num_found_after_nms']) == (n, before, after), group
        assert row['share_of_faces'] == pytest.approx(n / 5)
    assert rows['1']['share_found_before_nms'] == 1.0
    assert rows['1']['share_found_after_nms'] == 0.5
    assert rows['>3']['share_found_before_nms'] == 0.0
    assert rows['2']['share_found_before_nms'] is None  # no such face
    json.dumps(s)  # JSON-ready

    table = format_anchor_analysis(s).splitlines()
    assert table[2] == '| before NMS | 10 | 5 | 2 | 40.0% |'
    assert table[3] == '| after NMS | 7 | 3 | 2 | 66.7% |'
    assert '| 1 | 2 | 40.0% | 2 | 100.0% | 1 | 50.0% |' in table
    assert '| 2 | 0 | 0.0% | 0 | - | 0 | - |' in table


def test_without_nms_after_equals_before():
    res = analyse_anchor_predictions(*_image_one(), nms_cfg=None)
    assert res.after_nms.num_preds == res.before_nms.num_preds == 9
    assert res.after_nms.num_correct == 5
    assert res.after_nms.face_found.tolist() == [True] * 4
    assert res.keep.tolist() == [5, 0, 9, 1, 2, 4, 6, 8, 7]


def test_thresholds_move_counts():
    anchors, scores, boxes, faces = _image_one()
    # a7's box has IoU exactly 0.5 with F0: correct only below 0.5
    res = analyse_anchor_predictions(
        anchors, scores, boxes, faces, correct_iou_thr=0.49, nms_cfg=None)
    assert res.before_nms.num_correct == 6
    assert res.before_nms.num_correct_from_unmatched == 3
    # a2 (IoU 1/3 with F1) becomes matched at 0.3
    res = analyse_anchor_predictions(
        anchors, scores, boxes, faces, match_iou_thr=0.3, nms_cfg=None)
    assert res.face_num_matched.tolist() == [3, 2, 0, 1]
    assert res.before_nms.num_correct_from_unmatched == 1
    # a score threshold of 0.6 keeps a5, a0, a9, a1, a2, a4
    res = analyse_anchor_predictions(
        anchors, scores, boxes, faces, score_thr=0.6, nms_cfg=None)
    assert res.before_nms.num_preds == 6
    assert res.before_nms.face_found.tolist() == [True, True, True, False]


def test_class_aware_nms():
    anchors = _t([[0, 0, 10, 10], [0, 0, 10, 10]])
    scores = torch.tensor([0.9, 0.8])
    faces = _t([[0, 0, 10, 10]])
    agnostic = analyse_anchor_predictions(
        anchors, scores, anchors, faces, nms_cfg=NMS)
    aware = analyse_anchor_predictions(
        anchors, scores, anchors, faces, labels=torch.tensor([0, 1]),
        nms_cfg=NMS)
    assert agnostic.after_nms.num_preds == 1
    assert aware.after_nms.num_preds == 2
    assert aware.after_nms.num_correct == 2


def test_ties_go_to_lower_face_and_empty_inputs():
    faces = _t([[0, 0, 10, 10], [0, 0, 10, 10]])  # the same face twice
    anchors = _t([[0, 0, 10, 10]])
    res = analyse_anchor_predictions(anchors, torch.ones(1), anchors, faces)
    assert res.face_num_matched.tolist() == [1, 0]
    assert res.before_nms.face_found.tolist() == [True, False]

    # no face: nothing matched or correct; no prediction: nothing found
    res = analyse_anchor_predictions(anchors, torch.ones(1), anchors,
                                     _t([]), nms_cfg=NMS)
    assert (res.num_matched_anchors, res.before_nms.num_preds,
            res.before_nms.num_correct, res.after_nms.num_preds) == \
        (0, 1, 0, 1)
    assert res.face_num_matched.shape == (0, )
    res = analyse_anchor_predictions(anchors, torch.zeros(1), anchors, faces,
                                     nms_cfg=NMS)
    assert res.before_nms.num_preds == res.after_nms.num_preds == 0
    assert res.face_num_matched.tolist() == [1, 0]
    s = summarise_anchor_analysis([])
    assert s['num_faces'] == 0 and s['mean_matched_per_face'] is None
    assert s['predictions']['before_nms']['share_correct_from_unmatched'] \
        is None


def _reference(anchors, scores, boxes, faces, score_thr, match_thr,
               correct_thr):
    """A plain loop over anchors, with mmdet's bbox_overlaps."""
    anchor_iou = bbox_overlaps(anchors, faces).tolist()
    box_iou = bbox_overlaps(boxes, faces).tolist()
    d = [0] * len(faces)
    found = [False] * len(faces)
    num_preds = num_correct = num_unmatched = 0
    for a in range(len(anchors)):
        best = max(range(len(faces)), key=lambda f: (anchor_iou[a][f], -f))
        matched = anchor_iou[a][best] >= match_thr
        d[best] += matched
        if scores[a] < score_thr:
            continue
        num_preds += 1
        best_box = max(range(len(faces)), key=lambda f: (box_iou[a][f], -f))
        if box_iou[a][best_box] > correct_thr:
            num_correct += 1
            num_unmatched += not matched
            found[best_box] = True
    return d, found, num_preds, num_correct, num_unmatched


@pytest.mark.parametrize('seed', [0, 1])
def test_matches_plain_loop(seed):
    g = torch.Generator().manual_seed(seed)
    num_anchors, num_faces = 900, 7
    xy = torch.rand(num_anchors, 2, generator=g) * 300
    anchors = torch.cat([xy, xy + 8 + torch.rand(num_anchors, 2,
                                                 generator=g) * 60], 1)
    boxes = anchors + torch.randn(num_anchors, 4, generator=g) * 8
    boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2] + 1)
    fxy = torch.rand(num_faces, 2, generator=g) * 300
    faces = torch.cat(
        [fxy, fxy + 10 + torch.rand(num_faces, 2, generator=g) * 50], 1)
    scores = torch.rand(num_anchors, generator=g)
    # tile_elems=1: tiles of 256 anchors, so several tiles are reduced
    res = analyse_anchor_predictions(
        anchors, scores, boxes, faces, score_thr=0.3, nms_cfg=None,
        tile_elems=1)
    d, found, num_preds, num_correct, num_unmatched = _reference(
        anchors, scores, boxes, faces, 0.3, 0.35, 0.5)
    assert res.face_num_matched.tolist() == d
    assert res.before_nms.face_found.tolist() == found
    assert (res.before_nms.num_preds, res.before_nms.num_correct,
            res.before_nms.num_correct_from_unmatched) == \
        (num_preds, num_correct, num_unmatched)
    assert num_correct > num_unmatched > 0 and sum(d) > 0  # not vacuous

    # after NMS: the same analysis restricted to the kept anchors
    res = analyse_anchor_predictions(
        anchors, scores, boxes, faces, score_thr=0.3, nms_cfg=NMS)
    keep = res.keep
    assert 0 < len(keep) < num_preds
    assert (scores[keep] >= 0.3).all()
    only_kept = torch.zeros(num_anchors)
    only_kept[keep] = 1
    _, found, num_preds, num_correct, num_unmatched = _reference(
        anchors, only_kept, boxes, faces, 0.5, 0.35, 0.5)
    assert res.after_nms.face_found.tolist() == found
    assert (res.after_nms.num_preds, res.after_nms.num_correct,
            res.after_nms.num_correct_from_unmatched) == \
        (num_preds, num_correct, num_unmatched)


# -- the tool end to end ----------------------------------------------------


def _expected_faces_and_anchors(cfg, num_images, **dataset_options):
    """Independently of the tool: non-ignored faces, their D by dense mmdet
    IoU on the padded grid, and the number of anchors, per image."""
    from mmdet.registry import DATASETS, TASK_UTILS
    dataset = DATASETS.build(
        dict(cfg.test_dataloader.dataset, **dataset_options))
    gen = TASK_UTILS.build(cfg.model.bbox_head.anchor_generator)
    divisor = cfg.model.data_preprocessor.pad_size_divisor
    num_faces, num_anchors, d_all = 0, 0, []
    for i in range(num_images):
        meta = dataset[i]['data_samples'].metainfo
        h, w = meta['img_shape']
        ph, pw = (math.ceil(x / divisor) * divisor for x in (h, w))
        sizes = [(math.ceil(ph / s[1]), math.ceil(pw / s[0]))
                 for s in gen.strides]
        anchors = torch.cat(gen.grid_priors(sizes, device='cpu'))
        info = dataset.get_data_info(i)
        faces = torch.from_numpy(
            info['gt_bboxes'][~info['gt_ignore_flags']]).float()
        sw, sh = meta['scale_factor']
        faces = faces * torch.tensor([sw, sh, sw, sh])
        iou = bbox_overlaps(faces.double(), anchors.double())
        best, face = iou.max(dim=0)
        d_all.append(np.bincount(face[best >= 0.35].numpy(),
                                 minlength=len(faces)))
        num_faces += len(faces)
        num_anchors += len(anchors)
    return len(dataset), num_faces, num_anchors, np.concatenate(d_all)


def _model_and_checkpoint(config, resize, ckpt_dir, tiny_data=None):
    """A config (its test pipeline resizing by ``resize``, so faces must
    follow into the input frame), a randomly initialised model and its
    checkpoint."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import hambox_mmdet  # noqa: F401
    init_default_scope('mmdet')
    with pytest.MonkeyPatch.context() as mp:
        if tiny_data is not None:
            mp.setenv('HAMBOX_TINY_DATA', str(tiny_data))
        cfg = Config.fromfile(str(config))
    cfg.merge_from_dict({RESIZE.split('=')[0]: resize})
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    ckpt = ckpt_dir / 'random.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    return cfg, model, ckpt


@pytest.fixture(scope='module')
def tiny_model(tiny_data, tmp_path_factory):
    """The tiny HAMBox config tested at 0.75 x, a random model, its
    checkpoint."""
    return _model_and_checkpoint(TINY, 0.75,
                                 tmp_path_factory.mktemp('hambox_tiny'),
                                 tiny_data)


def _load_tool():
    spec = importlib.util.spec_from_file_location('unmatched_anchor_tool',
                                                  TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def _run_tool(args, cwd, tiny_data=None):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    if tiny_data is not None:
        env['HAMBOX_TINY_DATA'] = str(tiny_data)
    proc = subprocess.run([sys.executable, str(TOOL)] + [str(a) for a in args],
                          cwd=str(cwd), env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '| before NMS |' in proc.stdout
    assert '| matched anchors D |' in proc.stdout
    return proc.stdout


def _check_output(out, cfg, num_images, **dataset_options):
    """The JSON against an independent count of faces, anchors and D, and
    the relations its numbers must satisfy."""
    assert (out['score_thr'], out['match_iou_thr'],
            out['correct_iou_thr']) == (0.0, 0.35, 0.5)
    assert out['nms'] == dict(cfg.model.test_cfg.nms)
    num_test, num_faces, num_anchors, d = _expected_faces_and_anchors(
        cfg, num_images, **dataset_options)
    assert out['num_test_images'] == num_test
    assert out['num_images'] == num_images
    assert out['num_faces'] == num_faces > 0
    assert out['num_anchors'] == num_anchors
    assert out['num_matched_anchors'] == d.sum() > 0

    groups = out['face_groups']
    assert [g['group'] for g in groups] == list(FACE_GROUPS)
    assert [g['num_faces'] for g in groups] == \
        np.bincount(np.minimum(d, 4), minlength=5).tolist()
    assert sum(g['num_faces'] for g in groups) == num_faces

    before = out['predictions']['before_nms']
    after = out['predictions']['after_nms']
    assert before['num_preds'] == num_anchors  # score >= 0: every anchor
    assert 0 < after['num_preds'] <= before['num_preds']
    for p in (before, after):
        assert 0 <= p['num_correct_from_unmatched'] <= p['num_correct']
        assert p['num_correct_from_matched'] == \
            p['num_correct'] - p['num_correct_from_unmatched']
    assert after['num_correct'] <= before['num_correct']
    for g in groups:
        assert 0 <= g['num_found_after_nms'] <= g['num_found_before_nms'] \
            <= g['num_faces']
    assert sum(g['num_found_before_nms'] for g in groups) <= \
        before['num_correct']


def _sorted_rows(scores, boxes):
    """Rows (x1, y1, x2, y2, score) in lexicographic order."""
    rows = torch.cat([boxes, scores[:, None]], 1).double().numpy()
    return rows[np.lexsort(rows.T[::-1])]


def test_tool_predictions_equal_mmdet_inference(tiny_model):
    """Every anchor's score and box as the tool flattens them are mmdet's
    own ``predict_by_feat`` outputs (no score threshold, no top-k), and the
    boxes kept by the analysis's NMS are those mmdet's NMS keeps."""
    from mmdet.registry import DATASETS
    from mmengine.config import ConfigDict
    from mmengine.dataset import pseudo_collate
    cfg, model, _ = tiny_model
    tool = _load_tool()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    batch = pseudo_collate([dataset[0]])
    anchors, scores, labels, boxes, meta = tool.anchor_predictions(
        model, batch)
    assert anchors.shape == boxes.shape and scores.shape == labels.shape
    assert meta['scale_factor'] == pytest.approx((0.75, 0.75), abs=0.01)

    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        outs = model.bbox_head(model.extract_feat(data['inputs']))
    test_cfg = ConfigDict(
        nms_pre=10**7, score_thr=-1.0, min_bbox_size=-1, nms=NMS,
        max_per_img=10**7)
    ref = model.bbox_head.predict_by_feat(
        *outs, batch_img_metas=[meta], cfg=test_cfg, with_nms=False)[0]
    assert len(ref) == len(anchors)
    # the same boxes; scores up to float rounding (sigmoid per level there)
    np.testing.assert_allclose(
        _sorted_rows(scores, boxes), _sorted_rows(ref.scores, ref.bboxes),
        rtol=1e-6, atol=0)

    res = analyse_anchor_predictions(
        anchors, scores, boxes, _t([]), labels=labels, score_thr=0.0,
        nms_cfg=NMS)
    ref = model.bbox_head.predict_by_feat(
        *outs, batch_img_metas=[meta], cfg=test_cfg, with_nms=True)[0]
    assert 0 < len(ref) < len(anchors)
    np.testing.assert_allclose(
        _sorted_rows(scores[res.keep], boxes[res.keep]),
        _sorted_rows(ref.scores, ref.bboxes),
        rtol=1e-6, atol=0)


def test_gt_faces_from_either_annotation_layout():
    tool = _load_tool()
    boxes = np.array([[0, 0, 10, 20], [5, 5, 9, 9], [2, 2, 4, 4]], 'float32')
    ignore = np.array([False, True, False])
    expected = [[0, 0, 5, 20], [1, 2, 2, 4]]
    assert tool.gt_faces(dict(gt_bboxes=boxes, gt_ignore_flags=ignore),
                         (0.5, 1.0)).tolist() == expected
    instances = [dict(bbox=b.tolist(), ignore_flag=int(i))
                 for b, i in zip(boxes, ignore)]
    assert tool.gt_faces(dict(instances=instances),
                         (0.5, 1.0)).tolist() == expected
    assert tool.gt_faces(dict(instances=[]), (1.0, 1.0)).shape == (0, 4)


@pytest.mark.slow
def test_tool_end_to_end_hambox(tiny_data, tiny_model, tmp_path):
    """``HAMBoxHead`` on the generated set the config points at."""
    cfg, _, ckpt = tiny_model
    out_json = tmp_path / 'out.json'
    _run_tool([TINY, ckpt, '--max-images', 3, '--score-thr', 0.0,
               '--skip-missing', '--out-json', out_json,
               '--cfg-options', RESIZE], tmp_path, tiny_data)
    out = json.loads(out_json.read_text())
    assert out['config'] == str(TINY) and out['checkpoint'] == str(ckpt)
    assert out['head'] == 'HAMBoxHead'
    _check_output(out, cfg, 3)


@pytest.mark.slow
def test_tool_end_to_end_baseline_on_real_wider_val(wider_root, tmp_path):
    """mmdet's ``RetinaHead`` (the tiny baseline) on real WIDER FACE val
    images, the data root given on the command line."""
    if not BASELINE.is_file():
        pytest.skip(f'{BASELINE} not found')
    cfg, _, ckpt = _model_and_checkpoint(BASELINE, 0.25, tmp_path)
    out_json = tmp_path / 'out.json'
    stdout = _run_tool([
        BASELINE, ckpt, '--data-root', wider_root, '--max-images', 2,
        '--score-thr', 0.0, '--skip-missing', '--json', out_json,
        '--cfg-options', RESIZE.replace('0.75', '0.25')
    ], tmp_path)
    assert f'written to {out_json}' in stdout
    out = json.loads(out_json.read_text())
    assert out['head'] == 'RetinaHead'
    assert out['data_root'] == str(wider_root)
    options = dict(data_root=str(wider_root), on_missing_image='skip')
    _check_output(out, cfg, 2, **options)
    assert out['num_test_images'] < 3226  # only the present images
