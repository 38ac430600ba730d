# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""A face detector on onnxruntime, numpy and OpenCV only.

The ONNX file written by ``tools/deployment/export_onnx.py`` holds the
network (backbone, neck and head: per level the raw class scores and box
deltas) and, in its metadata under the key ``hambox_mmdet``, everything the
rest of inference needs: the test resize, the normalisation and padding,
the anchors, the box coder and the test settings. This module rebuilds
mmdet's pre- and post-processing from them; nothing here imports torch,
mmcv or mmdet.
"""
import json
from typing import List, Optional, Sequence

import numpy as np

from .postprocess import (batched_nms, decode_deltas, grid_anchors,
                          level_scores, select_topk)
from .preprocess import check_image, normalize, pad_batch, resize_image

METADATA_KEY = 'hambox_mmdet'
METADATA_FORMAT = 1
#: The entries of the metadata that inference reads, by section.
REQUIRED_METADATA = dict(
    input=('name', 'dynamic', 'shape'),
    outputs=('cls_scores', 'bbox_preds'),
    num_classes=None,
    use_sigmoid=None,
    anchors=('base_anchors', 'strides'),
    bbox_coder=('means', 'stds', 'wh_ratio_clip', 'clip_border',
                'add_ctr_clamp', 'ctr_clamp'),
    test_cfg=('nms_pre', 'score_thr', 'iou_threshold', 'max_per_img',
              'min_bbox_size'),
    preprocess=('resize', 'mean', 'std', 'bgr_to_rgb', 'pad_size_divisor',
                'pad_value'))


def check_metadata(meta, onnx_file: str) -> None:
    """Raise ValueError naming every entry of :data:`REQUIRED_METADATA`
    that is missing (a damaged or hand-edited file), and per-level lists of
    different lengths."""
    if not isinstance(meta, dict):
        raise ValueError(f'{onnx_file}: the "{METADATA_KEY}" metadata is not '
                         f'a JSON object but {type(meta).__name__}')
    missing = []
    for section, keys in REQUIRED_METADATA.items():
        if section not in meta:
            missing.append(section)
        elif keys is not None:
            if not isinstance(meta[section], dict):
                missing.extend(f'{section}.{k}' for k in keys)
                continue
            missing.extend(f'{section}.{k}' for k in keys
                           if k not in meta[section])
    if missing:
        raise ValueError(
            f'{onnx_file}: the "{METADATA_KEY}" metadata lacks '
            f'{", ".join(missing)}: the file is damaged or was edited; '
            're-export it with tools/deployment/export_onnx.py')
    levels = dict(cls_scores=meta['outputs']['cls_scores'],
                  bbox_preds=meta['outputs']['bbox_preds'],
                  base_anchors=meta['anchors']['base_anchors'],
                  strides=meta['anchors']['strides'])
    lengths = {k: len(v) if isinstance(v, list) else None
               for k, v in levels.items()}
    if None in lengths.values() or len(set(lengths.values())) != 1:
        raise ValueError(
            f'{onnx_file}: the "{METADATA_KEY}" metadata has per-level lists '
            f'of different lengths or types ({lengths}): the file is '
            'damaged; re-export it')


def read_metadata(session, onnx_file: str) -> dict:
    """The ``hambox_mmdet`` metadata of an onnxruntime session, checked."""
    props = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in props:
        raise ValueError(
            f'{onnx_file} has no "{METADATA_KEY}" metadata: it was not '
            'written by tools/deployment/export_onnx.py, so its anchors, box '
            'coder and preprocessing are unknown (metadata keys present: '
            f'{sorted(props) or "none"})')
    try:
        meta = json.loads(props[METADATA_KEY])
    except json.JSONDecodeError as e:
        raise ValueError(f'{onnx_file}: the "{METADATA_KEY}" metadata is not '
                         f'valid JSON ({e})') from None
    if not isinstance(meta, dict):
        check_metadata(meta, onnx_file)
    if meta.get('format') != METADATA_FORMAT:
        raise ValueError(
            f'{onnx_file}: metadata format {meta.get("format")!r} is not the '
            f'supported {METADATA_FORMAT}; re-export it with this version')
    check_metadata(meta, onnx_file)
    return meta


class ONNXFaceDetector:
    """Run an exported face detector with onnxruntime.

    Args:
        onnx_file (str): a model written by ``export_onnx.py``.
        providers (list, optional): onnxruntime execution providers, e.g.
            ``['CUDAExecutionProvider', 'CPUExecutionProvider']``. Defaults
            to the CPU.
        score_thr (float, optional): override the exported score threshold.
        session_options: an ``onnxruntime.SessionOptions`` (threads ...).

    Calling it on a BGR ``uint8`` image (H, W, 3) returns an (N, 5) float32
    array ``x1 y1 x2 y2 score`` in that image's pixels, best first, exactly
    as mmdet's ``inference_detector`` with the exported config would.

    Example:
        >>> det = ONNXFaceDetector('hambox.onnx')
        >>> faces = det(cv2.imread('photo.jpg'))       # (N, 5)
        >>> batch = det.detect_batch([img1, img2])      # list of (N_i, 5)
    """

    def __init__(self,
                 onnx_file: str,
                 providers: Optional[Sequence] = None,
                 score_thr: Optional[float] = None,
                 session_options=None) -> None:
        import onnxruntime as ort
        self.onnx_file = str(onnx_file)
        self.session = ort.InferenceSession(
            self.onnx_file,
            sess_options=session_options,
            providers=list(providers or ['CPUExecutionProvider']))
        self.meta = read_metadata(self.session, self.onnx_file)
        m = self.meta
        self.input_name = m['input']['name']
        self.output_names = m['outputs']['cls_scores'] + m['outputs'][
            'bbox_preds']
        self.num_levels = len(m['outputs']['cls_scores'])
        self.base_anchors = [
            np.asarray(a, np.float32) for a in m['anchors']['base_anchors']
        ]
        self.strides = m['anchors']['strides']
        self.test_cfg = dict(m['test_cfg'])
        if score_thr is not None:
            self.test_cfg['score_thr'] = float(score_thr)
        self.dynamic = bool(m['input']['dynamic'])
        self._anchor_cache = {}

    # ------------------------------------------------------------------ API
    @property
    def classes(self) -> List[str]:
        """list[str]: the class names (``['face']``)."""
        return list(self.meta.get('classes') or [])

    def __call__(self, img: np.ndarray, return_labels: bool = False):
        """Detect in one BGR uint8 image; (N, 5) ``x1 y1 x2 y2 score``.

        With ``return_labels=True`` also the (N, ) class indices.
        """
        return self.detect_batch([img], return_labels=return_labels)[0]

    def detect_batch(self, imgs: Sequence[np.ndarray],
                     batch_size: int = 8, return_labels: bool = False
                     ) -> list:
        """Detect in several images: a list of (N_i, 5) arrays.

        Images are preprocessed one by one and run ``batch_size`` at a time
        when the model has a dynamic batch axis (padded to the largest of
        the batch, as mmdet batches them), else one at a time.
        """
        for i, img in enumerate(imgs):
            check_image(img, f'image {i}')
        if not self.dynamic:
            batch_size = 1
        out = []
        for start in range(0, len(imgs), batch_size):
            out.extend(self._run(imgs[start:start + batch_size],
                                 return_labels))
        return out

    # ------------------------------------------------------------ internals
    def preprocess(self, imgs: Sequence[np.ndarray]):
        """Images -> (B, 3, H, W) float32 batch, img shapes, scale factors."""
        p = self.meta['preprocess']
        chws, shapes, factors = [], [], []
        for img in imgs:
            resized, factor = resize_image(img, p['resize'])
            chws.append(normalize(resized, p['mean'], p['std'],
                                  p['bgr_to_rgb']))
            shapes.append(resized.shape[:2])
            factors.append(factor)
        fixed = None
        if not self.dynamic:
            fixed = tuple(self.meta['input']['shape'][2:])
        batch = pad_batch(chws, p['pad_size_divisor'], p['pad_value'],
                          min_hw=fixed)
        if fixed is not None and batch.shape[2:] != fixed:
            raise ValueError(
                f'{self.onnx_file} was exported for a fixed input of '
                f'{fixed[0]} x {fixed[1]} (H x W); this image needs '
                f'{batch.shape[2]} x {batch.shape[3]} after resizing and '
                'padding. Export with --dynamic for any image size.')
        return batch, shapes, factors

    def _anchors(self, level: int, featmap_size) -> np.ndarray:
        key = (level, tuple(featmap_size))
        if key not in self._anchor_cache:
            self._anchor_cache[key] = grid_anchors(
                self.base_anchors[level], self.strides[level], featmap_size)
        return self._anchor_cache[key]

    def _run(self, imgs, return_labels):
        batch, shapes, factors = self.preprocess(imgs)
        outputs = self.session.run(self.output_names,
                                   {self.input_name: batch})
        cls_outs = outputs[:self.num_levels]
        reg_outs = outputs[self.num_levels:]
        results = []
        for i in range(len(imgs)):
            dets, labels = self.postprocess(
                [c[i] for c in cls_outs], [r[i] for r in reg_outs],
                shapes[i], factors[i])
            results.append((dets, labels) if return_labels else dets)
        return results

    def postprocess(self, cls_outs, reg_outs, img_shape, scale_factor):
        """mmdet's ``predict_by_feat`` for one image.

        Args:
            cls_outs (list[np.ndarray]): per level (A * C', H, W) logits.
            reg_outs (list[np.ndarray]): per level (A * 4, H, W) deltas.
            img_shape (tuple[int, int]): (h, w) of the resized image.
            scale_factor (tuple[float, float]): (w_scale, h_scale).

        Returns:
            tuple: (N, 5) float32 detections in original pixels and their
            (N, ) int64 labels.
        """
        m, cfg = self.meta, self.test_cfg
        scores_all, labels_all, anchors_all, deltas_all = [], [], [], []
        for lvl, (cls_out, reg_out) in enumerate(zip(cls_outs, reg_outs)):
            scores = level_scores(cls_out, m['num_classes'],
                                  m['use_sigmoid'])
            deltas = reg_out.transpose(1, 2, 0).reshape(-1, 4)
            scores, idx, labels = select_topk(scores, cfg['score_thr'],
                                              cfg['nms_pre'])
            anchors = self._anchors(lvl, cls_out.shape[1:])
            scores_all.append(scores)
            labels_all.append(labels)
            anchors_all.append(anchors[idx])
            deltas_all.append(deltas[idx])
        scores = np.concatenate(scores_all).astype(np.float32)
        labels = np.concatenate(labels_all).astype(np.int64)
        coder = m['bbox_coder']
        boxes = decode_deltas(
            np.concatenate(anchors_all), np.concatenate(deltas_all),
            coder['means'], coder['stds'], coder['wh_ratio_clip'],
            coder['add_ctr_clamp'], coder['ctr_clamp'],
            max_shape=img_shape if coder['clip_border'] else None)
        # mmdet's rescale: times 1 / scale_factor (w, h, w, h)
        boxes = boxes * np.asarray([1 / s for s in scale_factor] * 2,
                                   np.float32)
        if cfg['min_bbox_size'] >= 0:
            w = boxes[:, 2] - boxes[:, 0]
            h = boxes[:, 3] - boxes[:, 1]
            valid = (w > cfg['min_bbox_size']) & (h > cfg['min_bbox_size'])
            boxes, scores, labels = boxes[valid], scores[valid], labels[valid]
        keep = batched_nms(boxes, scores, labels, cfg['iou_threshold'])
        keep = keep[:cfg['max_per_img']]
        dets = np.concatenate([boxes[keep], scores[keep, None]], 1)
        return dets.astype(np.float32), labels[keep]
