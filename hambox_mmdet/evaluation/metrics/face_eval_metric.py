# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""AFW / PASCAL Face AP (Mathias et al. toolkit) as an mmengine metric."""
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
from mmengine.logging import MMLogger

from mmdet.registry import METRICS
from ..face_eval import (MIN_FACE_SIZE, FaceEvalGT, FaceEvalResult,
                         check_eval_args, image_indices, image_key)
from ..face_eval import evaluate as evaluate_face_eval
from ..face_eval import load_ground_truth as load_face_eval_gt
from ..face_eval import plot_curves as plot_face_eval_curves
from ..face_eval import write_predictions as write_face_eval_predictions
from .base_face_metric import BaseFaceMetric
from .predictions import predicted_boxes


def _dataset_name(ann_file: str) -> str:
    name = Path(ann_file).name.lower()
    if 'afw' in name:
        return 'afw'
    if 'pascal' in name:
        return 'pascal'
    return 'face_eval'


@METRICS.register_module()
class FaceEvalMetric(BaseFaceMetric):
    """AFW or PASCAL Face AP, exactly as the toolkit of Mathias et al.
    (ECCV 2014) that papers quote (see
    :mod:`hambox_mmdet.evaluation.face_eval`).

    Reports ``<prefix>/ap`` (no calibration) and ``<prefix>/ap_calibrated``
    (after the toolkit's 5-iteration box-style calibration, what its plots
    and the papers report), both in [0, 1]. Images are identified by the
    base name of ``img_path`` up to the first dot, as in the toolkit;
    annotated images without a prediction count as having no detection.

    Boxes are taken as predicted (``x1 y1 x2 y2`` in original image
    coordinates, mmdet's test loop rescales them); the toolkit's +1-pixel
    IoU treats them as inclusive pixel corners, and the calibration
    absorbs any systematic box-style difference.

    Args:
        ann_file (str): the toolkit's ``.mat`` (``new_annotations_AFW.mat``
            or ``Annotations_Face_PASCALLayout_large_fixed.mat``); ``~`` is
            expanded. Read at the first :meth:`compute_metrics`.
        min_size (int): faces narrower or lower are ignored; detections are
            kept where a side exceeds ``int(sqrt(0.5 * min_size ** 2))``.
            Defaults to 30 (the toolkit's default).
        iou_thr (float): IoU above which a face is found. Defaults to 0.5.
        num_calib_iters (int): scorings of the calibration (1: none).
            Defaults to 5.
        outfile (str, optional): also write the predictions there in the
            toolkit's text layout (``image score x1 y1 x2 y2``). Defaults
            to None.
        plot_file (str, optional): PNG of the two PR curves. Defaults to
            None.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): metric name prefix. Defaults to None:
            ``'afw'`` or ``'pascal'`` from the annotation file's name
            (``'face_eval'`` otherwise).
    """

    default_prefix: Optional[str] = 'face_eval'

    def __init__(self,
                 ann_file: str,
                 min_size: int = MIN_FACE_SIZE,
                 iou_thr: float = 0.5,
                 num_calib_iters: int = 5,
                 outfile: Optional[str] = None,
                 plot_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        ann_file = str(Path(str(ann_file)).expanduser())
        super().__init__(
            outfile=outfile,
            plot_file=plot_file,
            collect_device=collect_device,
            prefix=prefix or _dataset_name(ann_file))
        check_eval_args(iou_thr, num_calib_iters)
        self.ann_file = ann_file
        self.min_size = min_size
        self.iou_thr = iou_thr
        self.num_calib_iters = num_calib_iters

    @property
    def log_name(self) -> str:
        """The metric's prefix (``'afw'``, ``'pascal'``)."""
        return self.prefix

    def load_ground_truth(self) -> FaceEvalGT:
        """The annotation file's faces."""
        return load_face_eval_gt(self.ann_file, self.min_size)

    def sample_result(self, data_sample: dict) -> tuple:
        """``(image name, scores (P, ), boxes (P, 4))``;
        ``pred_instances.bboxes`` are ``x1 y1 x2 y2``, ``scores`` (P, )."""
        boxes, scores = predicted_boxes(data_sample)
        return Path(data_sample['img_path']).name, scores, boxes

    def result_key(self, item: tuple) -> str:
        """The toolkit's image key of the image name."""
        return image_key(item[0])

    def collect_predictions(
            self, results: list,
            logger: MMLogger) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first prediction of each image as the toolkit's rows: image
        keys (D, ), scores (D, ) and boxes (D, 4)."""
        first = self.first_per_image(results, logger)
        scores = [sc for _, sc, _ in first.values()]
        boxes = [bx for _, _, bx in first.values()]
        counts = [len(sc) for sc in scores]
        keys = np.repeat(np.array(list(first), dtype=str), counts)
        scores = np.concatenate(scores) if scores else np.zeros(0)
        boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4))
        return keys, scores, boxes

    def write_outfile(self, preds: tuple, logger: MMLogger) -> None:
        """The toolkit's text layout, ``image score x1 y1 x2 y2``."""
        write_face_eval_predictions(self.outfile, *preds)
        logger.info(f'{self.prefix}: detections written to {self.outfile}')

    def evaluate_predictions(self, preds: tuple,
                             logger: MMLogger) -> FaceEvalResult:
        keys, scores, boxes = preds
        return evaluate_face_eval(
            self.gt,
            image_indices(self.gt, keys),
            scores,
            boxes,
            iou_thr=self.iou_thr,
            num_calib_iters=self.num_calib_iters)

    def report_result(self, result: FaceEvalResult, preds: tuple,
                      logger: MMLogger) -> None:
        logger.info(self.summary(result, self.prefix.upper()))

    def plot_result(self, result: FaceEvalResult, logger: MMLogger) -> None:
        plot_face_eval_curves(result, self.plot_file, self.prefix.upper())
        logger.info(f'{self.prefix}: PR curves saved to {self.plot_file}')

    def to_metrics(self, result: FaceEvalResult, preds: tuple,
                   logger: MMLogger) -> Dict[str, float]:
        """``{'ap': AP, 'ap_calibrated': AP}`` in [0, 1]."""
        return dict(ap=result.ap, ap_calibrated=result.ap_calibrated)

    @staticmethod
    def summary(result: FaceEvalResult, name: str = '') -> str:
        """The two APs and what was counted, as log lines
        (:meth:`FaceEvalResult.summary`)."""
        return result.summary(name)
