# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Results of the AFW / PASCAL Face evaluation: one precision-recall curve
(:class:`PRCurve`) and the whole result with and without the box-style
calibration (:class:`FaceEvalResult`, with its JSON and log lines)."""
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np


@dataclass
class PRCurve:
    """One precision-recall curve over the detections in score order.

    Attributes:
        ap (float): VOC all-point AP, in [0, 1].
        recall (np.ndarray): (D, ) cumulative recall.
        precision (np.ndarray): (D, ) cumulative precision (NaN before the
            first true or false positive).
        scores (np.ndarray): (D, ) the scores, descending.
        num_tp (int): true positives over all detections.
        num_fp (int): false positives over all detections.
    """
    ap: float
    recall: np.ndarray
    precision: np.ndarray
    scores: np.ndarray
    num_tp: int
    num_fp: int


@dataclass
class FaceEvalResult:
    """AP of one detection set on AFW or PASCAL Face.

    Attributes:
        ap (float): AP without calibration, in [0, 1].
        ap_calibrated (float): AP after the box-style calibration.
        curve (PRCurve): the curve without calibration.
        curve_calibrated (PRCurve): the curve after calibration.
        box_styles (list[tuple]): ``(tx, ty, sx, sy)`` of each transform
            applied before the calibrated scoring.
        num_calib_iters (int): scorings in the calibration (5).
        num_images (int): images in the ground truth.
        num_faces (int): faces, ignored ones included.
        num_counted (int): faces not ignored.
        num_detections (int): detections given.
        num_kept (int): detections left by the size filter.
        num_unknown_image (int): detections on images not in the ground
            truth (false positives, as in the toolkit).
        num_images_with_dets (int): ground-truth images with a detection.
    """
    ap: float
    ap_calibrated: float
    curve: PRCurve
    curve_calibrated: PRCurve
    box_styles: List[Tuple[float, ...]] = field(default_factory=list)
    num_calib_iters: int = 5
    num_images: int = 0
    num_faces: int = 0
    num_counted: int = 0
    num_detections: int = 0
    num_kept: int = 0
    num_unknown_image: int = 0
    num_images_with_dets: int = 0

    def to_dict(self) -> dict:
        """The numbers, JSON-ready (APs as fractions)."""
        return dict(
            ap=self.ap,
            ap_calibrated=self.ap_calibrated,
            num_calib_iters=self.num_calib_iters,
            box_styles=[list(s) for s in self.box_styles],
            num_images=self.num_images,
            num_faces=self.num_faces,
            num_faces_counted=self.num_counted,
            num_detections=self.num_detections,
            num_detections_kept=self.num_kept,
            num_detections_unknown_image=self.num_unknown_image,
            num_images_with_detections=self.num_images_with_dets)

    def summary(self, name: str = '') -> str:
        """The two APs and what was counted, as log lines (what
        :class:`FaceEvalMetric` logs); ``name`` (e.g. ``'AFW'``) starts
        the first line."""
        lines = [
            f'{name} AP {self.ap_calibrated * 100:.2f} with the toolkit\'s '
            f'{self.num_calib_iters}-iteration box calibration, '
            f'{self.ap * 100:.2f} without',
            f'{self.num_counted} faces counted ({self.num_faces} '
            f'annotated) in {self.num_images} images; '
            f'{self.num_detections} detections, {self.num_kept} kept '
            'by the size filter'
        ]
        missing = self.num_images - self.num_images_with_dets
        if missing:
            lines.append(f'NOTE: {missing} of {self.num_images} images '
                         'have no detection (their faces count as missed)')
        if self.num_unknown_image:
            lines.append(f'NOTE: {self.num_unknown_image} detections on '
                         'images not in the annotations count as false '
                         'positives')
        return '\n'.join(lines)
