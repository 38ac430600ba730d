# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import get_box_type
from ..wider_face_parser import WIDER_ATTR_NAMES


@TRANSFORMS.register_module()
class LoadWIDERFaceAnnotations(BaseTransform):
    """Turn the face arrays of :class:`WIDERFaceTxtDataset` into the
    annotations mmdet's transforms expect (no loop over faces).

    Place it after ``LoadImageFromFile``; mmdet's ``Resize``, ``RandomFlip``,
    ``PhotoMetricDistortion``, ``Pad``, ``PackDetInputs`` (which moves the
    ignored faces to ``ignored_instances``) and this package's
    ``RandomSquareCrop`` / ``DataAnchorSampling`` work after it. Only this
    package's crops keep ``gt_face_attrs`` aligned when they drop faces;
    mmdet's ``RandomCrop``/``FilterAnnotations`` do not know that key.

    Required Keys:

    - gt_bboxes (np.ndarray): (N, 4) float32, ``x1 y1 x2 y2``.
    - gt_bboxes_labels (np.ndarray): (N, ) int (optional, zeros if absent).
    - gt_ignore_flags (np.ndarray): (N, ) bool (optional, False if absent).
    - gt_face_attrs (dict[str, np.ndarray]): (N, ) int arrays (optional).

    Modified Keys (removed when the matching ``with_*`` is False):

    - gt_bboxes (HorizontalBoxes[torch.float32] or np.ndarray float32 if
      ``box_type`` is None)
    - gt_bboxes_labels (np.int64)
    - gt_ignore_flags (bool)
    - gt_face_attrs (dict[str, np.ndarray int64])

    Args:
        with_bbox (bool): Keep the boxes and ignore flags. Defaults to True.
        with_label (bool): Keep the labels. Defaults to True.
        with_attrs (bool): Keep the WIDER attributes. Defaults to True.
        box_type (str, optional): Box type of ``gt_bboxes``; None keeps a
            numpy array. Defaults to ``'hbox'``.
    """

    def __init__(self,
                 with_bbox: bool = True,
                 with_label: bool = True,
                 with_attrs: bool = True,
                 box_type: Optional[str] = 'hbox') -> None:
        self.with_bbox = with_bbox
        self.with_label = with_label
        self.with_attrs = with_attrs
        self.box_type = box_type

    def transform(self, results: dict) -> dict:
        """Convert the face annotations of one image.

        Args:
            results (dict): Result dict from the dataset.

        Returns:
            dict: The same dict, annotations converted.
        """
        bboxes = np.asarray(
            results.get('gt_bboxes', np.zeros((0, 4))),
            dtype=np.float32).reshape(-1, 4)
        num_faces = bboxes.shape[0]
        if self.with_bbox:
            if self.box_type is None:
                results['gt_bboxes'] = bboxes
            else:
                _, box_type_cls = get_box_type(self.box_type)
                results['gt_bboxes'] = box_type_cls(
                    torch.from_numpy(bboxes.copy()), dtype=torch.float32)
            flags = results.get('gt_ignore_flags')
            results['gt_ignore_flags'] = np.zeros(num_faces, dtype=bool) \
                if flags is None else np.asarray(flags, dtype=bool)
        else:
            results.pop('gt_bboxes', None)
            results.pop('gt_ignore_flags', None)

        if self.with_label:
            labels = results.get('gt_bboxes_labels')
            results['gt_bboxes_labels'] = np.zeros(num_faces, dtype=np.int64) \
                if labels is None else np.asarray(labels, dtype=np.int64)
        else:
            results.pop('gt_bboxes_labels', None)

        if self.with_attrs:
            attrs = results.get('gt_face_attrs') or {}
            results['gt_face_attrs'] = {
                name:
                np.asarray(
                    attrs.get(name, np.zeros(num_faces)), dtype=np.int64)
                for name in (*WIDER_ATTR_NAMES,
                             *(k for k in attrs if k not in WIDER_ATTR_NAMES))
            }
        else:
            results.pop('gt_face_attrs', None)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_bbox={self.with_bbox}, '
                f'with_label={self.with_label}, '
                f'with_attrs={self.with_attrs}, '
                f'box_type={self.box_type!r})')
