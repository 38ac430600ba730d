# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Export a face detector of this package to ONNX, the model in one file.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out MODEL.onnx \
        [--dynamic] [--opset 17] [--verify IMAGE]

The graph is the network only (backbone, neck and head), with per pyramid
level the raw class scores ``cls_score_<i>`` (B, A * C, H_i, W_i) and box
deltas ``bbox_pred_<i>`` (B, A * 4, H_i, W_i); ``--dynamic`` makes batch,
height and width dynamic. Everything else inference needs (test resize,
mean / std, BGR -> RGB, size divisor, anchors, box coder, score and NMS
thresholds, box limits) goes as JSON into the file's metadata under the key
``hambox_mmdet``; :class:`hambox_mmdet.deployment.ONNXFaceDetector` runs it
with onnxruntime, numpy and OpenCV only. ``--verify IMAGE`` runs the
PyTorch model (``mmdet.apis.inference_detector``) and the ONNX detector on
the image and exits with an error when they disagree.

The TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``) is
used: the network is a plain convolutional graph, it needs no onnxscript,
exports in seconds and gives dynamic shapes through ``dynamic_axes``.
"""
import argparse
import json
import os.path as osp
import sys
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction

import hambox_mmdet  # noqa: F401  (registers HAMBox components)
from hambox_mmdet.deployment import (METADATA_FORMAT, METADATA_KEY,
                                     match_detections)

LOADERS = ('LoadImageFromFile', 'LoadImageFromNDArray', 'LoadAnnotations',
           'LoadWIDERFaceAnnotations', 'PackDetInputs')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='weights (.pth)')
    parser.add_argument('--out', required=True, help='the .onnx to write')
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch, height and width')
    parser.add_argument('--opset', type=int, default=17,
                        help='ONNX opset (default 17)')
    parser.add_argument('--shape', type=int, nargs=2, default=(640, 640),
                        metavar=('H', 'W'),
                        help='input size traced (the fixed size without '
                        '--dynamic); default 640 640')
    parser.add_argument('--verify', metavar='IMAGE',
                        help='compare PyTorch and ONNX on this image')
    parser.add_argument('--verify-score-thr', type=float, default=0.3,
                        help='compare the boxes scoring at least this')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    return parser.parse_args(argv)


class RawHeadOutputs(torch.nn.Module):
    """Backbone + neck + head of a single-stage detector; returns per level
    the class scores, then per level the box deltas (the head's raw
    ``forward``)."""

    def __init__(self, detector: torch.nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, img: torch.Tensor):
        cls_scores, bbox_preds = self.detector.bbox_head(
            self.detector.extract_feat(img))
        return tuple(cls_scores) + tuple(bbox_preds)


def check_exportable(model, config: str) -> None:
    """Raise ValueError unless the model is an anchor-based single-stage
    detector whose inference the ONNX detector reproduces exactly."""
    from mmdet.models.dense_heads import AnchorHead
    from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
    from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
    from mmdet.models.task_modules.prior_generators import AnchorGenerator
    head = getattr(model, 'bbox_head', None)
    what = f'{config}: model.bbox_head is {type(head).__name__}'
    if head is None or not isinstance(head, AnchorHead):
        raise ValueError(
            f'{what}, not an anchor-based head: export_onnx.py exports '
            'single-stage anchor heads (AnchorHead subclasses such as '
            'RetinaHead or HAMBoxHead: scores and box deltas per anchor)')
    gen = head.prior_generator
    if (not isinstance(gen, AnchorGenerator)
            or type(gen).single_level_grid_priors
            is not AnchorGenerator.single_level_grid_priors):
        raise ValueError(f'{what} with prior generator '
                         f'{type(gen).__name__}: only AnchorGenerator (and '
                         'FaceAnchorGenerator) grids are supported')
    if type(head.bbox_coder) is not DeltaXYWHBBoxCoder:
        raise ValueError(f'{what} with box coder '
                         f'{type(head.bbox_coder).__name__}: only '
                         'DeltaXYWHBBoxCoder is supported')
    for fn in ('predict_by_feat', '_predict_by_feat_single',
               '_bbox_post_process'):
        if getattr(type(head), fn) is not getattr(BaseDenseHead, fn):
            raise ValueError(f'{what}, which overrides {fn}: its inference '
                             'differs from the one the ONNX detector runs')
    if not head.test_cfg:
        raise ValueError(f'{config}: model.test_cfg is missing; the ONNX '
                         'detector needs its score_thr, nms and max_per_img')
    nms = head.test_cfg.get('nms') or {}
    if 'iou_threshold' not in nms:
        raise ValueError(f'{config}: model.test_cfg.nms.iou_threshold is '
                         'missing (the ONNX detector runs NMS with it)')
    if nms.get('type', 'nms') != 'nms':
        raise ValueError(f'{config}: test_cfg.nms type {nms.get("type")!r} '
                         "is not supported (only 'nms')")


def load_weights(model, checkpoint: str) -> dict:
    """Load a checkpoint that must fit the model exactly; returns its meta.

    Raises ValueError naming the missing, unexpected and mis-shaped keys.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint} holds no state_dict')
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f'{k}: checkpoint {tuple(state[k].shape)} vs model '
              f'{tuple(own[k].shape)}' for k in sorted(set(own) & set(state))
              if tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        def few(items):
            return ', '.join(items[:5]) + (
                f' (+{len(items) - 5} more)' if len(items) > 5 else '')
        parts = [f'{len(shapes)} with other shapes: {few(shapes)}'] * bool(
            shapes) + [f'{len(missing)} missing: {few(missing)}'] * bool(
                missing) + [f'{len(unexpected)} unexpected: '
                            f'{few(unexpected)}'] * bool(unexpected)
        raise ValueError(f'checkpoint {checkpoint} does not fit the config: '
                         + '; '.join(parts))
    model.load_state_dict(state, strict=True)
    return ckpt.get('meta', {}) or {}


def resize_metadata(cfg, config: str):
    """The test pipeline's Resize (or None), checked to be reproducible."""
    from mmdet.utils import get_test_pipeline_cfg
    resize = None
    for t in get_test_pipeline_cfg(cfg):
        name = str(t['type']).split('.')[-1]
        if name in LOADERS:
            continue
        if name != 'Resize' or resize is not None:
            raise ValueError(
                f'{config}: test transform {name} is not supported by the '
                'ONNX detector (supported: one Resize, loaders, '
                'PackDetInputs)')
        scale = t.get('scale')
        if isinstance(scale, int):
            scale = (scale, scale)
        factor = t.get('scale_factor')
        resize = dict(
            scale=list(scale) if scale is not None else None,
            scale_factor=(list(factor) if isinstance(factor, (list, tuple))
                          else factor),
            keep_ratio=bool(t.get('keep_ratio', False)),
            interpolation=t.get('interpolation', 'bilinear'))
    return resize


def build_metadata(model, cfg, config: str, meta: dict, args) -> dict:
    head = model.bbox_head
    dp = model.data_preprocessor
    if getattr(dp, 'batch_augments', None):
        raise ValueError(f'{config}: data_preprocessor.batch_augments are '
                         'not supported')
    normalize = getattr(dp, '_enable_normalize', False)
    gen, coder, test_cfg = head.prior_generator, head.bbox_coder, \
        head.test_cfg
    dataset_meta = meta.get('dataset_meta') or getattr(
        model, 'dataset_meta', None) or {}
    classes = dataset_meta.get('classes')
    n = gen.num_levels
    return dict(
        format=METADATA_FORMAT,
        exported_from=dict(config=osp.basename(config),
                           checkpoint=osp.basename(args.checkpoint),
                           hambox_mmdet=hambox_mmdet.__version__,
                           torch=torch.__version__, opset=args.opset),
        input=dict(name='input', dynamic=bool(args.dynamic),
                   shape=[1, 3, *args.shape]),
        outputs=dict(cls_scores=[f'cls_score_{i}' for i in range(n)],
                     bbox_preds=[f'bbox_pred_{i}' for i in range(n)]),
        head=type(head).__name__,
        num_classes=int(head.num_classes),
        use_sigmoid=bool(head.use_sigmoid_cls),
        num_base_priors=int(head.num_base_priors),
        classes=list(classes) if classes else None,
        anchors=dict(
            generator=type(gen).__name__,
            strides=[[float(s[0]), float(s[1])] for s in gen.strides],
            base_anchors=[a.tolist() for a in gen.base_anchors]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            means=[float(m) for m in coder.means],
            stds=[float(s) for s in coder.stds],
            wh_ratio_clip=16 / 1000,
            clip_border=bool(coder.clip_border),
            add_ctr_clamp=bool(coder.add_ctr_clamp),
            ctr_clamp=float(coder.ctr_clamp)),
        test_cfg=dict(
            nms_pre=int(test_cfg.get('nms_pre', -1)),
            score_thr=float(test_cfg.get('score_thr', 0)),
            iou_threshold=float(test_cfg['nms']['iou_threshold']),
            max_per_img=int(test_cfg.get('max_per_img', 100)),
            min_bbox_size=float(test_cfg.get('min_bbox_size', -1))),
        preprocess=dict(
            resize=resize_metadata(cfg, config),
            mean=dp.mean.view(-1).tolist() if normalize else [0., 0., 0.],
            std=dp.std.view(-1).tolist() if normalize else [1., 1., 1.],
            bgr_to_rgb=bool(getattr(dp, '_channel_conversion', False)),
            pad_size_divisor=int(getattr(dp, 'pad_size_divisor', 1)),
            pad_value=float(getattr(dp, 'pad_value', 0))))


def export(args) -> dict:
    """Build, load, export and (optionally) verify; returns a summary."""
    import onnx
    from mmdet.apis import init_detector
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = init_detector(cfg, checkpoint=None, device='cpu')
    check_exportable(model, args.config)
    meta = load_weights(model, args.checkpoint)
    if meta.get('dataset_meta'):
        model.dataset_meta = meta['dataset_meta']
    model.eval()
    metadata = build_metadata(model, cfg, args.config, meta, args)
    n = len(metadata['outputs']['cls_scores'])
    out_names = metadata['outputs']['cls_scores'] + metadata['outputs'][
        'bbox_preds']
    dynamic_axes = None
    if args.dynamic:
        dynamic_axes = {'input': {0: 'batch', 2: 'height', 3: 'width'}}
        for i, name in enumerate(out_names):
            dynamic_axes[name] = {0: 'batch', 2: f'h{i % n}', 3: f'w{i % n}'}
    dummy = torch.zeros(1, 3, *args.shape)
    # eval() on the wrapper too: the exporter restores the wrapper's mode
    # afterwards, and a wrapper left in training mode would put every
    # BatchNorm of the model into training mode
    wrapper = RawHeadOutputs(model).eval()
    start = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(wrapper, (dummy, ), args.out,
                          dynamo=False, opset_version=args.opset,
                          input_names=['input'], output_names=out_names,
                          dynamic_axes=dynamic_axes, do_constant_folding=True)
    assert not model.training
    proto = onnx.load(args.out)
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    onnx.checker.check_model(proto)
    onnx.save(proto, args.out)
    summary = dict(onnx=args.out, export_s=round(time.perf_counter() - start,
                                                 2), levels=n,
                   dynamic=bool(args.dynamic), opset=args.opset)
    if args.verify:
        summary['verify'] = verify(model, args.out, args.verify,
                                   args.verify_score_thr)
    return summary


def verify(model, onnx_file: str, image: str, score_thr: float) -> dict:
    """PyTorch vs. ONNX on one image; raises RuntimeError on disagreement
    (a different count above ``score_thr``, boxes > 0.5 px or scores >
    1e-3 apart)."""
    import cv2
    from mmdet.apis import inference_detector

    from hambox_mmdet.deployment import ONNXFaceDetector
    img = cv2.imread(image, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {image}')
    pred = inference_detector(model, img).pred_instances
    ref = np.concatenate([pred.bboxes.numpy(), pred.scores.numpy()[:, None]],
                         1)
    ours = ONNXFaceDetector(onnx_file)(img)
    result = match_detections(ref, ours, score_thr)
    if not result['ok']:
        raise RuntimeError(f'--verify {image}: PyTorch and ONNX disagree: '
                           f'{result}')
    return result


def main(argv=None) -> dict:
    args = parse_args(argv)
    for path, what in ((args.config, 'config'),
                       (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            sys.exit(f'error: {what} not found: {path}')
    summary = export(args)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
