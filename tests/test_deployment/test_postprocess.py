# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The numpy / OpenCV pre- and post-processing of the ONNX detector against
hand-made answers and against mmdet / mmcv on many random cases."""
import numpy as np
import pytest
import torch

from hambox_mmdet.deployment.postprocess import (
    batched_nms, decode_deltas, grid_anchors, match_detections, select_topk)
from hambox_mmdet.deployment.preprocess import (check_image, normalize,
                                                pad_batch, target_size)


def test_hand_made_cases():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30],
                      [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.95], np.float32)
    # IoU(0, 1) = 81 / 119 > 0.4; box 3 (best) suppresses 0 and 1
    assert batched_nms(boxes, scores, np.zeros(4, int), 0.4).tolist() == [3, 2]
    # other classes never suppress each other
    assert batched_nms(boxes, scores, np.array([0, 1, 0, 1]),
                       0.4).tolist() == [3, 0, 2]
    s, idx, lab = select_topk(
        np.array([[0.1], [0.5], [0.3], [0.01]], np.float32), 0.05, 2)
    assert s.tolist() == pytest.approx([0.5, 0.3]) and idx.tolist() == [1, 2]
    # anchors: x fastest, then y
    a = grid_anchors(np.array([[-3, -3, 5, 5.]]), (4, 4), (2, 3))
    assert a[:, 0].tolist() == [-3, 1, 5, -3, 1, 5]
    assert a[:, 1].tolist() == [-3, -3, -3, 1, 1, 1]
    # centre moved by 0.1 w, width doubled, clipped to an 8 x 100 image
    d = decode_deltas(np.array([[0, 0, 10, 10.]]),
                      np.array([[0.1, 0, np.log(2), 0]]), [0] * 4, [1] * 4,
                      max_shape=(8, 100))
    assert d.tolist() == [[0, 0, 16, 8]]
    # (w, h) of mmdet's Resize: keep_ratio fits long and short edge
    assert target_size((1000, 500), dict(scale=(640, 640),
                                         keep_ratio=True)) == (640, 320)
    assert target_size((1000, 500), dict(scale=(640, 480),
                                         keep_ratio=False)) == (640, 480)
    assert target_size((333, 517), dict(scale=None, scale_factor=1.0,
                                        keep_ratio=True)) == (333, 517)


def test_decode_matches_mmdet_coder():
    from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
    rng = np.random.default_rng(0)
    for case in range(20):
        n = 500
        xy = rng.uniform(-50, 600, (n, 2))
        anchors = np.concatenate([xy, xy + rng.uniform(1, 300, (n, 2))],
                                 1).astype(np.float32)
        deltas = rng.normal(0, 2, (n, 4)).astype(np.float32)
        means = rng.normal(0, 0.1, 4).round(3).tolist()
        stds = rng.uniform(0.1, 1, 4).round(3).tolist()
        ctr = bool(case % 2)
        coder = DeltaXYWHBBoxCoder(means, stds, add_ctr_clamp=ctr,
                                   ctr_clamp=32)
        ref = coder.decode(torch.from_numpy(anchors),
                           torch.from_numpy(deltas),
                           max_shape=(480, 640)).numpy()
        ours = decode_deltas(anchors, deltas, means, stds, add_ctr_clamp=ctr,
                             ctr_clamp=32, max_shape=(480, 640))
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-3)


def test_topk_matches_mmdet():
    from mmdet.models.utils import filter_scores_and_topk
    rng = np.random.default_rng(1)
    for case in range(30):
        n, c = int(rng.integers(1, 3000)), int(rng.integers(1, 4))
        scores = rng.random((n, c)).astype(np.float32)
        thr, k = float(rng.uniform(0, 0.9)), int(rng.integers(1, 2000))
        s_ref, l_ref, i_ref, _ = filter_scores_and_topk(
            torch.from_numpy(scores), thr, k)
        s, i, lab = select_topk(scores, thr, k)
        np.testing.assert_array_equal(s, s_ref.numpy())
        np.testing.assert_array_equal(i, i_ref.numpy())
        np.testing.assert_array_equal(lab, l_ref.numpy())


def test_nms_matches_mmcv_batched_nms():
    from mmcv.ops import batched_nms as mmcv_batched_nms
    rng = np.random.default_rng(2)
    for case in range(40):
        n = int(rng.integers(1, 800))
        xy = rng.uniform(0, 300, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(2, 80, (n, 2))],
                               1).astype(np.float32)
        scores = rng.random(n).astype(np.float32)
        labels = rng.integers(0, 1 + case % 3, n)
        thr = float(rng.choice([0.3, 0.4, 0.5, 0.7]))
        dets, keep_ref = mmcv_batched_nms(
            torch.from_numpy(boxes), torch.from_numpy(scores),
            torch.from_numpy(labels), dict(type='nms', iou_threshold=thr))
        keep = batched_nms(boxes, scores, labels, thr)
        np.testing.assert_array_equal(keep, keep_ref.numpy())


def test_anchors_match_face_anchor_generator():
    from mmdet.registry import TASK_UTILS

    import hambox_mmdet  # noqa: F401
    gen = TASK_UTILS.build(
        dict(type='FaceAnchorGenerator', ratios=[1.0, 1.3]))
    sizes = [(120, 160), (60, 80), (30, 40), (15, 20), (8, 10), (4, 5)]
    for lvl, ref in enumerate(gen.grid_priors(sizes, device='cpu')):
        ours = grid_anchors(gen.base_anchors[lvl].numpy(), gen.strides[lvl],
                            sizes[lvl])
        np.testing.assert_array_equal(ours, ref.numpy())


@pytest.mark.parametrize('resize', [
    dict(type='Resize', scale_factor=1.0, keep_ratio=True),
    dict(type='Resize', scale=(640, 640), keep_ratio=True),
    dict(type='Resize', scale=(320, 480), keep_ratio=True),
    dict(type='Resize', scale=(320, 256), keep_ratio=False),
    dict(type='Resize', scale_factor=0.37, keep_ratio=True),
])
def test_resize_matches_mmdet_transform(resize):
    from mmdet.registry import TRANSFORMS
    from mmengine.registry import init_default_scope

    from hambox_mmdet.deployment.preprocess import resize_image
    init_default_scope('mmdet')
    transform = TRANSFORMS.build(resize)
    meta = {k: v for k, v in resize.items() if k != 'type'}
    meta.setdefault('scale', None)
    rng = np.random.default_rng(3)
    for h, w in [(480, 640), (333, 517), (1024, 97), (31, 40), (700, 701)]:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        ref = transform(dict(img=img.copy(), img_shape=(h, w)))
        ours, factor = resize_image(img, meta)
        np.testing.assert_array_equal(ours, ref['img'])
        assert factor == pytest.approx(tuple(ref['scale_factor']), abs=0)


def test_normalize_and_pad_match_mmdet_preprocessor():
    from mmdet.models.data_preprocessors import DetDataPreprocessor
    dp = DetDataPreprocessor(mean=[123.675, 116.28, 103.53],
                             std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
                             pad_size_divisor=32)
    rng = np.random.default_rng(4)
    imgs = [rng.integers(0, 256, s, dtype=np.uint8)
            for s in [(70, 100, 3), (64, 33, 3)]]
    ref = dp(dict(inputs=[torch.from_numpy(i.transpose(2, 0, 1).copy())
                          for i in imgs]), False)['inputs'].numpy()
    ours = pad_batch([normalize(i, dp.mean.view(-1).tolist(),
                                dp.std.view(-1).tolist(), True)
                      for i in imgs], 32, 0.)
    assert ours.shape == ref.shape == (2, 3, 96, 128)
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize('bad,msg', [
    (np.zeros((20, 20), np.uint8), '3 channels'),
    (np.zeros((20, 20, 4), np.uint8), '3 channels'),
    (np.zeros((20, 20, 3), np.float32), 'uint8'),
    (np.zeros((0, 20, 3), np.uint8), 'empty'),
    ([[0, 0, 0]], 'numpy array'),
])
def test_bad_images_are_refused(bad, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        check_image(bad)


def test_match_detections():
    a = np.array([[0, 0, 10, 10, 0.9], [5, 5, 20, 20, 0.5],
                  [1, 1, 3, 3, 0.3001]], np.float32)
    b = a[[1, 0]].copy()
    b[0, :4] += 0.4
    # the 0.3001 box is within 1e-3 of the threshold: may be missing
    assert match_detections(a, b, 0.3)['ok']
    b[0, 4] += 0.01
    out = match_detections(a, b, 0.3)
    assert not out['ok'] and out['unmatched'] == 2
