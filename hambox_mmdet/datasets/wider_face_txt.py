# Copyright (c) hambox_mmdet contributors. All rights reserved.
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from .wider_face_parser import (WIDER_ATTR_NAMES, detect_wider_ann_format,
                                parse_wider_bbx_gt, parse_wider_filelist)


def is_local(backend_args: Optional[dict]) -> bool:
    """Whether ``backend_args`` point at the local file system."""
    return (backend_args or {}).get('backend', 'local') == 'local'


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise
    ``ValueError`` naming the argument (``"on_missing_image must be 'error'
    or 'skip', got 'x'"``)."""
    if value not in choices:
        allowed = ', '.join(repr(c) for c in choices[:-1])
        allowed = (f'{allowed} or ' if allowed else '') + repr(choices[-1])
        raise ValueError(f'{name} must be {allowed}, got {value!r}')
    return value


def check_image_files(img_paths: List[str],
                      ann_file: str,
                      on_missing_image: str = 'error',
                      img_prefix: str = '',
                      backend_args: Optional[dict] = None) -> List[bool]:
    """Which image files exist; raise or log per ``on_missing_image``.

    Args:
        img_paths (list[str]): Image file paths.
        ann_file (str): The annotation file listing them (for messages).
        on_missing_image (str): ``'error'``: raise naming the first missing
            file; ``'skip'``: log how many are missing (raise if all are).
            Defaults to ``'error'``.
        img_prefix (str): The image folder (for messages). Defaults to ''.
        backend_args (dict, optional): mmengine file backend arguments; on
            remote storage nothing is checked. Defaults to None.

    Returns:
        list[bool]: True where the file exists.
    """
    if not is_local(backend_args):
        # Remote storage: existence cannot be checked cheaply here.
        return [True] * len(img_paths)
    present = [osp.isfile(path) for path in img_paths]
    num_missing = len(present) - sum(present)
    if num_missing == 0:
        return present
    first = img_paths[present.index(False)]
    if on_missing_image == 'error' or num_missing == len(present):
        raise FileNotFoundError(
            f'{ann_file}: {num_missing} of {len(img_paths)} images are '
            f'missing, e.g. {first} (data_prefix {img_prefix!r})' +
            ('' if num_missing == len(present) else
             "; pass on_missing_image='skip' to leave them out"))
    MMLogger.get_current_instance().warning(
        f'{ann_file}: skipped {num_missing} of {len(img_paths)} images '
        f'whose file is missing (e.g. {first}); '
        f'{len(img_paths) - num_missing} remain')
    return present


@DATASETS.register_module()
class WIDERFaceTxtDataset(BaseDetDataset):
    """WIDER FACE read straight from the official text annotations.

    Reads ``wider_face_split/wider_face_{train,val}_bbx_gt.txt`` as
    distributed (no conversion step), or ``wider_face_test_filelist.txt``
    (images without annotations, for test-set submissions). The 12,880 train
    images parse in under 0.1 s; faces are kept as numpy arrays per image.

    Each ``data_info`` holds:

    - ``img_path`` (str): ``<data_prefix.img>/<event>/<name>.jpg``.
    - ``img_id`` (str): ``'<event>/<name>'`` (no extension), e.g.
      ``'0--Parade/0_Parade_marchingband_1_465'``; the key of the WIDER
      evaluation.
    - ``height``, ``width``: None (the text files hold no image sizes; the
      loading transform sets ``ori_shape``).
    - ``gt_bboxes`` (np.ndarray): (N, 4) float32, ``x1 y1 x2 y2`` pixels.
    - ``gt_bboxes_labels`` (np.ndarray): (N, ) int64, all 0 (``face``).
    - ``gt_ignore_flags`` (np.ndarray): (N, ) bool; True for ``invalid = 1``
      faces and boxes of zero (or negative) width or height. Such faces are
      kept, never dropped.
    - ``gt_face_attrs`` (dict[str, np.ndarray]): (N, ) int64 arrays
      ``blur``, ``expression``, ``illumination``, ``invalid``, ``occlusion``,
      ``pose`` (legend: ``wider_face_split/readme.txt``).

    Use :class:`LoadWIDERFaceAnnotations` (not mmdet's ``LoadAnnotations``)
    in the pipeline. ``width``/``height`` are unknown, so mmdet's
    ``AspectRatioBatchSampler`` cannot group these images; use the default
    batch sampler.

    Args:
        ann_file (str): The official ``*_bbx_gt.txt`` or the test file list,
            relative to ``data_root`` unless absolute.
        data_root (str): WIDER FACE root; ``~`` is expanded.
        data_prefix (dict): ``img`` folder, relative to ``data_root``.
            Defaults to ``dict(img='WIDER_train/images/')``.
        on_missing_image (str): ``'error'``: raise naming the first missing
            image file (checked in :meth:`load_data_list`, before training
            starts); ``'skip'``: leave those images out and log how many were
            skipped (it still raises if no image at all is found).
            Defaults to ``'error'``.
        ann_format (str): ``'bbx_gt'``, ``'filelist'`` or ``'auto'`` (a
            ``bbx_gt`` file if its line 2 is an integer). Defaults to
            ``'auto'``.
        negative_size (str): Faces with a negative width or height (three in
            the official files): ``'ignore'`` keeps them as ignored zero-size
            boxes, ``'error'`` raises. Defaults to ``'ignore'``.
        **kwargs: :class:`mmdet.datasets.BaseDetDataset` arguments
            (``pipeline``, ``test_mode``, ``filter_cfg``, ``indices``,
            ``serialize_data``, ``lazy_init``, ``backend_args``, ...).
            ``filter_cfg=dict(filter_empty_gt=True, min_size=0)`` works as in
            mmdet's ``CocoDataset``; empty means "no face that is not
            ignored".
    """

    METAINFO = dict(classes=('face', ), palette=[(0, 255, 0)])

    def __init__(self,
                 *args,
                 data_root: Optional[str] = '',
                 data_prefix: dict = dict(img='WIDER_train/images/'),
                 on_missing_image: str = 'error',
                 ann_format: str = 'auto',
                 negative_size: str = 'ignore',
                 **kwargs) -> None:
        self.on_missing_image = check_choice('on_missing_image',
                                             on_missing_image,
                                             ('error', 'skip'))
        self.ann_format = check_choice('ann_format', ann_format,
                                       ('auto', 'bbx_gt', 'filelist'))
        self.negative_size = check_choice('negative_size', negative_size,
                                          ('ignore', 'error'))
        if data_root:
            data_root = osp.expanduser(str(data_root))
        if 'ann_file' in kwargs and kwargs['ann_file']:
            kwargs['ann_file'] = osp.expanduser(str(kwargs['ann_file']))
        super().__init__(
            *args, data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the annotation file into a list of ``data_info`` dicts.

        Returns:
            list[dict]: One dict per image (keys: see the class docstring).
        """
        if is_local(self.backend_args) and not osp.isfile(self.ann_file):
            root = self.data_root or 'DATA_ROOT'
            raise FileNotFoundError(
                f'{self.ann_file} not found. Set data_root to WIDER FACE in '
                'the official layout (README, "Data"), or, if data_root is a '
                'new or empty folder, write the small generated face set '
                f'there first: python tools/misc/make_tiny_widerface.py '
                f'{root} (installed package: mim run hambox_mmdet '
                f'make_tiny_widerface {root}; it refuses a folder that holds '
                'other data, such as a partial WIDER FACE download)')
        logger = MMLogger.get_current_instance()
        with get_local_path(
                self.ann_file, backend_args=self.backend_args) as local_path:
            ann_format = self.ann_format
            if ann_format == 'auto':
                ann_format = detect_wider_ann_format(local_path)
            if ann_format == 'bbx_gt':
                anns = parse_wider_bbx_gt(
                    local_path, negative_size=self.negative_size)
                img_rel_paths = anns.img_paths
            else:
                anns = None
                img_rel_paths = parse_wider_filelist(local_path)
        self.ann_format_used = ann_format
        if not img_rel_paths:
            raise ValueError(f'{self.ann_file}: no image listed')

        img_prefix = self.data_prefix.get('img', '')
        img_paths = [osp.join(img_prefix, rel) for rel in img_rel_paths]
        present = check_image_files(img_paths, self.ann_file,
                                    self.on_missing_image, img_prefix,
                                    self.backend_args)

        if anns is not None:
            if anns.negative_size_lines.size:
                logger.warning(
                    f'{self.ann_file}: {anns.negative_size_lines.size} '
                    f'face(s) with a negative width or height (lines '
                    f'{anns.negative_size_lines.tolist()[:10]}) kept as '
                    f'ignored zero-size boxes')
            ignore = anns.ignore_flags()
            offsets = anns.face_offsets.tolist()
        data_list = []
        empty_boxes = np.zeros((0, 4), dtype=np.float32)
        for idx, (rel, img_path) in enumerate(zip(img_rel_paths, img_paths)):
            if not present[idx]:
                continue
            if anns is not None:
                start, end = offsets[idx], offsets[idx + 1]
                bboxes = anns.bboxes[start:end]
                ignore_flags = ignore[start:end]
                attrs = {
                    name: anns.attrs[name][start:end]
                    for name in WIDER_ATTR_NAMES
                }
            else:
                bboxes = empty_boxes
                ignore_flags = np.zeros(0, dtype=bool)
                attrs = {
                    name: np.zeros(0, dtype=np.int64)
                    for name in WIDER_ATTR_NAMES
                }
            data_list.append(
                dict(
                    img_path=img_path,
                    img_id=osp.splitext(rel)[0],
                    height=None,
                    width=None,
                    gt_bboxes=bboxes,
                    gt_bboxes_labels=np.zeros(len(bboxes), dtype=np.int64),
                    gt_ignore_flags=ignore_flags,
                    gt_face_attrs=attrs))
        return data_list

    def filter_data(self) -> List[dict]:
        """Filter images according to ``filter_cfg`` (as ``CocoDataset``).

        ``filter_empty_gt`` drops images without a face that is not ignored;
        ``min_size`` drops images whose shorter side is smaller, where the
        size is known (it is not, from the text files: then it is only
        logged). Nothing is filtered in ``test_mode``.

        Returns:
            list[dict]: The kept ``data_info`` dicts.
        """
        if self.test_mode or self.filter_cfg is None:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        logger = MMLogger.get_current_instance()

        valid = []
        unknown_size = 0
        for data_info in self.data_list:
            if filter_empty_gt and data_info['gt_ignore_flags'].all():
                continue
            width, height = data_info.get('width'), data_info.get('height')
            if width is None or height is None:
                unknown_size += 1
            elif min(width, height) < min_size:
                continue
            valid.append(data_info)
        if min_size > 0 and unknown_size:
            logger.warning(f'filter_cfg.min_size={min_size} not applied to '
                           f'{unknown_size} images of unknown size')
        num_removed = len(self.data_list) - len(valid)
        if num_removed:
            logger.info(f'{self.ann_file}: filter_cfg {self.filter_cfg} '
                        f'removed {num_removed} of {len(self.data_list)} '
                        f'images; {len(valid)} remain')
        return valid

    def get_cat_ids(self, idx: int) -> List[int]:
        """Category labels of all faces of image ``idx``.

        Args:
            idx (int): Index of data.

        Returns:
            list[int]: ``[0] * num_faces`` (used by ``ClassBalancedDataset``).
        """
        return self.get_data_info(idx)['gt_bboxes_labels'].tolist()
