# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import autocast_box_type
from .box_crop import PadVal, apply_crop, centers_inside

_INTERPOLATIONS = dict(
    nearest=cv2.INTER_NEAREST,
    bilinear=cv2.INTER_LINEAR,
    bicubic=cv2.INTER_CUBIC,
    lanczos=cv2.INTER_LANCZOS4)


@TRANSFORMS.register_module()
class DataAnchorSampling(BaseTransform):
    """Data-anchor-sampling of PyramidBox (Tang et al., ECCV 2018).

    Rescales the image so that a randomly chosen face takes the size of a
    randomly chosen anchor, then cuts a ``crop_size`` square around it:

    1. pick a random face that is not ignored and has a positive size,
       ``s_face = sqrt(w * h)``;
    2. ``i`` = index of the anchor size closest to ``s_face``; draw ``t``
       uniformly from ``{0, ..., min(i + 1, len(anchor_sizes) - 1)}`` and
       ``s_target`` uniformly from ``[a_t / 2, 2 * a_t]``;
    3. scale by ``s_target / s_face`` and take a ``crop_size`` square that
       contains the chosen face centre, at a random position: inside the
       scaled image where it is large enough, else the scaled image lies
       inside the square and the rest is filled with ``pad_val``;
    4. drop faces whose centre is not strictly inside the square, shift,
       scale and clip the others; labels, ignore flags and ``gt_face_attrs``
       stay aligned.

    Step 3 is done by one ``cv2.warpAffine`` (scale and shift) into the
    ``crop_size`` output, which is what rescaling the whole image and then
    cropping gives, without ever building the (possibly huge) rescaled image,
    so no cap on its size is needed. The square is placed at sub-pixel
    precision. Applied with probability ``prob``; an image without a usable
    face passes through unchanged.

    Required Keys:

    - img
    - gt_bboxes (BaseBoxes[torch.float32])
    - gt_bboxes_labels (np.int64) (optional)
    - gt_ignore_flags (bool) (optional)
    - gt_face_attrs (dict[str, np.ndarray]) (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_bboxes
    - gt_bboxes_labels (optional)
    - gt_ignore_flags (optional)
    - gt_face_attrs (optional)
    - gt_instances_ids (optional)

    Added Keys:

    - homography_matrix

    Args:
        anchor_sizes (Sequence[float]): Anchor sizes in pixels. Defaults to
            ``(16, 32, 64, 128, 256, 512)``.
        crop_size (int): Side of the output square. Defaults to 640.
        prob (float): Probability of applying the transform. Defaults to 0.5
            (PyramidBox uses it half of the time).
        pad_val (Number | Sequence[Number]): Fill value outside the image.
            Defaults to 128.
        interpolation (str): ``'nearest'``, ``'bilinear'``, ``'bicubic'`` or
            ``'lanczos'``. Defaults to ``'bilinear'``.
        bbox_clip_border (bool): Clip kept boxes to the square. Defaults to
            True.
    """

    def __init__(self,
                 anchor_sizes: Sequence[float] = (16, 32, 64, 128, 256, 512),
                 crop_size: int = 640,
                 prob: float = 0.5,
                 pad_val: PadVal = 128,
                 interpolation: str = 'bilinear',
                 bbox_clip_border: bool = True) -> None:
        anchor_sizes = tuple(float(a) for a in anchor_sizes)
        if not anchor_sizes or min(anchor_sizes) <= 0:
            raise ValueError(f'anchor_sizes must hold positive numbers, got '
                             f'{anchor_sizes}')
        if int(crop_size) < 1:
            raise ValueError(f'crop_size must be >= 1, got {crop_size}')
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f'interpolation must be one of '
                             f'{tuple(_INTERPOLATIONS)}, '
                             f'got {interpolation!r}')
        self.anchor_sizes = anchor_sizes
        self.crop_size = int(crop_size)
        self.prob = prob
        self.pad_val = pad_val
        self.interpolation = interpolation
        self.bbox_clip_border = bbox_clip_border

    @cache_randomness
    def _sample_params(
            self, img_shape: Tuple[int, int], bboxes: np.ndarray,
            ignore_flags: np.ndarray) -> Optional[Tuple[float, float, float]]:
        """Draw the scale and the square position.

        Args:
            img_shape (tuple[int, int]): ``(h, w)``.
            bboxes (np.ndarray): Shape (N, 4), ``x1 y1 x2 y2``.
            ignore_flags (np.ndarray): Shape (N, ), bool.

        Returns:
            tuple[float, float, float] | None: ``(scale, x1, y1)``, the
            square's corner in the scaled image; None to leave the image.
        """
        if np.random.rand() >= self.prob:
            return None
        widths = bboxes[:, 2] - bboxes[:, 0]
        heights = bboxes[:, 3] - bboxes[:, 1]
        candidates = np.flatnonzero(~ignore_flags & (widths > 0)
                                    & (heights > 0))
        if candidates.size == 0:
            return None
        face = int(np.random.choice(candidates))
        face_size = float(np.sqrt(widths[face] * heights[face]))
        anchors = np.asarray(self.anchor_sizes)
        nearest = int(np.argmin(np.abs(anchors - face_size)))
        target_idx = np.random.randint(0,
                                       min(nearest + 1,
                                           len(anchors) - 1) + 1)
        target_size = np.random.uniform(anchors[target_idx] / 2,
                                        anchors[target_idx] * 2)
        scale = float(target_size / face_size)

        corner = []
        img_h, img_w = img_shape
        center = ((bboxes[face, 0] + bboxes[face, 2]) / 2 * scale,
                  (bboxes[face, 1] + bboxes[face, 3]) / 2 * scale)
        for length, c in ((img_w * scale, center[0]), (img_h * scale,
                                                       center[1])):
            if length >= self.crop_size:
                lo = max(0.0, c - self.crop_size)
                hi = min(length - self.crop_size, c)
            else:
                lo, hi = length - self.crop_size, 0.0
            corner.append(float(np.random.uniform(lo, hi)))
        return scale, corner[0], corner[1]

    @autocast_box_type()
    def transform(self, results: dict) -> dict:
        """Apply data-anchor-sampling to one image.

        Args:
            results (dict): Result dict.

        Returns:
            dict: The transformed results (unchanged if not applied).
        """
        boxes = results.get('gt_bboxes', None)
        if boxes is None or len(boxes) == 0:
            return results
        img = results['img']
        bboxes = boxes.numpy().reshape(-1, 4)
        ignore_flags = results.get('gt_ignore_flags', None)
        if ignore_flags is None:
            ignore_flags = np.zeros(len(bboxes), dtype=bool)
        params = self._sample_params(img.shape[:2], bboxes,
                                     np.asarray(ignore_flags, dtype=bool))
        if params is None:
            return results
        scale, x1, y1 = params
        size = self.crop_size

        matrix = np.array([[scale, 0, -x1], [0, scale, -y1], [0, 0, 1]],
                          dtype=np.float64)
        pad_val = self.pad_val
        if not np.isscalar(pad_val):
            pad_val = tuple(float(v) for v in pad_val)
        else:
            pad_val = (float(pad_val), ) * 4
        out = cv2.warpAffine(
            img,
            matrix[:2], (size, size),
            flags=_INTERPOLATIONS[self.interpolation],
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=pad_val)
        if img.ndim == 3 and out.ndim == 2:  # single channel images
            out = out[..., None]
        centers = (bboxes[:, :2] + bboxes[:, 2:]) / 2 * scale - [x1, y1]
        keep = centers_inside(centers,
                              np.array([[0, 0, size, size]],
                                       dtype=np.float64))[0]
        apply_crop(results, out, matrix, keep, self.bbox_clip_border)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'anchor_sizes={self.anchor_sizes}, '
                f'crop_size={self.crop_size}, prob={self.prob}, '
                f'pad_val={self.pad_val}, '
                f'interpolation={self.interpolation!r}, '
                f'bbox_clip_border={self.bbox_clip_border})')
