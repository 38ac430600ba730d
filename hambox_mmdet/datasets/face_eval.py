# Copyright (c) hambox_mmdet contributors. All rights reserved.
import os.path as osp
from typing import List, Optional

from mmengine.fileio import get_local_path

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from .annotations.face_eval import MIN_FACE_SIZE, load_ground_truth
from .wider_face_txt import check_choice, check_image_files


@DATASETS.register_module()
class FaceEvalDataset(BaseDetDataset):
    """AFW or PASCAL Face, read from the annotation ``.mat`` of the Mathias
    et al. (ECCV 2014) evaluation toolkit (the re-annotations that papers
    evaluate on): ``new_annotations_AFW.mat`` (205 images, 545 faces) or
    ``Annotations_Face_PASCALLayout_large_fixed.mat`` (851 images, 1,635
    faces).

    Each ``data_info`` is mmdet's usual layout, so mmdet's
    ``LoadAnnotations`` and ``PackDetInputs`` work unchanged:

    - ``img_path`` (str): ``<data_prefix.img>/<imgname>``.
    - ``img_id`` (str): the toolkit's image key (the name up to its first
      dot), e.g. ``'5002723411'``.
    - ``width``, ``height`` (int): from the file's ``imgsize`` (width
      first).
    - ``instances`` (list[dict]): per face ``bbox`` ``[x1, y1, x2, y2]``
      (as annotated: inclusive pixel corners, a face may reach a pixel past
      the border), ``bbox_label`` 0 and ``ignore_flag`` 1 where the file
      flags the face as ignored or, as in the toolkit, its width
      ``|x2 - x1|`` or height ``|y2 - y1|`` is under ``min_size``.

    Use it as the test set of a detector trained on WIDER FACE, with
    :class:`FaceEvalMetric` as evaluator.

    Args:
        ann_file (str): the ``.mat`` file, relative to ``data_root`` unless
            absolute (``~`` expanded).
        data_root (str): dataset root; ``~`` is expanded.
        data_prefix (dict): ``img``: the image folder, relative to
            ``data_root``. Defaults to ``dict(img='')``.
        min_size (int): faces smaller than this in width or height get
            ``ignore_flag`` 1. Defaults to 30 (the toolkit's default).
        on_missing_image (str): ``'error'``: raise naming the first missing
            image; ``'skip'``: leave such images out and log how many (it
            still raises if none is found). Defaults to ``'error'``.
        **kwargs: :class:`mmdet.datasets.BaseDetDataset` arguments
            (``pipeline``, ``test_mode``, ``indices``, ``backend_args``...).
    """

    METAINFO = dict(classes=('face', ), palette=[(0, 255, 0)])

    def __init__(self,
                 *args,
                 data_root: Optional[str] = '',
                 data_prefix: dict = dict(img=''),
                 min_size: int = MIN_FACE_SIZE,
                 on_missing_image: str = 'error',
                 **kwargs) -> None:
        self.min_size = min_size
        self.on_missing_image = check_choice('on_missing_image',
                                             on_missing_image,
                                             ('error', 'skip'))
        if data_root:
            data_root = osp.expanduser(str(data_root))
        if kwargs.get('ann_file'):
            kwargs['ann_file'] = osp.expanduser(str(kwargs['ann_file']))
        super().__init__(
            *args, data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the ``.mat`` into one ``data_info`` dict per image.

        Returns:
            list[dict]: see the class docstring.
        """
        with get_local_path(
                self.ann_file, backend_args=self.backend_args) as local_path:
            gt = load_ground_truth(local_path, self.min_size)
        if not len(gt):
            raise ValueError(f'{self.ann_file}: no image listed')
        img_prefix = self.data_prefix.get('img', '')
        img_paths = [osp.join(img_prefix, name) for name in gt.image_names]
        present = check_image_files(img_paths, self.ann_file,
                                    self.on_missing_image, img_prefix,
                                    self.backend_args)
        boxes = gt.boxes.tolist()
        ignore = gt.ignore.astype(int).tolist()
        offsets = gt.face_offsets.tolist()
        data_list = []
        for i, img_path in enumerate(img_paths):
            if not present[i]:
                continue
            width, height = gt.image_sizes[i].tolist()
            faces = range(offsets[i], offsets[i + 1])
            data_list.append(
                dict(
                    img_path=img_path,
                    img_id=gt.image_keys[i],
                    width=width,
                    height=height,
                    instances=[
                        dict(
                            bbox=boxes[j],
                            bbox_label=0,
                            ignore_flag=ignore[j]) for j in faces
                    ]))
        return data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        """``[0] * num_faces`` of image ``idx``."""
        return [0] * len(self.get_data_info(idx)['instances'])
