# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import autocast_box_type
from .box_crop import PadVal, apply_crop, centers_inside


@TRANSFORMS.register_module()
class RandomSquareCrop(BaseTransform):
    """Random square crop of faces, as used by SCRFD and TinaFace.

    A square of side ``int(choice * short_side)`` (``choice`` drawn from
    ``crop_choice``) is placed at a random integer position; with
    ``choice > 1`` it is larger than the short side and reaches outside the
    image, which is filled with ``pad_val``. Faces whose centre is not
    strictly inside the square are dropped; the others are shifted and
    clipped to it. Labels, ignore flags and ``gt_face_attrs`` are filtered
    with the same mask.

    A square is redrawn (new choice and position) until it keeps at least one
    face (ignored or not), up to ``max_trials`` times. If none does, the
    fallback is the whole image padded to a centred square of side
    ``long_side``: every face is kept and the output is still square. An
    image without faces is cropped with the first square drawn.

    Required Keys:

    - img
    - gt_bboxes (BaseBoxes[torch.float32]) (optional)
    - gt_bboxes_labels (np.int64) (optional)
    - gt_ignore_flags (bool) (optional)
    - gt_face_attrs (dict[str, np.ndarray]) (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_bboxes (optional)
    - gt_bboxes_labels (optional)
    - gt_ignore_flags (optional)
    - gt_face_attrs (optional)
    - gt_instances_ids (optional)

    Added Keys:

    - homography_matrix

    Args:
        crop_choice (Sequence[float]): Side of the square relative to the
            short side of the image. Defaults to
            ``(0.3, 0.45, 0.6, 0.8, 1.0)``; SCRFD uses up to 2.0.
        max_trials (int): Squares drawn before the fallback. Defaults to 250.
        pad_val (Number | Sequence[Number]): Fill value outside the image
            (one number, or one per channel). Defaults to 128 (SCRFD's).
        bbox_clip_border (bool): Clip kept boxes to the square. Defaults to
            True.
    """

    def __init__(self,
                 crop_choice: Sequence[float] = (0.3, 0.45, 0.6, 0.8, 1.0),
                 max_trials: int = 250,
                 pad_val: PadVal = 128,
                 bbox_clip_border: bool = True) -> None:
        crop_choice = tuple(float(c) for c in crop_choice)
        if not crop_choice or min(crop_choice) <= 0:
            raise ValueError(f'crop_choice must hold positive numbers, got '
                             f'{crop_choice}')
        if max_trials < 1:
            raise ValueError(f'max_trials must be >= 1, got {max_trials}')
        self.crop_choice = crop_choice
        self.max_trials = int(max_trials)
        self.pad_val = pad_val
        self.bbox_clip_border = bbox_clip_border

    @cache_randomness
    def _sample_patch(self, img_shape: Tuple[int, int],
                      centers: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Draw ``max_trials`` squares at once; take the first one that
        keeps a face centre, else the fallback square.

        Args:
            img_shape (tuple[int, int]): ``(h, w)``.
            centers (np.ndarray): Shape (N, 2), the face centres.

        Returns:
            tuple[np.ndarray, np.ndarray]: The patch ``x1 y1 x2 y2`` (4, )
            int64 and the keep mask (N, ) bool.
        """
        img_h, img_w = img_shape
        short_side = min(img_h, img_w)
        num_trials = self.max_trials if len(centers) else 1
        choices = np.random.choice(self.crop_choice, size=num_trials)
        sides = np.maximum((choices * short_side).astype(np.int64), 1)
        # Offsets in [0, W - side] if the square fits, else [W - side, 0].
        lo_x, hi_x = np.minimum(img_w - sides, 0), np.maximum(img_w - sides, 0)
        lo_y, hi_y = np.minimum(img_h - sides, 0), np.maximum(img_h - sides, 0)
        left = np.random.randint(lo_x, hi_x + 1)
        top = np.random.randint(lo_y, hi_y + 1)
        patches = np.stack([left, top, left + sides, top + sides], axis=1)
        if not len(centers):
            return patches[0], np.zeros(0, dtype=bool)
        inside = centers_inside(centers, patches)
        hits = np.flatnonzero(inside.any(axis=1))
        if hits.size:
            return patches[hits[0]], inside[hits[0]]
        # Fallback: the whole image in a centred square of side long_side.
        side = max(img_h, img_w)
        left, top = (img_w - side) // 2, (img_h - side) // 2
        patch = np.array([left, top, left + side, top + side], dtype=np.int64)
        return patch, np.ones(len(centers), dtype=bool)

    @autocast_box_type()
    def transform(self, results: dict) -> dict:
        """Crop one image and its faces.

        Args:
            results (dict): Result dict.

        Returns:
            dict: Cropped results; ``img_shape`` is ``(side, side)``.
        """
        img = results['img']
        img_h, img_w = img.shape[:2]
        boxes = results.get('gt_bboxes', None)
        centers = np.zeros((0, 2), dtype=np.float32) if boxes is None \
            else boxes.centers.numpy().reshape(-1, 2)
        patch, keep = self._sample_patch((img_h, img_w), centers)
        x1, y1, x2, y2 = (int(v) for v in patch)

        # mmcv's imcrop takes inclusive corners and fills the part of the
        # square outside the image with pad_fill. (It would copy border
        # pixels for a square wholly outside the image; the squares drawn
        # here always overlap it: offsets lie between 0 and W - side.)
        # (its padded patch drops the channel axis of an (H, W, 1) image)
        crop = mmcv.imcrop(
            img[..., 0] if img.ndim == 3 and img.shape[2] == 1 else img,
            np.array([x1, y1, x2 - 1, y2 - 1]),
            pad_fill=self.pad_val).reshape(y2 - y1, x2 - x1, *img.shape[2:])
        apply_crop(results, crop,
                   np.array([[1, 0, -x1], [0, 1, -y1], [0, 0, 1]]), keep,
                   self.bbox_clip_border)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_choice={self.crop_choice}, '
                f'max_trials={self.max_trials}, pad_val={self.pad_val}, '
                f'bbox_clip_border={self.bbox_clip_border})')
