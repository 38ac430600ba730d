# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""FDDB true positive rates at 1,000 / 2,000 false positives as an mmengine
metric."""
from pathlib import PurePosixPath
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import MMLogger

from mmdet.registry import METRICS
from ..fddb import FDDBGroundTruth, FDDBResult
from ..fddb import evaluate as evaluate_fddb
from ..fddb import load_ground_truth as load_fddb_folds
from ..fddb import plot_curves as plot_fddb_curves
from ..fddb import read_image_sizes
from ..fddb import write_predictions as write_fddb_predictions
from ..fddb.matching import check_matching
from ..fddb.predictions import normalise_key
from .base_face_metric import BaseFaceMetric
from .predictions import predicted_boxes, xywh_score


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
class FDDBMetric(BaseFaceMetric):
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
    benchmark = 'FDDB'

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
        super().__init__(
            outfile=outfile,
            plot_file=plot_file,
            collect_device=collect_device,
            prefix=prefix)
        self.folds_dir = folds_dir
        self.folds = folds
        self.images_dir = images_dir
        self.fp_points = tuple(int(n) for n in fp_points)
        self.roc_prefix = roc_prefix
        self.matching = check_matching(matching)

    def load_ground_truth(self) -> FDDBGroundTruth:
        """The ground truth of the folds."""
        return load_fddb_folds(self.folds_dir, self.folds)

    def sample_result(self, sample: dict) -> tuple:
        """``(key, (h, w), (K, 5) left top width height score)``."""
        dets = xywh_score(*predicted_boxes(sample))
        shape = sample.get('ori_shape')
        shape = tuple(int(v) for v in shape[:2]) if shape else None
        return fddb_image_key(sample), shape, dets

    def collect_predictions(
        self, results: list, logger: MMLogger
    ) -> Tuple[Dict[str, np.ndarray], np.ndarray, list]:
        """The first detections of each image of the folds, the image
        sizes (M, 2) ``height width`` and the images without a
        prediction."""
        gt = self.gt
        folds = 'all folds' if self.folds is None else f'folds {self.folds}'

        def check(key: str) -> None:
            if key not in gt.key_to_index:
                raise ValueError(
                    f'FDDBMetric: prediction for {key!r}, which is not in '
                    f'{folds} of {self.folds_dir}')

        first = self.first_per_image(results, logger, check)
        dets = {key: boxes for key, (_, _, boxes) in first.items()}
        shapes = {key: shape for key, (_, shape, _) in first.items()}
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
        return dets, sizes, missing

    def write_outfile(self, preds: tuple, logger: MMLogger) -> None:
        """The detections in the official layout, every image of the folds
        in fold order."""
        write_fddb_predictions(self.outfile, preds[0], self.gt.image_keys)
        logger.info(f'FDDB detections written to {self.outfile}')

    def evaluate_predictions(self, preds: tuple,
                             logger: MMLogger) -> FDDBResult:
        dets, sizes, _ = preds
        return evaluate_fddb(dets, self.gt, sizes, matching=self.matching)

    def report_result(self, result: FDDBResult, preds: tuple,
                      logger: MMLogger) -> None:
        """The TPRs, the images without a prediction and, with
        ``roc_prefix``, the official ROC files."""
        logger.info(f'FDDB (official protocol, {self.matching} matching)\n'
                    + result.summary(self.fp_points))
        missing = preds[2]
        if missing:
            logger.warning(
                f'FDDB: {len(missing)} of {len(self.gt)} images of the folds '
                'had no prediction; their faces count as missed')
        if self.roc_prefix is not None:
            result.save_roc(self.roc_prefix)

    def plot_result(self, result: FDDBResult, logger: MMLogger) -> None:
        plot_fddb_curves(result, self.plot_file)
        logger.info(f'FDDB ROC curves saved to {self.plot_file}')

    def to_metrics(self, result: FDDBResult, preds: tuple,
                   logger: MMLogger) -> Dict[str, float]:
        """``{kind}_tpr@{n}fp`` for each of ``fp_points``."""
        out = {}
        for n in self.fp_points:
            for kind in ('discrete', 'continuous'):
                out[f'{kind}_tpr@{n}fp'] = result.tpr_at(n, kind)
        return out
