# Copyright (c) hambox_mmdet contributors. All rights reserved.
import copy

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import hambox_mmdet.datasets  # noqa: F401  (registers the components)
from hambox_mmdet.datasets import (WIDER_ATTR_NAMES, DataAnchorSampling,
                                   LoadWIDERFaceAnnotations, RandomSquareCrop)
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes

init_default_scope('mmdet')

CROP_CHOICE = (0.3, 0.45, 0.6, 0.8, 1.0, 1.5, 2.0)
PAD_VAL = 128
OUT = 640


class AddFaceIndex:
    """Store each face's index in an extra attribute, to follow it."""

    def __call__(self, results):
        num = len(results['gt_bboxes'])
        results['gt_face_attrs']['face_index'] = np.arange(num)
        return results


class Snapshot:
    """Record the annotations at one point of the pipeline."""

    def __init__(self, name, store):
        self.name, self.store = name, store

    def __call__(self, results):
        self.store[self.name] = dict(
            img=results['img'].copy(),
            img_shape=tuple(results['img_shape']),
            bboxes=results['gt_bboxes'].numpy().copy(),
            labels=results['gt_bboxes_labels'].copy(),
            ignore=results['gt_ignore_flags'].copy(),
            attrs=copy.deepcopy(results['gt_face_attrs']),
            homography=copy.deepcopy(results.get('homography_matrix')),
            flip=results.get('flip', False))
        return results


def _pipeline(crop, store):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadWIDERFaceAnnotations'),
        AddFaceIndex(),
        Snapshot('before', store),
        crop,
        Snapshot('crop', store),
        dict(type='Resize', scale=(OUT, OUT), keep_ratio=False),
        dict(type='RandomFlip', prob=0.5),
        Snapshot('final', store),
        dict(type='PackDetInputs'),
    ]


def _build(root, crop, store):
    return DATASETS.build(
        dict(
            type='WIDERFaceTxtDataset',
            data_root=str(root),
            ann_file='wider_face_split/wider_face_val_bbx_gt.txt',
            data_prefix=dict(img='WIDER_val/images/'),
            on_missing_image='skip',
            pipeline=_pipeline(crop, store)))


def _centers(boxes):
    return (boxes[:, :2] + boxes[:, 2:]) / 2


def _check_aligned(before, after, kept):
    """Labels, ignore flags and every attribute follow the kept faces."""
    np.testing.assert_array_equal(after['attrs']['face_index'], kept)
    np.testing.assert_array_equal(after['labels'], before['labels'][kept])
    np.testing.assert_array_equal(after['ignore'], before['ignore'][kept])
    for name in WIDER_ATTR_NAMES:
        np.testing.assert_array_equal(after['attrs'][name],
                                      before['attrs'][name][kept])


def _check_resize_flip_pack(store, packed):
    """Resize + flip of the cropped faces, then PackDetInputs' split."""
    crop, final = store['crop'], store['final']
    side_h, side_w = crop['img_shape']
    expected = crop['bboxes'] * np.array([OUT / side_w, OUT / side_h] * 2)
    if final['flip']:
        expected = np.stack([
            OUT - expected[:, 2], expected[:, 1], OUT - expected[:, 0],
            expected[:, 3]
        ], 1)
    np.testing.assert_allclose(final['bboxes'], expected, atol=1e-3)
    assert (final['bboxes'] >= 0).all() and (final['bboxes'] <= OUT).all()
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, OUT, OUT)
    ignore = final['ignore']
    np.testing.assert_allclose(
        sample.gt_instances.bboxes.numpy(),
        final['bboxes'][~ignore],
        atol=1e-4)
    np.testing.assert_allclose(
        sample.ignored_instances.bboxes.numpy(),
        final['bboxes'][ignore],
        atol=1e-4)
    assert (sample.gt_instances.labels == 0).all()


def test_random_square_crop_on_real_images(wider_root):
    store = {}
    dataset = _build(
        wider_root,
        dict(
            type='RandomSquareCrop', crop_choice=CROP_CHOICE, pad_val=PAD_VAL),
        store)
    dropped_some = padded_some = False
    for idx in range(0, len(dataset), 20):
        np.random.seed(idx)
        packed = dataset[idx]
        before, crop = store['before'], store['crop']
        img_h, img_w = before['img'].shape[:2]
        side = crop['img_shape'][0]
        assert crop['img_shape'] == (side, side)
        allowed = {int(c * min(img_h, img_w)) for c in CROP_CHOICE}
        assert side in allowed | {max(img_h, img_w)}
        x1, y1 = -crop['homography'][0, 2], -crop['homography'][1, 2]
        np.testing.assert_array_equal(crop['homography'][:2, :2], np.eye(2))

        # Independent computation: faces whose centre is strictly inside.
        c = _centers(before['bboxes'])
        inside = (c[:, 0] > x1) & (c[:, 0] < x1 + side) & (c[:, 1] > y1) & \
            (c[:, 1] < y1 + side)
        if len(c):
            assert inside.any()
        kept = np.flatnonzero(inside)
        dropped_some |= len(kept) < len(c)
        _check_aligned(before, crop, kept)
        expected = np.clip(before['bboxes'][kept] - [x1, y1, x1, y1], 0, side)
        np.testing.assert_allclose(crop['bboxes'], expected, atol=1e-4)

        # Pixels: the image where the square overlaps it, pad_val elsewhere.
        x1, y1 = int(x1), int(y1)
        sx1, sy1 = max(x1, 0), max(y1, 0)
        sx2, sy2 = min(x1 + side, img_w), min(y1 + side, img_h)
        region = crop['img'][sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1]
        np.testing.assert_array_equal(region, before['img'][sy1:sy2, sx1:sx2])
        mask = np.ones((side, side), bool)
        mask[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = False
        padded_some |= mask.any()
        assert (crop['img'][mask] == PAD_VAL).all()
        _check_resize_flip_pack(store, packed)
    # The images exercised both the dropping and the padding.
    assert dropped_some and padded_some


def test_data_anchor_sampling_on_real_images(wider_root):
    store = {}
    anchors = (16, 32, 64, 128, 256, 512)
    dataset = _build(
        wider_root,
        dict(
            type='DataAnchorSampling',
            prob=1.0,
            crop_size=OUT,
            anchor_sizes=anchors,
            pad_val=PAD_VAL), store)
    dropped_some = False
    for idx in range(5, len(dataset), 20):
        np.random.seed(idx)
        packed = dataset[idx]
        before, crop = store['before'], store['crop']
        usable = (~before['ignore']) & \
            (before['bboxes'][:, 2] > before['bboxes'][:, 0]) & \
            (before['bboxes'][:, 3] > before['bboxes'][:, 1])
        if not usable.any():
            assert crop['homography'] is None
            continue
        assert crop['img_shape'] == (OUT, OUT)
        matrix = crop['homography']
        scale = matrix[0, 0]
        assert matrix[1, 1] == pytest.approx(scale)
        x1, y1 = -matrix[0, 2], -matrix[1, 2]
        c = _centers(before['bboxes']) * scale - [x1, y1]
        inside = (c[:, 0] > 0) & (c[:, 0] < OUT) & (c[:, 1] > 0) & \
            (c[:, 1] < OUT)
        kept = np.flatnonzero(inside)
        dropped_some |= len(kept) < len(c)
        _check_aligned(before, crop, kept)
        expected = np.clip(before['bboxes'][kept] * scale - [x1, y1, x1, y1],
                           0, OUT)
        np.testing.assert_allclose(crop['bboxes'], expected, atol=1e-2)
        # The chosen face (some kept usable face) got an anchor-range size.
        sizes = np.sqrt(
            np.prod(before['bboxes'][:, 2:] - before['bboxes'][:, :2],
                    axis=1)) * scale
        assert ((sizes >= anchors[0] / 2 - 1e-3) &
                (sizes <= anchors[-1] * 2 + 1e-3) & usable
                & inside).any()
        _check_resize_flip_pack(store, packed)
    assert dropped_some


def _results(img_hw=(120, 200), boxes=(), ignore=None):
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    num = len(boxes)
    results = dict(
        img=np.random.RandomState(0).randint(
            0, 255, img_hw + (3, ), dtype=np.uint8),
        img_shape=img_hw,
        ori_shape=img_hw,
        gt_bboxes=boxes,
        gt_bboxes_labels=np.zeros(num, dtype=np.int64),
        gt_ignore_flags=np.zeros(num, bool) if ignore is None else np.asarray(
            ignore, bool),
        gt_face_attrs={
            name: np.arange(num) + k
            for k, name in enumerate(WIDER_ATTR_NAMES)
        })
    return LoadWIDERFaceAnnotations()(results)


def test_load_wider_face_annotations():
    results = _results(boxes=[[1, 2, 3, 4], [5, 6, 7, 8]], ignore=[0, 1])
    assert isinstance(results['gt_bboxes'], HorizontalBoxes)
    assert results['gt_bboxes'].tensor.dtype == torch.float32
    assert results['gt_bboxes_labels'].dtype == np.int64
    assert results['gt_ignore_flags'].tolist() == [False, True]
    assert results['gt_face_attrs']['pose'].tolist() == [5, 6]

    raw = dict(
        gt_bboxes=np.zeros((2, 4), np.float32),
        gt_face_attrs=dict(blur=np.array([1, 2]), extra=np.array([7, 8])))
    out = LoadWIDERFaceAnnotations(box_type=None)(copy.deepcopy(raw))
    assert isinstance(out['gt_bboxes'], np.ndarray)
    assert out['gt_ignore_flags'].tolist() == [False, False]
    assert out['gt_bboxes_labels'].tolist() == [0, 0]
    assert out['gt_face_attrs']['blur'].tolist() == [1, 2]
    assert out['gt_face_attrs']['pose'].tolist() == [0, 0]
    assert out['gt_face_attrs']['extra'].tolist() == [7, 8]
    out = LoadWIDERFaceAnnotations(
        with_bbox=False, with_label=False, with_attrs=False)(
            copy.deepcopy(raw))
    assert not {
        'gt_bboxes', 'gt_ignore_flags', 'gt_bboxes_labels', 'gt_face_attrs'
    } & set(out)
    assert 'LoadWIDERFaceAnnotations(with_bbox=True' in repr(
        LoadWIDERFaceAnnotations())


def test_random_square_crop_larger_than_image_pads():
    np.random.seed(0)
    crop = TRANSFORMS.build(
        dict(type='RandomSquareCrop', crop_choice=[2.0], pad_val=7))
    original = _results((50, 80), [[30, 20, 40, 30]])['img'].copy()
    results = crop(_results((50, 80), [[30, 20, 40, 30]]))
    assert results['img_shape'] == (100, 100)
    x1, y1 = (int(v) for v in -results['homography_matrix'][:2, 2])
    assert x1 <= 0 and y1 <= 0  # the image lies inside the square
    inside = np.zeros((100, 100), bool)
    inside[-y1:-y1 + 50, -x1:-x1 + 80] = True
    np.testing.assert_array_equal(results['img'][inside].reshape(50, 80, 3),
                                  original)
    assert (results['img'][~inside] == 7).all()
    np.testing.assert_allclose(results['gt_bboxes'].numpy(),
                               [[30 - x1, 20 - y1, 40 - x1, 30 - y1]])


def test_random_square_crop_fallback_keeps_everything():
    # Centres on the image border: no square of side <= short side keeps
    # them strictly inside, so the fallback pads the image to a square.
    np.random.seed(0)
    crop = RandomSquareCrop(crop_choice=[0.5, 1.0], max_trials=20)
    results = crop(_results((50, 80), [[0, 0, 0, 0], [70, 50, 90, 50]]))
    assert results['img_shape'] == (80, 80)
    np.testing.assert_array_equal(results['gt_bboxes'].numpy(),
                                  [[0, 15, 0, 15], [70, 65, 80, 65]])
    assert results['gt_face_attrs']['blur'].tolist() == [0, 1]
    assert (results['img'][:15] == 128).all()
    assert (results['img'][65:] == 128).all()


def test_random_square_crop_keeps_centres_strictly_inside():
    # crop_choice 1.0 on a square image: the square is the whole image.
    crop = RandomSquareCrop(crop_choice=[1.0])
    boxes = [[-2, 18, 2, 22], [18, 18, 22, 22], [38, 18, 42, 22],
             [18, 38, 22, 42], [25, 25, 45, 45]]
    results = crop(_results((40, 40), boxes))
    assert results['img_shape'] == (40, 40)
    # Centres (0, 20) and (40, 20), (20, 40) lie on the border: dropped.
    assert results['gt_face_attrs']['blur'].tolist() == [1, 4]
    np.testing.assert_array_equal(results['gt_bboxes'].numpy(),
                                  [[18, 18, 22, 22], [25, 25, 40, 40]])


def test_random_square_crop_without_faces_and_determinism():
    crop = RandomSquareCrop(crop_choice=[0.5])
    np.random.seed(3)
    first = crop(_results((100, 60)))
    assert first['img_shape'] == (30, 30)
    assert len(first['gt_bboxes']) == 0
    np.random.seed(3)
    second = crop(_results((100, 60)))
    np.testing.assert_array_equal(first['img'], second['img'])
    assert 'RandomSquareCrop(crop_choice=(0.5,)' in repr(crop)
    with pytest.raises(ValueError):
        RandomSquareCrop(crop_choice=[0.0])


def test_data_anchor_sampling_scale_distribution():
    das = DataAnchorSampling(prob=1.0, crop_size=256)
    sizes = []
    for seed in range(300):
        np.random.seed(seed)
        results = das(
            _results((400, 400), [[150, 150, 250, 250], [0, 0, 5, 5]],
                     ignore=[0, 1]))
        scale = results['homography_matrix'][0, 0]
        sizes.append(100 * scale)
        # The chosen face (the only usable one) stays in the crop.
        assert 0 in results['gt_face_attrs']['blur'].tolist()
        assert results['img_shape'] == (256, 256)
    sizes = np.array(sizes)
    # 100 px is nearest to anchor 128 (index 3): targets come from anchors
    # 16..256 (indices 0..4), each in [a / 2, 2 a].
    assert sizes.min() >= 8 and sizes.max() <= 512
    assert sizes.min() < 32 and sizes.max() > 256


def test_data_anchor_sampling_passes_through():
    das = DataAnchorSampling(prob=1.0)
    results = das(_results((50, 60), [[1, 1, 20, 20]], ignore=[1]))
    assert results['img_shape'] == (50, 60)
    assert 'homography_matrix' not in results
    results = DataAnchorSampling(prob=0.0)(_results((50, 60), [[1, 1, 9, 9]]))
    assert results['img_shape'] == (50, 60)
    results = das(_results((50, 60)))
    assert results['img_shape'] == (50, 60)
    assert 'DataAnchorSampling(anchor_sizes=(16.0' in repr(das)


def _crop_and_pad_loop(img, patch, pad_val):
    """Plain-loop reference: pixel (x, y) of the patch is the image's where
    it exists, else ``pad_val``."""
    x1, y1, x2, y2 = patch
    out = np.empty((y2 - y1, x2 - x1) + img.shape[2:], img.dtype)
    for y in range(y1, y2):
        for x in range(x1, x2):
            inside = 0 <= y < img.shape[0] and 0 <= x < img.shape[1]
            out[y - y1, x - x1] = img[y, x] if inside else pad_val
    return out


def test_random_square_crop_image_equals_a_plain_crop_and_pad():
    # The transform cuts its square with mmcv.imcrop(pad_fill=pad_val):
    # check it against the plain loop on random squares, many reaching
    # outside the image, for colour, grey (H, W) and single-channel
    # (H, W, 1) images and per-channel fills.
    rng = np.random.RandomState(0)
    overlapping = 0
    for trial in range(60):
        h, w = rng.randint(5, 30, size=2)
        shape = [(h, w), (h, w, 1), (h, w, 3), (h, w, 3)][trial % 4]
        img = rng.randint(0, 255, shape, dtype=np.uint8)
        pad_val = 9 if len(shape) == 2 or shape[2] == 1 or trial % 2 \
            else (1, 2, 3)
        crop = RandomSquareCrop(
            crop_choice=(0.3, 0.7, 1.0, 1.4, 2.0, 3.0), pad_val=pad_val)
        np.random.seed(trial)
        results = crop(dict(_results((h, w), [[0, 0, w, h]]), img=img))
        x1, y1 = (-results['homography_matrix'][:2, 2]).astype(int)
        side = results['img_shape'][0]
        patch = (x1, y1, x1 + side, y1 + side)
        # The square always overlaps the image (imcrop's precondition).
        assert x1 < w and y1 < h and x1 + side > 0 and y1 + side > 0
        overlapping += x1 < 0 or y1 < 0 or x1 + side > w or y1 + side > h
        np.testing.assert_array_equal(results['img'],
                                      _crop_and_pad_loop(img, patch, pad_val))
    assert overlapping >= 20  # many squares reached outside the image
