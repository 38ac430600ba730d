# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The test pipeline and data preprocessor of an mmdet config, in numpy
and OpenCV (no torch): resize as mmcv's ``imrescale`` / ``imresize``, then
mmengine's normalisation (optional BGR -> RGB, ``(x - mean) / std`` in
float32) and bottom-right padding to the size divisor.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

INTERPOLATIONS = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
    'lanczos': cv2.INTER_LANCZOS4,
}


def check_image(img, where: str = 'image') -> np.ndarray:
    """Raise a clear error unless ``img`` is an (H, W, 3) uint8 array."""
    if not isinstance(img, np.ndarray):
        raise TypeError(f'{where} must be a numpy array (BGR uint8, H x W x '
                        f'3), got {type(img).__name__}')
    if img.dtype != np.uint8:
        raise ValueError(f'{where} must be uint8 (BGR, H x W x 3), got dtype '
                         f'{img.dtype}')
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'{where} must have 3 channels (BGR, H x W x 3), '
                         f'got shape {tuple(img.shape)}')
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f'{where} is empty: shape {tuple(img.shape)}')
    return img


def _scale_size(size: Tuple[int, int], scale) -> Tuple[int, int]:
    """mmcv's ``_scale_size``: (w, h) times a factor, rounded half up."""
    if isinstance(scale, (float, int)):
        scale = (scale, scale)
    w, h = size
    return int(w * float(scale[0]) + 0.5), int(h * float(scale[1]) + 0.5)


def target_size(img_wh: Tuple[int, int], resize: dict) -> Tuple[int, int]:
    """The (w, h) an mmdet ``Resize`` transform gives an image of ``img_wh``.

    Args:
        img_wh (tuple[int, int]): the image's (w, h).
        resize (dict): ``scale`` ((w, h) or None), ``scale_factor``
            (float, (fw, fh) or None) and ``keep_ratio`` of the transform;
            ``None`` for a pipeline without a resize.
    """
    if not resize:
        return img_wh
    scale = resize.get('scale')
    if scale is None:
        scale = _scale_size(img_wh, resize['scale_factor'])
    scale = tuple(scale)
    if not resize.get('keep_ratio', False):
        return int(scale[0]), int(scale[1])
    w, h = img_wh
    # mmcv.rescale_size with a (w, h) tuple: fit the long and short edges
    factor = min(max(scale) / max(h, w), min(scale) / min(h, w))
    return _scale_size((w, h), factor)


def resize_image(img: np.ndarray, resize: Optional[dict]
                 ) -> Tuple[np.ndarray, Tuple[float, float]]:
    """Resize a BGR image as the config's test ``Resize`` does.

    Returns:
        tuple: the resized (h, w, 3) uint8 image and its scale factor
        (w_scale, h_scale), as mmdet stores in ``img_meta['scale_factor']``.
    """
    h, w = img.shape[:2]
    new_w, new_h = target_size((w, h), resize)
    if (new_w, new_h) != (w, h):
        interp = INTERPOLATIONS[(resize or {}).get('interpolation',
                                                   'bilinear')]
        img = cv2.resize(img, (new_w, new_h), interpolation=interp)
    return img, (new_w / w, new_h / h)


def normalize(img: np.ndarray, mean: Sequence[float], std: Sequence[float],
              bgr_to_rgb: bool) -> np.ndarray:
    """(h, w, 3) uint8 BGR -> (3, h, w) float32, as mmengine's
    ``ImgDataPreprocessor`` (channel flip, then ``(x - mean) / std``)."""
    chw = img.transpose(2, 0, 1)
    if bgr_to_rgb:
        chw = chw[::-1]
    chw = chw.astype(np.float32)
    mean = np.asarray(mean, np.float32).reshape(3, 1, 1)
    std = np.asarray(std, np.float32).reshape(3, 1, 1)
    return (chw - mean) / std


def pad_batch(chws: Sequence[np.ndarray], size_divisor: int,
              pad_value: float = 0.,
              min_hw: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Stack (3, h, w) images into (B, 3, H, W), padded bottom-right to the
    largest size, rounded up to ``size_divisor`` (mmengine's
    ``stack_batch``), and at least ``min_hw`` when given."""
    max_h = max(c.shape[1] for c in chws)
    max_w = max(c.shape[2] for c in chws)
    if size_divisor and size_divisor > 1:
        max_h = int(np.ceil(max_h / size_divisor)) * size_divisor
        max_w = int(np.ceil(max_w / size_divisor)) * size_divisor
    if min_hw is not None:
        max_h, max_w = max(max_h, min_hw[0]), max(max_w, min_hw[1])
    batch = np.full((len(chws), 3, max_h, max_w), pad_value, np.float32)
    for i, chw in enumerate(chws):
        batch[i, :, :chw.shape[1], :chw.shape[2]] = chw
    return batch
