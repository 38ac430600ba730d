# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""What the face crops share: which faces a crop keeps and how the image,
the faces and their aligned per-face arrays follow the crop."""
from numbers import Number
from typing import Optional, Sequence, Union

import numpy as np

PadVal = Union[Number, Sequence[Number]]


def centers_inside(centers: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """Whether each centre lies strictly inside each patch.

    Args:
        centers (np.ndarray): Shape (N, 2), ``cx cy``.
        patches (np.ndarray): Shape (T, 4), ``x1 y1 x2 y2``.

    Returns:
        np.ndarray: Shape (T, N), bool.
    """
    cx, cy = centers[None, :, 0], centers[None, :, 1]
    return ((cx > patches[:, None, 0]) & (cx < patches[:, None, 2]) &
            (cy > patches[:, None, 1]) & (cy < patches[:, None, 3]))


def filter_face_instances(results: dict, keep: np.ndarray) -> None:
    """Keep the instances where ``keep`` is True, in place.

    Filters, with the same mask, ``gt_bboxes``, ``gt_bboxes_labels``,
    ``gt_ignore_flags``, ``gt_instances_ids`` and every array of
    ``gt_face_attrs``, so that they stay aligned.

    Args:
        results (dict): Result dict.
        keep (np.ndarray): Shape (N, ), bool.
    """
    for key in ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags',
                'gt_instances_ids'):
        if results.get(key, None) is not None:
            results[key] = results[key][keep]
    attrs = results.get('gt_face_attrs', None)
    if attrs is not None:
        results['gt_face_attrs'] = {
            name: np.asarray(value)[keep]
            for name, value in attrs.items()
        }


def update_homography(results: dict, matrix: np.ndarray) -> None:
    """Compose ``results['homography_matrix']`` with ``matrix`` (3, 3)."""
    matrix = matrix.astype(np.float32)
    if results.get('homography_matrix', None) is None:
        results['homography_matrix'] = matrix
    else:
        results['homography_matrix'] = matrix @ results['homography_matrix']


def apply_crop(results: dict, img: np.ndarray, matrix: np.ndarray,
               keep: Optional[np.ndarray], bbox_clip_border: bool) -> None:
    """Store a cropped image and carry the faces into it, in place.

    Sets ``img`` and ``img_shape``, composes ``homography_matrix`` with
    ``matrix``, keeps the faces where ``keep`` is True (with their labels,
    ignore flags, ids and ``gt_face_attrs``), then scales and shifts the
    kept boxes and clips them to the image if ``bbox_clip_border``.

    Args:
        results (dict): Result dict; ``gt_bboxes`` may be absent.
        img (np.ndarray): The cropped image, (H, W) or (H, W, C).
        matrix (np.ndarray): (3, 3) ``[[s, 0, tx], [0, s, ty], [0, 0, 1]]``,
            the map from input to output pixel coordinates.
        keep (np.ndarray, optional): (N, ) bool over the input faces.
        bbox_clip_border (bool): Clip the kept boxes to ``img``.
    """
    results['img'] = img
    results['img_shape'] = img.shape[:2]
    update_homography(results, matrix)
    if results.get('gt_bboxes', None) is None:
        return
    filter_face_instances(results, keep)
    boxes = results['gt_bboxes']
    scale = float(matrix[0, 0])
    if scale != 1:
        boxes.rescale_([scale, scale])
    boxes.translate_([float(matrix[0, 2]), float(matrix[1, 2])])
    if bbox_clip_border:
        boxes.clip_(results['img_shape'])
