# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""WIDER FACE Easy / Medium / Hard AP as an mmengine metric."""
import math
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import numpy as np
from mmengine.logging import MMLogger

from mmdet.registry import METRICS
from ..wider import (IOU_ARITH_MODES, WiderEvalResult, WiderFaceGT,
                     check_pred_dir)
from ..wider import evaluate as evaluate_wider
from ..wider import load_ground_truth as load_wider_gt
from ..wider import plot_curves as plot_wider_curves
from ..wider import write_predictions as write_wider_predictions
from .base_face_metric import BaseFaceMetric
from .predictions import predicted_boxes, xywh_score


def wider_image_key(img_path: str) -> str:
    """``'.../<event>/<stem>.jpg'`` -> ``'<event>/<stem>'``."""
    path = Path(img_path)
    return f'{path.parent.name}/{path.stem}'


@METRICS.register_module()
class WIDERFaceMetric(BaseFaceMetric):
    """The official WIDER FACE val evaluation (Easy / Medium / Hard AP).

    Predictions are matched against the official evaluation ground truth
    (``eval_tools/ground_truth/*.mat``) exactly as the MATLAB tool does (see
    :mod:`hambox_mmdet.evaluation.wider`). Images are
    identified by ``'<event folder>/<file stem>'`` of ``img_path``.

    By default the faces of val images without a prediction count as missed
    (the official full-val protocol, the numbers papers quote). Evaluating
    only the images that were predicted is an explicit choice
    (``only_present_images=True``) and is reported as such in the log. A
    box with ``x2 < x1`` or ``y2 < y1`` (negative width or height) is
    scored as the official tool scores it, with a warning giving the count.

    Args:
        gt_dir (str, optional): folder with ``wider_face_val.mat`` and
            ``wider_{easy,medium,hard}_val.mat`` (``~`` expanded). Read at
            the first :meth:`compute_metrics`, not at construction. None
            (with ``outfile_prefix``): only write the predictions, e.g. for a
            WIDER FACE test-set submission; no AP is computed.
        iou_thr (float): overlap threshold. Defaults to 0.5.
        only_present_images (bool): count only the faces of images that
            were predicted. Defaults to False.
        iou_arith (str): ``'auto'`` (MATLAB's integer arithmetic for the
            official int32 boxes), ``'int32'`` or ``'float'`` (the Python
            ports). Defaults to ``'auto'``.
        outfile_prefix (str, optional): if set, the predictions are also
            written there in the official submission layout
            (``<prefix>/<event>/<stem>.txt``): a new or empty folder, or one
            written before (whose files are then replaced, stale ones
            removed); a folder holding other files is refused
            (:func:`~hambox_mmdet.evaluation.wider.write_predictions`).
            Defaults to None.
        plot_file (str, optional): PNG of the precision-recall curves.
            Defaults to None.
        outer_face_recall (bool | dict): Also report the recall of the
            final detections per number of matched anchors D (0, 1, 2, 3,
            4, >= 5) and per face size, over the faces the Hard setting
            counts (:mod:`hambox_mmdet.analysis.outer_faces`), at two
            operating points: ``score_thr`` and the Hard curve's best-F1
            threshold. Logged as a table and returned as flat scalars (so in
            the test JSON): ``outer/<point>/D<bin>`` and
            ``outer/<point>/size<bin>`` (left out for an empty bin), with
            the bins' face counts (``..._faces``). ``True`` takes the
            defaults; a dict may set ``score_thr`` (0.5),
            ``anchor_generator`` (the model's; default ``FaceAnchorGenerator()``: scale 0.68, strides 4-128),
            ``match_iou_thr`` (0.35, the stage-1 threshold) and
            ``correct_iou_thr`` (0.5). Defaults to False (off).
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): metric name prefix. Defaults to None
            (``'widerface'``).
    """

    default_prefix: Optional[str] = 'widerface'
    benchmark = 'WIDER FACE'

    def __init__(self,
                 gt_dir: Optional[str],
                 iou_thr: float = 0.5,
                 only_present_images: bool = False,
                 iou_arith: str = 'auto',
                 outfile_prefix: Optional[str] = None,
                 plot_file: Optional[str] = None,
                 outer_face_recall: Union[bool, dict] = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            outfile=outfile_prefix,
            plot_file=plot_file,
            collect_device=collect_device,
            prefix=prefix)
        if iou_arith not in IOU_ARITH_MODES:
            raise ValueError(f'iou_arith must be one of {IOU_ARITH_MODES}, '
                             f'got {iou_arith!r}')
        if gt_dir is None and outfile_prefix is None:
            raise ValueError(
                'WIDERFaceMetric: give gt_dir (the folder of the official '
                'wider_face_val.mat and wider_{easy,medium,hard}_val.mat) to '
                'evaluate, or gt_dir=None with outfile_prefix to only write '
                'the submission files (WIDER FACE test set)')
        self.gt_dir = gt_dir
        self.iou_thr = iou_thr
        self.only_present_images = only_present_images
        self.iou_arith = iou_arith
        if outfile_prefix is not None:
            # a folder holding other files is refused now, not after the
            # whole inference (write_predictions refuses it again at the end)
            check_pred_dir(outfile_prefix)
        self.outer_face_recall = self._outer_cfg(outer_face_recall)

    @property
    def outfile_prefix(self) -> Optional[str]:
        """The submission folder (the base class's ``outfile``)."""
        return self.outfile

    @outfile_prefix.setter
    def outfile_prefix(self, value: Optional[str]) -> None:
        self.outfile = value

    @staticmethod
    def _outer_cfg(option: Union[bool, dict]) -> Optional[dict]:
        """The outer-face recall settings, or None when off."""
        if option is False or option is None:
            return None
        cfg = dict(score_thr=0.5, anchor_generator=dict(
            type='FaceAnchorGenerator'), match_iou_thr=0.35,
                   correct_iou_thr=0.5)
        if option is not True:
            unknown = set(option) - set(cfg)
            if unknown:
                raise ValueError(
                    f'outer_face_recall: unknown key(s) {sorted(unknown)}; '
                    f'known: {sorted(cfg)}')
            cfg.update(option)
        return cfg

    def load_ground_truth(self) -> WiderFaceGT:
        """The official ``.mat`` ground truth of ``gt_dir``."""
        return load_wider_gt(self.gt_dir)

    def sample_result(self, data_sample: dict) -> tuple:
        """``(key, (P, 5) x y w h score)``, and with outer-face recall the
        test scale and the padded network input shape."""
        item = (wider_image_key(data_sample['img_path']),
                xywh_score(*predicted_boxes(data_sample)))
        if self.outer_face_recall is not None:
            # the padded network input and the test scale, for D
            shape = (data_sample.get('batch_input_shape')
                     or data_sample.get('pad_shape')
                     or data_sample['img_shape'])
            scale = data_sample.get('scale_factor', (1., 1.))
            item += (tuple(float(x) for x in scale),
                     tuple(int(x) for x in shape[:2]))
        return item

    def collect_predictions(self, results: list,
                            logger: MMLogger) -> Tuple[dict, dict]:
        """``preds`` (key -> (P, 5) ``x y w h score``, the first of each
        image) and ``metas`` (key -> the rest of its item)."""
        first = self.first_per_image(results, logger)
        preds: Dict[str, np.ndarray] = {}
        metas = {}
        for key, (_, dets, *meta) in first.items():
            preds[key] = dets
            metas[key] = meta
        return preds, metas

    def write_outfile(self, preds: tuple, logger: MMLogger) -> None:
        """The official submission layout: a folder of an earlier run is
        rewritten whole (its stale files removed); one holding other files
        is refused (:func:`~hambox_mmdet.evaluation.wider.write_predictions`).
        """
        stale = write_wider_predictions(self.outfile, preds[0])
        logger.info(f'WIDER FACE predictions written to '
                    f'{self.outfile}' +
                    (f' ({len(stale)} file(s) of an earlier run removed)'
                     if stale else ''))

    def evaluate_predictions(self, preds: tuple,
                             logger: MMLogger) -> Optional[WiderEvalResult]:
        """The official evaluation; None without ``gt_dir`` (the
        predictions were only written)."""
        if self.gt_dir is None:
            logger.info(f'WIDER FACE: no gt_dir, so no AP: {len(preds[0])} '
                        'images written in the official submission layout')
            return None
        return evaluate_wider(
            preds[0],
            self.gt,
            iou_thr=self.iou_thr,
            only_present_images=self.only_present_images,
            iou_arith=self.iou_arith)

    def report_result(self, result: WiderEvalResult, preds: tuple,
                      logger: MMLogger) -> None:
        logger.info('\n' + self.summary(result))

    def plot_result(self, result: WiderEvalResult, logger: MMLogger) -> None:
        plot_wider_curves(result, self.plot_file)
        logger.info(f'WIDER FACE PR curves saved to {self.plot_file}')

    def to_metrics(self, result: WiderEvalResult, preds: tuple,
                   logger: MMLogger) -> Dict[str, float]:
        """``{'easy': AP, 'medium': AP, 'hard': AP}``, APs in [0, 1], and
        the outer-face recall when asked for."""
        metrics = {s: float(ap) for s, ap in result.aps.items()}
        if self.outer_face_recall is not None:
            metrics.update(self._outer_metrics(*preds, result, logger))
        return metrics

    def _outer_metrics(self, preds: Dict[str, np.ndarray], metas: dict,
                       result: WiderEvalResult, logger) -> Dict[str, float]:
        """Outer-face recall tables, logged, as flat metrics."""
        from mmdet.registry import TASK_UTILS

        from hambox_mmdet.analysis import (best_f1_score_thr,
                                           format_outer_face_recall,
                                           outer_face_recall_wider)
        cfg = self.outer_face_recall
        hard = result.settings['hard']
        points = {
            f"score>={cfg['score_thr']:g}": float(cfg['score_thr']),
            'hard_best_f1': best_f1_score_thr(hard.precision, hard.recall,
                                              result.thresholds,
                                              result.score_range),
        }
        if not math.isfinite(points['hard_best_f1']):
            del points['hard_best_f1']  # no Hard curve (no true positive)
        items = []
        for key, dets in preds.items():
            boxes = dets.copy()
            boxes[:, 2:4] += boxes[:, :2]  # x y w h -> x1 y1 x2 y2
            items.append((key, boxes, *metas[key]))
        tables = outer_face_recall_wider(
            items, self.gt, points, TASK_UTILS.build(cfg['anchor_generator']),
            cfg['match_iou_thr'], cfg['correct_iou_thr'])
        self.outer_face_tables = tables  # nested, for tools that print them
        best = (f"hard_best_f1 = score >= {points['hard_best_f1']:.4f}"
                if 'hard_best_f1' in points else 'no Hard best-F1 point')
        logger.info(
            'Outer-face recall (faces of the Hard set, final detections; D = '
            f"matched anchors at IoU >= {cfg['match_iou_thr']}; {best}):\n" +
            format_outer_face_recall(tables))
        flat = {}
        for point, table in tables.items():
            flat[f'outer/{point}/score_thr'] = table['score_thr']
            flat[f'outer/{point}/all'] = table['all']['recall']
            for group, prefix in (('by_d', 'D'), ('by_size', 'size')):
                for name, entry in table[group].items():
                    flat[f'outer/{point}/{prefix}{name}'] = entry['recall']
                    flat[f'outer/{point}/{prefix}{name}_faces'] = float(
                        entry['faces'])
        # an empty bin has no recall: its key is left out (no NaN in JSON)
        return {k: float(v) for k, v in flat.items() if v is not None}

    @staticmethod
    def summary(result: WiderEvalResult) -> str:
        """A table of the APs and the notes on missing images
        (:meth:`WiderEvalResult.summary`)."""
        return result.summary()
