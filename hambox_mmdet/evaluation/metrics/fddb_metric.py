# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDB true positive rates at 1,000 / 2,000 false positives as an mmengine
metric."""
from pathlib import PurePosixPath
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmdet.registry import METRICS
from ..fddb import FDDBGroundTruth
from ..fddb import evaluate as evaluate_fddb
from ..fddb import load_ground_truth as load_fddb_folds
from ..fddb import plot_curves as plot_fddb_curves
from ..fddb import read_image_sizes
from ..fddb import write_predictions as write_fddb_predictions
from ..fddb.predictions import normalise_key
from ..fddb.matching import check_matching
from .predictions import predicted_boxes, sample_dict, xywh_score


def fddb_image_key(data_sample: dict) -> str:
    """The FDDB path of a sample: ``img_id`` when it is one (as
    :class:`FDDBDataset` sets it), else the last five parts of ``img_path``
    without extension (``'2002/08/11/big/img_591'``)."""
    img_id = data_sample.get('img_id')
    if isinstance(img_id, str) and '/' in img_id:
        return normalise_key(img_id)
    path = PurePosixPath(str(data_sample['img_path']).replace('\\', '/'))
    return '/'.join(path.with_suffix('').parts[-5:])


@METRICS.register_module()
class FDDBMetric(BaseMetric):
    """The official FDDB evaluation: discrete and continuous ROC over the
    evaluated folds (see :mod:`hambox_mmdet.evaluation.fddb.matching`).

    Returns ``discrete_tpr@1000fp``, ``continuous_tpr@1000fp`` (and at each
    of ``fp_points``): the true positive rate (over all annotated faces of
    the folds) at that many false positives.

    Args:
        folds_dir (str): the official ``FDDB-folds`` folder.
        folds (int | Sequence[int], optional): folds 1..10 to evaluate.
            Defaults to every fold in ``folds_dir`` (all ten: 5,171
            faces). Every image of these folds should be in the test set:
            the faces of a missing image count as missed.
        images_dir (str, optional): ``originalPics``: image sizes are read
            from the headers there. Defaults to None: the ``ori_shape`` of
            each predicted sample (the loaded image's size).
        fp_points (Sequence[int]): false-positive counts reported.
            Defaults to (1000, 2000).
        outfile (str, optional): also write the detections in the official
            layout there (every image of the folds, in fold order).
        roc_prefix (str, optional): write ``<prefix>DiscROC.txt`` and
            ``<prefix>ContROC.txt`` as the official tool.
        plot_file (str, optional): PNG of the two ROC curves.
        matching (str): ``'official'`` (default): faces and detections
            are paired by the official program's solver on its per-image
            matrix, as for every published FDDB curve (not always a
            maximum-weight matching; it depends on the order of the boxes,
            here the model's output order). ``'optimal'``: the
            maximum-weight matching.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): metric name prefix. Defaults to ``'fddb'``.
    """

    default_prefix: Optional[str] = 'fddb'

    def __init__(self,
                 folds_dir: str,
                 folds: Union[int, Sequence[int], None] = None,
                 images_dir: Optional[str] = None,
                 fp_points: Sequence[int] = (1000, 2000),
                 outfile: Optional[str] = None,
                 roc_prefix: Optional[str] = None,
                 plot_file: Optional[str] = None,
                 matching: str = 'official',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.folds_dir = folds_dir
        self.folds = folds
        self.images_dir = images_dir
        self.fp_points = tuple(int(n) for n in fp_points)
        self.outfile = outfile
        self.roc_prefix = roc_prefix
        self.plot_file = plot_file
        self.matching = check_matching(matching)
        self._gt: Optional[FDDBGroundTruth] = None

    @property
    def gt(self) -> FDDBGroundTruth:
        """The ground truth of the folds, read on first use."""
        if self._gt is None:
            self._gt = load_fddb_folds(self.folds_dir, self.folds)
        return self._gt

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep ``(key, (h, w), (K, 5) left top width height score)``.

        ``pred_instances.bboxes`` are ``x1 y1 x2 y2`` in original image
        coordinates (mmdet's test loop predicts with ``rescale=True``).
        """
        for sample in map(sample_dict, data_samples):
            dets = xywh_score(*predicted_boxes(sample))
            shape = sample.get('ori_shape')
            shape = tuple(int(v) for v in shape[:2]) if shape else None
            self.results.append((fddb_image_key(sample), shape, dets))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Evaluate the collected detections over the folds."""
        logger: MMLogger = MMLogger.get_current_instance()
        gt = self.gt
        dets: Dict[str, np.ndarray] = {}
        shapes: Dict[str, tuple] = {}
        folds = 'all folds' if self.folds is None else f'folds {self.folds}'
        duplicates = 0
        for key, shape, boxes in results:
            if key not in gt.key_to_index:
                raise ValueError(
                    f'FDDBMetric: prediction for {key!r}, which is not in '
                    f'{folds} of {self.folds_dir}')
            if key in dets:
                duplicates += 1
                continue
            dets[key], shapes[key] = boxes, shape
        if duplicates:
            logger.warning(f'FDDB: {duplicates} duplicate prediction(s) for '
                           'an image already seen; kept the first')
        missing = [k for k in gt.image_keys if k not in dets]
        if self.images_dir is not None:
            sizes = read_image_sizes(self.images_dir, gt.image_keys)
        else:
            if any(shapes.get(k) is None for k in dets):
                raise ValueError('FDDBMetric: a sample has no ori_shape; '
                                 'give images_dir to read the image sizes')
            # images without predictions have no detections: their size
            # does not change any overlap
            sizes = np.array([shapes.get(k, (1, 1)) for k in gt.image_keys],
                             dtype=np.int64).reshape(-1, 2)
        if self.outfile is not None:
            write_fddb_predictions(self.outfile, dets, gt.image_keys)
            logger.info(f'FDDB detections written to {self.outfile}')
        result = evaluate_fddb(dets, gt, sizes, matching=self.matching)
        logger.info(f'FDDB (official protocol, {self.matching} matching)\n'
                    + result.summary(self.fp_points))
        if missing:
            logger.warning(
                f'FDDB: {len(missing)} of {len(gt)} images of the folds had '
                'no prediction; their faces count as missed')
        if self.roc_prefix is not None:
            result.save_roc(self.roc_prefix)
        if self.plot_file is not None:
            plot_fddb_curves(result, self.plot_file)
            logger.info(f'FDDB ROC curves saved to {self.plot_file}')
        out = {}
        for n in self.fp_points:
            for kind in ('discrete', 'continuous'):
                out[f'{kind}_tpr@{n}fp'] = result.tpr_at(n, kind)
        return out
