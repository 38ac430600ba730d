# Copyright (c) hambox_mmdet contributors. All rights reserved.
import pytest
import torch
from mmdet.registry import MODELS, TASK_UTILS


STRIDES = [4, 8, 16, 32, 64, 128]


def test_default_sizes_and_count():
    gen = TASK_UTILS.build(dict(type='FaceAnchorGenerator'))
    assert gen.num_levels == 6
    assert gen.num_base_priors == [1] * 6
    assert gen.anchor_sizes == pytest.approx(
        [0.68 * 4 * s for s in STRIDES], rel=1e-6)
    priors = gen.grid_priors([(1024 // s, 1024 // s) for s in STRIDES],
                             device='cpu')
    assert sum(len(p) for p in priors) == 87360
    # square, centred in their cells
    p2 = priors[0]
    assert torch.allclose(p2[:, 2] - p2[:, 0], p2[:, 3] - p2[:, 1])
    centre = (p2[0, :2] + p2[0, 2:]) / 2
    assert centre.tolist() == pytest.approx([2.0, 2.0])
    centre = (p2[1, :2] + p2[1, 2:]) / 2
    assert centre.tolist() == pytest.approx([6.0, 2.0])


def test_equals_mmdet_anchor_generator():
    ours = TASK_UTILS.build(
        dict(type='FaceAnchorGenerator', anchor_scale=0.5, ratios=[1.0, 1.3]))
    theirs = TASK_UTILS.build(
        dict(
            type='AnchorGenerator',
            strides=STRIDES,
            ratios=[1.0, 1.3],
            scales=[2.0],
            center_offset=0.5))
    sizes = [(20, 30), (10, 15), (5, 8), (3, 4), (2, 2), (1, 1)]
    for a, b in zip(
            ours.grid_priors(sizes, device='cpu'),
            theirs.grid_priors(sizes, device='cpu')):
        assert torch.equal(a, b)


def test_ratios_keep_area():
    gen = TASK_UTILS.build(
        dict(type='FaceAnchorGenerator', strides=[8], ratios=[1.0, 1.5]))
    base = gen.base_anchors[0]
    w, h = base[:, 2] - base[:, 0], base[:, 3] - base[:, 1]
    assert (h / w).tolist() == pytest.approx([1.0, 1.5], rel=1e-5)
    assert (w * h).tolist() == pytest.approx([(0.68 * 32)**2] * 2, rel=1e-5)


def test_bad_scale():
    with pytest.raises(ValueError, match='anchor_scale'):
        TASK_UTILS.build(dict(type='FaceAnchorGenerator', anchor_scale=0))


def test_works_in_mmdet_retina_head():
    head = MODELS.build(
        dict(
            type='RetinaHead',
            num_classes=1,
            in_channels=8,
            stacked_convs=1,
            feat_channels=8,
            anchor_generator=dict(type='FaceAnchorGenerator')))
    feats = [torch.rand(1, 8, 64 // s, 64 // s) for s in STRIDES[:5]]
    feats.append(torch.rand(1, 8, 1, 1))
    cls_scores, bbox_preds = head(feats)
    assert [c.shape[1] for c in cls_scores] == [1] * 6
    assert [b.shape[1] for b in bbox_preds] == [4] * 6
