# Copyright (c) hambox_mmdet contributors. All rights reserved.
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from .annotations.fddb import (check_folds, ellipse_bboxes, load_ground_truth,
                               read_image_sizes)
from .wider_face_txt import check_choice, check_image_files


@DATASETS.register_module()
class FDDBDataset(BaseDetDataset):
    """FDDB read from the official ``FDDB-folds`` files.

    Reads ``<data_root>/<ann_dir>/FDDB-fold-XX-ellipseList.txt`` of the
    chosen folds (checked against ``FDDB-fold-XX.txt``); images are
    ``<data_root>/<data_prefix.img><path>.jpg`` (``originalPics/``). Face
    detectors are trained on WIDER FACE and tested here (with
    :class:`FDDBMetric`); the faces are also given as boxes for
    training-style use.

    Each ``data_info`` holds:

    - ``img_path`` (str), ``img_id`` (str): the FDDB path, e.g.
      ``'2002/08/11/big/img_591'`` (the key of the evaluation), ``fold``.
    - ``height``, ``width``: from the image header if ``read_image_size``,
      else None (the loading transform sets ``ori_shape``).
    - ``gt_ellipses`` (np.ndarray): (N, 5) float64
      ``major_radius minor_radius angle(rad) cx cy`` as annotated.
    - ``instances``: per face ``bbox`` (the tight ``x1 y1 x2 y2`` box of the
      ellipse, not clipped to the image), ``bbox_label`` 0,
      ``ignore_flag`` 0 and ``ellipse``: what mmdet's ``LoadAnnotations``
      reads.

    Args:
        data_root (str): FDDB root; ``~`` expanded.
        ann_dir (str): folder of the fold files, relative to ``data_root``.
            Defaults to ``'FDDB-folds'``.
        folds (int | Sequence[int], optional): folds 1..10. Defaults to
            every fold in ``ann_dir`` (all ten).
        data_prefix (dict): image folder. Defaults to
            ``dict(img='originalPics/')``.
        img_suffix (str): Defaults to ``'.jpg'``.
        read_image_size (bool): read ``height``/``width`` from the image
            headers at load time. Defaults to False.
        on_missing_image (str): ``'error'`` (default) raises naming the
            first missing image (checked at load time, on local storage);
            ``'skip'`` leaves such images out and logs how many (it still
            raises if none is found).
        **kwargs: :class:`mmdet.datasets.BaseDetDataset` arguments.
    """

    METAINFO = dict(classes=('face', ), palette=[(0, 255, 0)])

    def __init__(self,
                 *args,
                 data_root: Optional[str] = '',
                 ann_dir: str = 'FDDB-folds',
                 folds: Union[int, Sequence[int], None] = None,
                 data_prefix: dict = dict(img='originalPics/'),
                 img_suffix: str = '.jpg',
                 read_image_size: bool = False,
                 on_missing_image: str = 'error',
                 **kwargs) -> None:
        self.on_missing_image = check_choice('on_missing_image',
                                             on_missing_image,
                                             ('error', 'skip'))
        self.ann_dir = ann_dir
        self.folds = None if folds is None else check_folds(folds)
        self.img_suffix = img_suffix
        self.read_image_size = read_image_size
        kwargs.setdefault('ann_file', '')
        super().__init__(
            *args,
            data_root=osp.expanduser(data_root or ''),
            data_prefix=data_prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        ann_dir = self.ann_dir
        if not osp.isabs(ann_dir):
            ann_dir = osp.join(self.data_root, ann_dir)
        gt = load_ground_truth(ann_dir, self.folds)
        img_dir = self.data_prefix.get('img', '')
        img_paths = [osp.join(img_dir, key + self.img_suffix)
                     for key in gt.image_keys]
        present = check_image_files(img_paths, ann_dir,
                                    self.on_missing_image, img_dir,
                                    self.backend_args)
        data_list: List[dict] = []
        for img_path, key, ells, fold, found in zip(img_paths, gt.image_keys,
                                                    gt.ellipses, gt.folds,
                                                    present):
            if not found:
                continue
            bboxes = ellipse_bboxes(ells)
            instances = [
                dict(bbox=box.tolist(), bbox_label=0, ignore_flag=0,
                     ellipse=ell.tolist()) for box, ell in zip(bboxes, ells)
            ]
            data_list.append(
                dict(img_path=img_path, img_id=key, fold=int(fold),
                     height=None, width=None, gt_ellipses=ells,
                     instances=instances))
        if self.read_image_size and data_list:
            sizes = read_image_sizes('', [d['img_path'] for d in data_list],
                                     '')
            for d, (h, w) in zip(data_list, sizes):
                d['height'], d['width'] = int(h), int(w)
        return data_list

    def filter_data(self) -> List[dict]:
        """Nothing is filtered: every FDDB image has faces and counts."""
        return self.data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        return [0] * len(self.get_data_info(idx)['instances'])
