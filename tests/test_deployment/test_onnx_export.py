# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""tools/deployment/export_onnx.py and ONNXFaceDetector: the exported model
gives mmdet's ``inference_detector`` results (same boxes above a threshold,
within 0.5 px and 1e-3 in score) on images of several sizes, in a batch, for
the tiny config and the R50 config; bad inputs get clear errors."""
import json

import numpy as np
import pytest

pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')

from helpers.deploy_helpers import (R50, SIZES, TINY,  # noqa: E402
                                    make_checkpoint, make_image,
                                    torch_detections)
from helpers.tool_loader import load_tool  # noqa: E402

from hambox_mmdet.deployment import (ONNXFaceDetector,  # noqa: E402
                                     match_detections)

THR = 0.3


def assert_parity(ref, ours, thr=THR):
    result = match_detections(ref, ours, thr)
    assert result['ok'], result
    assert result['num_ref'] > 0, 'no boxes to compare: perturb the head more'
    assert result['max_box_diff'] <= 0.5 and result['max_score_diff'] <= 1e-3
    return result


def test_metadata_holds_everything(tiny_onnx):
    proto = onnx.load(tiny_onnx)
    meta = json.loads(
        {p.key: p.value for p in proto.metadata_props}['hambox_mmdet'])
    assert meta['anchors']['strides'] == [[s, s] for s in
                                          (4., 8., 16., 32., 64., 128.)]
    # FaceAnchorGenerator: side 0.68 x 4 x stride, centred in the cell
    side = meta['anchors']['base_anchors'][0][0]
    assert side[2] - side[0] == pytest.approx(0.68 * 16, rel=1e-6)
    assert (side[0] + side[2]) / 2 == pytest.approx(2.0)
    assert meta['bbox_coder']['stds'] == [1.0] * 4
    assert meta['test_cfg'] == dict(nms_pre=1000, score_thr=0.02,
                                    iou_threshold=0.4, max_per_img=300,
                                    min_bbox_size=0.0)
    pre = meta['preprocess']
    assert pre['bgr_to_rgb'] and pre['pad_size_divisor'] == 32
    assert pre['mean'] == pytest.approx([123.675, 116.28, 103.53])
    assert pre['resize']['scale_factor'] == 1.0 and pre['resize']['keep_ratio']
    assert meta['classes'] == ['face'] and meta['num_classes'] == 1
    # dynamic batch, height and width
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ['batch', '', 'height', 'width']


def test_parity_with_inference_detector(tiny_onnx, tiny_torch, images):
    det = ONNXFaceDetector(tiny_onnx)
    counts = []
    for img in images:
        ref = torch_detections(tiny_torch, img)
        ours = det(img)
        assert ours.dtype == np.float32 and ours.shape[1] == 5
        assert_parity(ref, ours)
        # the boxes are in the input image's pixels
        assert ours[:, [0, 2]].max() <= img.shape[1] + 1e-3
        assert ours[:, [1, 3]].max() <= img.shape[0] + 1e-3
        counts.append(int((ours[:, 4] >= THR).sum()))
    assert min(counts) > 0


def test_batch_equals_single_images(tiny_onnx, images):
    det = ONNXFaceDetector(tiny_onnx)
    same = [images[0], make_image(480, 640, 99)]
    batch = det.detect_batch(same)
    for img, dets in zip(same, batch):
        np.testing.assert_allclose(dets, det(img), atol=1e-3)
    # mixed sizes run too (padded to the largest, as mmdet batches them)
    assert len(det.detect_batch(images, batch_size=3)) == len(images)


def test_keep_ratio_resize_config(tmp_path, tiny_ckpt, images):
    """A config testing at a fixed scale: the detector resizes as the test
    pipeline does and maps the boxes back to the input image."""
    export_onnx = load_tool('deployment/export_onnx.py')
    from mmdet.apis import init_detector
    cfg = tmp_path / 'tiny_vga.py'
    cfg.write_text(
        f"_base_ = '{TINY}'\n"
        "test_dataloader = dict(dataset=dict(pipeline=[\n"
        "    dict(type='LoadImageFromFile'),\n"
        "    dict(type='Resize', scale=(320, 320), keep_ratio=True),\n"
        "    dict(type='PackDetInputs')]))\n")
    out = str(tmp_path / 'vga.onnx')
    export_onnx.main([str(cfg), tiny_ckpt, '--out', out, '--dynamic',
                      '--shape', '128', '160'])
    model = init_detector(str(cfg), tiny_ckpt, device='cpu')
    det = ONNXFaceDetector(out)
    for img in images[:3]:
        assert_parity(torch_detections(model, img), det(img))


@pytest.mark.slow
def test_r50_config_parity(tmp_path, images):
    """R50-FPN (random init, ImageNet weights not loaded: init_cfg=None;
    head perturbed) on two small images of different aspect ratios."""
    export_onnx = load_tool('deployment/export_onnx.py')
    from mmdet.apis import init_detector
    ckpt = make_checkpoint(R50, tmp_path / 'r50.pth', cls_std=1.0,
                           cls_bias=-3.5, reg_std=0.3, calibrate=True)
    out = str(tmp_path / 'r50.onnx')
    opts = ['--cfg-options', 'model.backbone.init_cfg=None']
    summary = export_onnx.main([str(R50), ckpt, '--out', out, '--dynamic',
                                '--shape', '128', '128'] + opts)
    assert summary['levels'] == 6
    model = init_detector(str(R50), ckpt, device='cpu',
                          cfg_options=dict(model=dict(backbone=dict(
                              init_cfg=None))))
    det = ONNXFaceDetector(out)
    for img in (images[3], images[4]):
        # every box the model returns (its score threshold is 0.02)
        assert_parity(torch_detections(model, img), det(img), thr=0.02)


def test_verify_option_and_static_shape(tmp_path, tiny_ckpt):
    import cv2
    export_onnx = load_tool('deployment/export_onnx.py')
    path = str(tmp_path / 'photo.jpg')
    cv2.imwrite(path, make_image(240, 320, 5))
    out = str(tmp_path / 'static.onnx')
    summary = export_onnx.main([str(TINY), tiny_ckpt, '--out', out,
                                '--shape', '256', '320', '--verify', path])
    assert summary['verify']['ok'] and not summary['dynamic']
    det = ONNXFaceDetector(out)
    assert det(make_image(200, 300, 6)).shape[1] == 5  # padded to 256 x 320
    with pytest.raises(ValueError,
                       match='fixed input of 256 x 320.*--dynamic'):
        det(make_image(300, 200, 7))


def test_demo_with_onnx(tmp_path, tiny_onnx, images):
    import cv2
    demo = load_tool('demo.py')
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for i, img in enumerate(images[:2]):
        cv2.imwrite(str(folder / f'{i}.png'), img)
    summary = demo.main([str(folder), '--onnx', tiny_onnx, '--out-dir',
                         str(tmp_path / 'out'), '--score-thr', str(THR)])
    assert summary['num_images'] == 2 and summary['num_faces'] > 0
    assert len(list((tmp_path / 'out' / 'vis').glob('*.png'))) == 2
    pred = json.loads((tmp_path / 'out' / 'preds' / '0.json').read_text())
    ours = ONNXFaceDetector(tiny_onnx)(images[0])
    np.testing.assert_allclose(pred['scores'], ours[:, 4], atol=1e-6)
    with pytest.raises(SystemExit):
        demo.parse_args([str(folder)])  # neither --onnx nor a config


# ------------------------------------------------------------- bad input
def test_head_not_anchor_based(tmp_path, tiny_ckpt):
    export_onnx = load_tool('deployment/export_onnx.py')
    cfg = tmp_path / 'fcos.py'
    cfg.write_text(
        f"_base_ = '{TINY}'\n"
        "model = dict(bbox_head=dict(_delete_=True, type='FCOSHead', "
        "num_classes=1, in_channels=64, feat_channels=64, stacked_convs=1, "
        "strides=[4, 8, 16, 32, 64, 128]))\n")
    with pytest.raises(ValueError, match='FCOSHead, not an anchor-based'):
        export_onnx.main([str(cfg), tiny_ckpt, '--out',
                          str(tmp_path / 'x.onnx')])


@pytest.mark.parametrize('test_cfg, message', [
    ('None', 'model.test_cfg is missing'),
    ("dict(_delete_=True, score_thr=0.1, max_per_img=10)",
     'test_cfg.nms.iou_threshold is missing'),
])
def test_test_cfg_without_nms(tmp_path, tiny_ckpt, test_cfg, message):
    export_onnx = load_tool('deployment/export_onnx.py')
    cfg = tmp_path / 'no_nms.py'
    cfg.write_text(f"_base_ = '{TINY}'\nmodel = dict(test_cfg={test_cfg})\n")
    with pytest.raises(ValueError, match=message):
        export_onnx.main([str(cfg), tiny_ckpt, '--out',
                          str(tmp_path / 'x.onnx')])


def test_checkpoint_not_fitting_config(tmp_path, tiny_ckpt):
    export_onnx = load_tool('deployment/export_onnx.py')
    with pytest.raises(ValueError, match='does not fit the config.*'
                       'bbox_head.*checkpoint .*64.* vs model .*32'):
        export_onnx.main([str(TINY), tiny_ckpt, '--out',
                          str(tmp_path / 'x.onnx'), '--cfg-options',
                          'model.bbox_head.feat_channels=32'])


def test_onnx_without_our_metadata(tmp_path, tiny_onnx):
    proto = onnx.load(tiny_onnx)
    del proto.metadata_props[:]
    bare = str(tmp_path / 'bare.onnx')
    onnx.save(proto, bare)
    with pytest.raises(ValueError, match='bare.onnx has no "hambox_mmdet" '
                       'metadata'):
        ONNXFaceDetector(bare)


def test_image_not_3_channel_uint8(tiny_onnx):
    det = ONNXFaceDetector(tiny_onnx)
    with pytest.raises(ValueError, match='3 channels'):
        det(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match='image 1 must be uint8'):
        det.detect_batch([np.zeros((64, 64, 3), np.uint8),
                          np.zeros((64, 64, 3), np.float32)])


def test_sizes_cover_aspect_ratios():
    ratios = [w / h for h, w in SIZES]
    assert min(ratios) < 0.6 and max(ratios) > 2
