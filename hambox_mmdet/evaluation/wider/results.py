# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Results of the WIDER FACE evaluation (:func:`.evaluate.evaluate`): the
APs and curves per setting, and the table the metric logs."""
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np


@dataclass
class WiderSettingResult:
    """Result of one setting.

    Attributes:
        ap (float): VOC AP in [0, 1] (NaN when ``count_face`` is 0, as the
            official ``0 / 0`` recall).
        precision (np.ndarray): (T,) per threshold, 0 where no proposal.
        recall (np.ndarray): (T,) per threshold.
        proposals (np.ndarray): (T,) int64, non-ignored predictions.
        recalled (np.ndarray): (T,) int64, recalled kept faces.
        count_face (int): kept faces counted (``sum len(gt_list)``).
    """
    ap: float
    precision: np.ndarray
    recall: np.ndarray
    proposals: np.ndarray
    recalled: np.ndarray
    count_face: int


@dataclass
class WiderEvalResult:
    """Result of :func:`evaluate`.

    Attributes:
        settings (dict[str, WiderSettingResult]): per setting.
        thresholds (np.ndarray): (T,) the score thresholds, descending.
        num_images (int): images of the ground truth.
        num_present_images (int): images with a prediction entry (an entry
            with zero boxes counts).
        num_missing_images (int): images without a prediction entry.
        num_images_with_predictions (int): images with at least one box.
        num_predictions (int): boxes over all images.
        missing_keys (list[str]): keys of the missing images.
        only_present_images (bool): whether ``count_face`` covers only the
            present images.
        iou_arith (str): the overlap arithmetic requested.
        score_range (tuple[float, float]): ``(min_score, max_score)`` of the
            global normalisation.
        num_negative_size (int): boxes of negative width or height, scored
            as the official tool scores them (in practice false positives).
        negative_size_keys (list[str]): keys of the images that have them.
    """
    settings: Dict[str, WiderSettingResult]
    thresholds: np.ndarray
    num_images: int
    num_present_images: int
    num_missing_images: int
    num_images_with_predictions: int
    num_predictions: int
    missing_keys: List[str] = field(default_factory=list)
    only_present_images: bool = False
    iou_arith: str = 'auto'
    score_range: Tuple[float, float] = (1.0, 0.0)
    num_negative_size: int = 0
    negative_size_keys: List[str] = field(default_factory=list)

    @property
    def aps(self) -> Dict[str, float]:
        """``{setting: AP}``."""
        return {s: r.ap for s, r in self.settings.items()}

    def summary(self) -> str:
        """A table of the APs and the notes on missing images (what
        :class:`WIDERFaceMetric` logs)."""
        from terminaltables import AsciiTable
        rows = [['setting', 'AP', 'faces counted']]
        for setting, r in self.settings.items():
            rows.append([setting, f'{r.ap * 100:.2f}', str(r.count_face)])
        table = AsciiTable(rows, title='WIDER FACE val').table
        lines = [
            table,
            f'images: {self.num_images} in the ground truth, '
            f'{self.num_present_images} predicted, '
            f'{self.num_missing_images} without predictions; '
            f'{self.num_predictions} boxes; overlaps: '
            f'iou_arith={self.iou_arith!r}'
        ]
        if self.num_negative_size:
            lines.append(
                f'NOTE: {self.num_negative_size} box(es) of negative width '
                f'or height in {len(self.negative_size_keys)} image(s), '
                'scored as the official tool does (in practice false '
                'positives).')
        if self.only_present_images:
            lines.append(
                f'NOTE: only_present_images=True: these numbers cover only '
                f'the {self.num_present_images} predicted images (their '
                'faces only) and are NOT comparable with full-val numbers.')
        elif self.num_missing_images:
            lines.append(
                f'NOTE: {self.num_missing_images} of {self.num_images} '
                'val images had no predictions; their faces count as missed '
                '(official full-val protocol).')
        return '\n'.join(lines)
