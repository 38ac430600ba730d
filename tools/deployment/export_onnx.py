# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Export a face detector of this package to ONNX, the model in one file.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out MODEL.onnx \
        [--dynamic] [--opset 17] [--verify IMAGE] [--overwrite]

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

The model is written under a temporary name next to ``--out`` and moved
there only once complete and verified: a failed export or ``--verify``
leaves an existing ``--out`` as it was and no unverified file. An existing
``--out`` is replaced only with ``--overwrite``; ``--out`` may not be one of
the inputs. The checkpoint must fit the config exactly
(:func:`hambox_mmdet.utils.load_checkpoint_strict`, the rule
``tools/demo.py`` and ``tools/test.py`` apply too).

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

import hambox_mmdet
from hambox_mmdet.deployment import (METADATA_FORMAT, METADATA_KEY,
                                     match_detections)
from hambox_mmdet.safe_io import (atomic_output, check_new_output,
                                  check_not_inputs)
from hambox_mmdet.utils import load_checkpoint_strict, register_all_modules

LOADERS = ('LoadImageFromFile', 'LoadImageFromNDArray', 'LoadAnnotations',
           'LoadWIDERFaceAnnotations', 'PackDetInputs')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='weights (.pth)')
    parser.add_argument(
        '--out', required=True,
        help='the .onnx to write; written under a temporary name and moved '
        'there only once complete and (with --verify) verified')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace --out if it exists (it is replaced only after the new '
        'model passed --verify; without this flag an existing --out is an '
        'error)')
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

    Raises ValueError naming the missing, unexpected and mis-shaped keys
    (the rule of :func:`hambox_mmdet.utils.load_checkpoint_strict`, shared
    with ``tools/demo.py`` and ``tools/test.py``).
    """
    return load_checkpoint_strict(model, checkpoint)


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
    register_all_modules()
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
    summary = dict(onnx=args.out)
    # written under a temporary name in the same folder, moved onto --out
    # only when complete and verified: a failed check leaves the previous
    # model in place and no unverified file behind
    with atomic_output(args.out) as tmp:
        with torch.no_grad():
            torch.onnx.export(wrapper, (dummy, ), tmp,
                              dynamo=False, opset_version=args.opset,
                              input_names=['input'], output_names=out_names,
                              dynamic_axes=dynamic_axes,
                              do_constant_folding=True)
        assert not model.training
        proto = onnx.load(tmp)
        entry = proto.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
        onnx.checker.check_model(proto)
        onnx.save(proto, tmp)
        summary.update(export_s=round(time.perf_counter() - start, 2),
                       levels=n, dynamic=bool(args.dynamic), opset=args.opset)
        if args.verify:
            summary['verify'] = verify(model, tmp, args.verify,
                                       args.verify_score_thr)
    return summary


def verify(model, onnx_file: str, image: str, score_thr: float) -> dict:
    """PyTorch vs. ONNX on one image; raises RuntimeError on disagreement
    (a different count above ``score_thr``, boxes > 0.5 px or scores >
    1e-3 apart)."""
    from mmdet.apis import inference_detector

    from hambox_mmdet.deployment import ONNXFaceDetector
    img = read_verify_image(image)
    pred = inference_detector(model, img).pred_instances
    ref = np.concatenate([pred.bboxes.numpy(), pred.scores.numpy()[:, None]],
                         1)
    ours = ONNXFaceDetector(onnx_file)(img)
    result = match_detections(ref, ours, score_thr)
    if not result['ok']:
        raise RuntimeError(f'--verify {image}: PyTorch and ONNX disagree: '
                           f'{result}')
    return result


def read_verify_image(image: str) -> np.ndarray:
    """The --verify image (BGR); ValueError naming it if unreadable."""
    import cv2
    if not osp.isfile(image):
        raise FileNotFoundError(f'--verify image not found: {image}')
    img = cv2.imread(image, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'--verify {image}: not a readable image')
    return img


def check_args(args) -> None:
    """Everything checkable before the model is built: inputs exist and are
    readable, --out is neither an input nor (without --overwrite) an
    existing file."""
    for path, what in ((args.config, 'config'),
                       (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} not found: {path}')
    inputs = [args.config, args.checkpoint] + (
        [args.verify] if args.verify else [])
    check_not_inputs([args.out], inputs)
    check_new_output(args.out, args.overwrite)
    if args.verify:
        read_verify_image(args.verify)


#: What a bad input raises (one line, exit status 1, from the command line).
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError,
               IsADirectoryError, RuntimeError)


def main(argv=None) -> dict:
    args = parse_args(argv)
    check_args(args)
    summary = export(args)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS as e:
        sys.exit(f'error: {e}')
