# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import Optional

from mmdet.models.task_modules.assigners import ATSSAssigner
from mmdet.models.task_modules.assigners.assign_result import AssignResult
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData


@TASK_UTILS.register_module()
class LevelATSSAssigner(ATSSAssigner):
    """mmdet's :class:`ATSSAssigner` behind the assigner interface that
    RetinaHead-style heads call: ``assign(pred_instances, gt_instances,
    gt_instances_ignore)``.

    ATSS picks its candidates per pyramid level, so it needs the number of
    anchors of each level, which ``RetinaHead`` does not pass.
    :class:`HAMBoxHead` publishes them in ``pred_instances.metainfo``
    (``num_level_priors``: the anchors inside the image per level, in the
    order of ``priors``); this class forwards them, and nothing else
    differs from mmdet's assigner. It lets ATSS be compared with HAMBox on
    the same network (no centre-ness branch, unlike mmdet's ``ATSSHead``).

    Args:
        **kwargs: :class:`ATSSAssigner`'s arguments (``topk``,
            ``iou2d_calculator``, ``ignore_iof_thr``).
    """

    def assign(self,
               pred_instances: InstanceData,
               gt_instances: InstanceData,
               gt_instances_ignore: Optional[InstanceData] = None
               ) -> AssignResult:
        """Assign the anchors ``pred_instances.priors`` (N, 4).

        Args:
            pred_instances (:obj:`InstanceData`): ``priors`` (N, 4), with
                ``num_level_priors`` (list[int], summing to N) in its
                metainfo.
            gt_instances (:obj:`InstanceData`): ``bboxes`` (M, 4),
                ``labels`` (M, ).
            gt_instances_ignore (:obj:`InstanceData`, optional): ``bboxes``
                of ignored regions.

        Returns:
            :obj:`AssignResult`: mmdet's ATSS assignment.
        """
        num_level_priors = pred_instances.metainfo.get('num_level_priors')
        if num_level_priors is None:
            raise ValueError(
                'LevelATSSAssigner needs pred_instances.metainfo'
                "['num_level_priors'] (anchors per level); use it with "
                "type='HAMBoxHead', which passes them")
        if sum(num_level_priors) != len(pred_instances.priors):
            raise ValueError(
                f'num_level_priors {list(num_level_priors)} sum to '
                f'{sum(num_level_priors)}, not to the '
                f'{len(pred_instances.priors)} priors')
        return super().assign(pred_instances, list(num_level_priors),
                              gt_instances, gt_instances_ignore)
