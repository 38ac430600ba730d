# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch
from mmdet.models.dense_heads import RetinaHead
from mmdet.models.task_modules.prior_generators import anchor_inside_flags
from mmdet.models.utils import images_to_levels, multi_apply, unmap
from mmdet.registry import MODELS
from mmdet.structures.bbox import cat_boxes, get_box_tensor
from mmdet.utils import InstanceList, OptInstanceList, reduce_mean
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData
from torch import Tensor

from ..losses import (COM_NORMALIZERS, RegressionAwareFocalLoss,
                      com_normalizers)
from ..task_modules.assigners.mining_properties import mining_properties


@MODELS.register_module()
class HAMBoxHead(RetinaHead):
    """RetinaHead trained with HAMBox's online high-quality anchor mining.

    The network and inference are RetinaHead's. Training differs in two
    ways:

    - the assigner receives, besides the anchors (``priors``), each anchor's
      current regressed box (``bboxes``: the regression output of this
      forward pass, detached and decoded), which :class:`HAMBoxAssigner`
      uses to compensate faces with too few matched anchors;
    - with :class:`RegressionAwareFocalLoss` as ``loss_cls``, the loss of the
      paper: stage-1 anchors get the focal loss, with uncompensated
      negatives whose regressed box already has IoU >= 0.5 with a face
      ignored; compensated anchors get the focal loss weighted by their
      regressed IoU; the box loss is applied to both groups. The divisors
      follow the loss's ``com_normalizer``: ``'joint'`` (default) divides
      every term by all positives N_norm + N_com; ``'separate'`` (the
      paper's formula read literally) divides the stage-1 terms by N_norm
      and the compensated terms by N_com, which collapsed training in every
      measurement of ``BENCHMARKS.md``. ``bbox_com_normalizer`` sets the box
      term's divisors apart from the classification's (an ablation knob).
      N_norm and N_com are averaged over processes in distributed training
      (as mmdet's ATSS and GFL heads do); each divisor is at least 1.

    With any other ``loss_cls`` (e.g. mmdet's ``FocalLoss``), compensated
    anchors are ordinary positives: mining without the new loss, as in the
    paper's ablation.

    What the head knows of the mining comes from the assigner's
    :class:`AssignResult` alone, read by :func:`mining_properties` (module
    ``hambox_mmdet.models.task_modules.assigners.mining_properties``, which
    documents the keys and shapes): the compensated-anchor mask, the
    regressed IoUs, each face's anchor counts before and after
    compensation, and K, published by :class:`HAMBoxAssigner`. An assigner
    that publishes none of them (e.g. ``MaxIoUAssigner``,
    :class:`LevelATSSAssigner`) compensated nothing: the head then trains
    like RetinaHead, except for the distributed averaging of the
    normaliser, and records no mining statistics.

    The loss dict also logs ``num_pos_norm`` and ``num_pos_com``, the
    stage-1 and compensated positives per image, and, with the
    regression-aware loss, its four terms ``cls_stage1``, ``cls_com``,
    ``bbox_stage1`` and ``bbox_com``, each divided by all positives whatever
    ``com_normalizer`` is, so that loss curves of different runs compare
    like for like (in the ``'joint'`` form they add up to the two losses).
    With an assigner that publishes the mining properties (and so K), every
    call also records in mmengine's
    :class:`MessageHub` (hence the log, ``vis_data/scalars.json`` and
    TensorBoard) these statistics of the batch, pooled over its images:

    - ``hambox/compensated_per_img``: compensated anchors per image;
    - ``hambox/faces_below_k_stage1``: share of the faces (not the ignored
      ones) with fewer than K stage-1 anchors (D < K);
    - ``hambox/faces_below_k_final``: the same share after compensation;
    - ``hambox/compensated_reg_iou``: mean regressed IoU of the compensated
      anchors with their faces (0 when none was compensated);
    - ``hambox/ignored_negatives_per_img``: stage-1 negatives per image that
      the regression-aware focal loss ignores (regressed IoU with a face
      ``>= ignore_reg_iou_thr``, not compensated); 0 with another loss.

    Args:
        loss_cls (dict): Classification loss. Defaults to the paper's
            ``RegressionAwareFocalLoss`` (sigmoid, alpha 0.25, gamma 2,
            ``com_normalizer='joint'``).
        bbox_com_normalizer (str, optional): ``'joint'`` or ``'separate'``
            for the box loss's two terms; None (default): the same as
            ``loss_cls.com_normalizer``.
        **kwargs: :class:`RetinaHead`'s arguments.
    """

    def __init__(self,
                 *args,
                 loss_cls: dict = dict(
                     type='RegressionAwareFocalLoss',
                     use_sigmoid=True,
                     gamma=2.0,
                     alpha=0.25,
                     loss_weight=1.0),
                 bbox_com_normalizer: Optional[str] = None,
                 **kwargs) -> None:
        if bbox_com_normalizer not in (None, ) + COM_NORMALIZERS:
            raise ValueError(
                f'bbox_com_normalizer must be None or one of '
                f'{COM_NORMALIZERS}, got {bbox_com_normalizer!r}')
        self.bbox_com_normalizer = bbox_com_normalizer
        loss_cls = dict(loss_cls)
        if loss_cls.get('type') in ('RegressionAwareFocalLoss',
                                    RegressionAwareFocalLoss):
            # the loss is sigmoid-only; the head must size its outputs so
            loss_cls.setdefault('use_sigmoid', True)
        super().__init__(*args, loss_cls=loss_cls, **kwargs)

    def loss_by_feat(
            self,
            cls_scores: List[Tensor],
            bbox_preds: List[Tensor],
            batch_gt_instances: InstanceList,
            batch_img_metas: List[dict],
            batch_gt_instances_ignore: OptInstanceList = None) -> dict:
        """Compute the HAMBox losses from the head's outputs.

        Args:
            cls_scores (list[Tensor]): Per level, shape
                (B, num_base_priors * num_classes, H, W).
            bbox_preds (list[Tensor]): Per level, shape
                (B, num_base_priors * 4, H, W).
            batch_gt_instances (list[:obj:`InstanceData`]): Per image, the
                faces' ``bboxes`` (num_gts, 4) and ``labels`` (num_gts, ).
            batch_img_metas (list[dict]): Per image meta information.
            batch_gt_instances_ignore (list[:obj:`InstanceData`], optional):
                Per image, ``bboxes`` of ignored regions. Defaults to None.

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``loss_bbox``, and the logged
            ``num_pos_norm``, ``num_pos_com``.
        """
        num_imgs = len(batch_img_metas)
        featmap_sizes = [featmap.size()[-2:] for featmap in cls_scores]
        assert len(featmap_sizes) == self.prior_generator.num_levels
        anchor_list, valid_flag_list = self.get_anchors(
            featmap_sizes, batch_img_metas, device=cls_scores[0].device)
        # the same anchors for every image of the batch: (N, 4)
        flat_anchors = cat_boxes(anchor_list[0])
        # (B, N, C) and (B, N, 4), anchors in get_anchors' order
        flat_cls = torch.cat([
            s.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.cls_out_channels)
            for s in cls_scores
        ], 1)
        flat_reg = torch.cat([
            b.permute(0, 2, 3, 1).reshape(num_imgs, -1,
                                          self.bbox_coder.encode_size)
            for b in bbox_preds
        ], 1)

        (labels_list, label_weights_list, bbox_targets_list,
         bbox_weights_list, _, compensated_list, reg_ious_list,
         num_matched_stage1_list, num_matched_final_list,
         num_compensate) = self.get_targets(flat_reg, anchor_list,
                                            valid_flag_list,
                                            batch_gt_instances,
                                            batch_img_metas,
                                            batch_gt_instances_ignore)
        # per anchor of the batch, (B * N, ...), images major
        labels = self._levels_to_batch(labels_list)
        label_weights = self._levels_to_batch(label_weights_list)
        bbox_targets = self._levels_to_batch(bbox_targets_list)
        bbox_weights = self._levels_to_batch(bbox_weights_list)
        compensated = self._levels_to_batch(compensated_list)
        reg_ious = self._levels_to_batch(reg_ious_list)
        positive = bbox_weights.sum(dim=-1) > 0
        stage1_pos = positive & ~compensated

        flat_cls = flat_cls.reshape(-1, self.cls_out_channels)
        flat_reg = flat_reg.reshape(-1, self.bbox_coder.encode_size)
        box_args = (flat_reg, flat_anchors, bbox_targets, bbox_weights)
        terms = {}
        if self._regression_aware:
            loss_cls, loss_bbox, _, terms = self._regression_aware_losses(
                flat_cls, labels, label_weights, compensated, reg_ious,
                stage1_pos, box_args)
        else:
            num_pos = self._avg_factor(positive)
            loss_cls = self.loss_cls(
                flat_cls, labels, label_weights, avg_factor=num_pos)
            loss_bbox = self._box_loss(positive, num_pos, *box_args)
        if num_compensate is not None:  # the assigner mines
            self._record_mining_stats(num_matched_stage1_list,
                                      num_matched_final_list, num_compensate,
                                      compensated, reg_ious, labels,
                                      label_weights, num_imgs)
        return dict(
            loss_cls=loss_cls,
            loss_bbox=loss_bbox,
            num_pos_norm=stage1_pos.sum().float() / num_imgs,
            num_pos_com=compensated.sum().float() / num_imgs,
            **terms)

    @property
    def _regression_aware(self) -> bool:
        """Whether ``loss_cls`` is :class:`RegressionAwareFocalLoss`, which
        treats compensated anchors apart; any other loss treats them as
        ordinary positives."""
        return isinstance(self.loss_cls, RegressionAwareFocalLoss)

    @staticmethod
    def _levels_to_batch(level_targets: List[Tensor]) -> Tensor:
        """Per level (B, N_l, ...) -> (B * N, ...), images major, each
        image's anchors in ``get_anchors``' order (undoes
        ``images_to_levels``)."""
        targets = torch.cat(level_targets, 1)
        return targets.reshape(-1, *targets.shape[2:])

    def _regression_aware_losses(self, flat_cls: Tensor, labels: Tensor,
                                 label_weights: Tensor, compensated: Tensor,
                                 reg_ious: Tensor, stage1_pos: Tensor,
                                 box_args: tuple) -> Tuple[Tensor, Tensor,
                                                           dict, dict]:
        """The paper's losses, with the divisors of ``com_normalizer``.

        Args:
            flat_cls (Tensor): Logits, shape (B * N, C).
            labels, label_weights, reg_ious (Tensor): Shape (B * N, ).
            compensated, stage1_pos (Tensor): Bool, shape (B * N, ).
            box_args (tuple): What :meth:`_box_loss` takes after the mask.

        Returns:
            tuple: ``loss_cls``, ``loss_bbox``; the dict of their four
            terms as they enter them (differentiable; for gradient analyses
            such as ``benchmarks/loss_gradient_share.py``): ``cls_stage1``,
            ``cls_com``, ``bbox_stage1``, ``bbox_com``; and the same four
            for the log (detached), each divided by all positives whatever
            the normaliser, so that runs compare like for like.
        """
        # counts averaged over processes (as mmdet's ATSS and GFL heads do)
        num_norm = reduce_mean(stage1_pos.sum().float()).item()
        num_com = reduce_mean(compensated.sum().float()).item()
        per_anchor = self.loss_cls(
            flat_cls,
            labels,
            label_weights,
            avg_factor=num_norm,
            reduction_override='none',
            compensated=compensated,
            reg_ious=reg_ious,
            com_avg_factor=num_com)
        cls_div = com_normalizers(num_norm, num_com,
                                  self.loss_cls.com_normalizer)
        bbox_div = com_normalizers(num_norm, num_com,
                                   self.bbox_com_normalizer
                                   or self.loss_cls.com_normalizer)
        bbox_stage1 = self._box_loss(stage1_pos, bbox_div[0], *box_args)
        bbox_com = self._box_loss(compensated, bbox_div[1], *box_args)
        parts = dict(
            cls_stage1=per_anchor[~compensated].sum(),
            cls_com=per_anchor[compensated].sum(),
            bbox_stage1=bbox_stage1,
            bbox_com=bbox_com)
        total = com_normalizers(num_norm, num_com, 'joint')[0]
        divisors = dict(cls_stage1=cls_div[0], cls_com=cls_div[1],
                        bbox_stage1=bbox_div[0], bbox_com=bbox_div[1])
        terms = {k: v.detach() * divisors[k] / total
                 for k, v in parts.items()}
        return per_anchor.sum(), bbox_stage1 + bbox_com, parts, terms

    def _record_mining_stats(self, num_matched_stage1: List[Tensor],
                             num_matched_final: List[Tensor],
                             num_compensate: int, compensated: Tensor,
                             reg_ious: Tensor, labels: Tensor,
                             label_weights: Tensor, num_imgs: int) -> None:
        """Record the batch's mining statistics in the MessageHub.

        Args:
            num_matched_stage1, num_matched_final (list[Tensor]): Per image,
                shape (num_gts, ): each face's anchors before and after
                compensation, as the assigner published them.
            num_compensate (int): K.
            compensated, reg_ious, labels, label_weights (Tensor): Per
                anchor of the batch, shape (B * N, ).
            num_imgs (int): B.
        """
        stage1 = torch.cat(num_matched_stage1)
        num_faces = stage1.numel()
        below_stage1 = int((stage1 < num_compensate).sum())
        below_final = int((torch.cat(num_matched_final)
                           < num_compensate).sum())
        num_comp = int(compensated.sum())
        comp_iou = reg_ious[compensated].sum().item() / max(num_comp, 1)
        ignored = 0
        if self._regression_aware:
            ignored = int((self.loss_cls.ignored_negatives(
                labels, self.num_classes, compensated, reg_ious)
                           & (label_weights > 0)).sum())
        hub = MessageHub.get_current_instance()
        for key, value in (
            ('compensated_per_img', num_comp / num_imgs),
            ('faces_below_k_stage1', below_stage1 / max(num_faces, 1)),
            ('faces_below_k_final', below_final / max(num_faces, 1)),
            ('compensated_reg_iou', comp_iou),
            ('ignored_negatives_per_img', ignored / num_imgs),
        ):
            hub.update_scalar(f'train/hambox/{key}', float(value))

    @staticmethod
    def _avg_factor(mask: Tensor) -> float:
        """Count of ``mask``, averaged over processes, at least 1."""
        return max(reduce_mean(mask.sum().float()).item(), 1.)

    def _box_loss(self, mask: Tensor, avg_factor: float, flat_reg: Tensor,
                  flat_anchors: Tensor, bbox_targets: Tensor,
                  bbox_weights: Tensor) -> Tensor:
        """The box loss over the anchors of ``mask`` (shape (B * N, ))."""
        inds = mask.nonzero(as_tuple=True)[0]
        pred = flat_reg[inds]
        if self.reg_decoded_bbox:
            anchors = get_box_tensor(flat_anchors)[inds % len(flat_anchors)]
            pred = get_box_tensor(self.bbox_coder.decode(anchors, pred))
        return self.loss_bbox(
            pred, bbox_targets[inds], bbox_weights[inds],
            avg_factor=avg_factor)

    def get_targets(self,
                    bbox_preds: Tensor,
                    anchor_list: List[List[Tensor]],
                    valid_flag_list: List[List[Tensor]],
                    batch_gt_instances: InstanceList,
                    batch_img_metas: List[dict],
                    batch_gt_instances_ignore: OptInstanceList = None,
                    unmap_outputs: bool = True,
                    return_sampling_results: bool = False) -> tuple:
        """:meth:`AnchorHead.get_targets`, with the regression output for
        the assigner, and the mining of each image.

        As mmdet's TOODHead does, the extra input comes first and the
        returns are :class:`AnchorHead`'s followed by the extras.

        Args:
            bbox_preds (Tensor): The regression output, shape
                (B, N, encode_size), each image's anchors in ``anchor_list``'s
                order; detached here.
            anchor_list, valid_flag_list, batch_gt_instances,
            batch_img_metas, batch_gt_instances_ignore, unmap_outputs,
            return_sampling_results: As in :meth:`AnchorHead.get_targets`.

        Returns:
            tuple: :meth:`AnchorHead.get_targets`' returns: ``labels_list``,
            ``label_weights_list``, ``bbox_targets_list``,
            ``bbox_weights_list`` (per level, (B, N_l, ...)), ``avg_factor``
            (the positives, as the sampler counts them: compensated
            included), and ``sampling_results_list`` if
            ``return_sampling_results``; then the mining of the batch (see
            :func:`mining_properties`; all-False / 0 / ``None`` for an
            assigner that does not mine):

            - ``compensated_list`` (list[Tensor]): per level, bool,
              (B, N_l): anchors made positive by compensation;
            - ``reg_ious_list`` (list[Tensor]): per level, (B, N_l): the
              regressed IoU of each anchor with its face (positives) or its
              best face (others);
            - ``num_matched_stage1_list``, ``num_matched_final_list``
              (list[Tensor]): per image, long, (num_gts, ): each face's
              anchors before and after compensation;
            - ``num_compensate`` (int | None): K; None where the assigner
              does not mine.
        """
        num_imgs = len(batch_img_metas)
        assert len(anchor_list) == len(valid_flag_list) == num_imgs
        assert bbox_preds.size(0) == num_imgs
        if batch_gt_instances_ignore is None:
            batch_gt_instances_ignore = [None] * num_imgs
        num_level_anchors = [anchors.size(0) for anchors in anchor_list[0]]
        results = multi_apply(
            self._get_targets_single,
            list(bbox_preds.detach()),
            [cat_boxes(anchors) for anchors in anchor_list],
            [torch.cat(flags) for flags in valid_flag_list],
            batch_gt_instances,
            batch_img_metas,
            batch_gt_instances_ignore,
            unmap_outputs=unmap_outputs,
            num_level_anchors=num_level_anchors)
        (all_labels, all_label_weights, all_bbox_targets, all_bbox_weights,
         _, _, sampling_results_list, all_compensated, all_reg_ious,
         num_matched_stage1_list, num_matched_final_list,
         num_compensate_list) = results
        if len(set(num_compensate_list)) != 1:
            raise ValueError('the assigner published different K '
                             f'(num_compensate) per image: '
                             f'{num_compensate_list}')
        avg_factor = sum(r.avg_factor for r in sampling_results_list)
        self._raw_positive_infos.update(sampling_results=sampling_results_list)
        res = tuple(
            images_to_levels(targets, num_level_anchors)
            for targets in (all_labels, all_label_weights, all_bbox_targets,
                            all_bbox_weights)) + (avg_factor, )
        if return_sampling_results:
            res = res + (sampling_results_list, )
        return res + (images_to_levels(all_compensated, num_level_anchors),
                      images_to_levels(all_reg_ious, num_level_anchors),
                      num_matched_stage1_list, num_matched_final_list,
                      num_compensate_list[0])

    def _get_targets_single(self,
                            flat_deltas: Tensor,
                            flat_anchors: Tensor,
                            valid_flags: Tensor,
                            gt_instances: InstanceData,
                            img_meta: dict,
                            gt_instances_ignore: Optional[InstanceData] = None,
                            unmap_outputs: bool = True,
                            num_level_anchors: Optional[List[int]] = None
                            ) -> tuple:
        """:meth:`AnchorHead._get_targets_single`, with the regressed boxes
        for the assigner, and the image's mining.

        Args:
            flat_deltas (Tensor): The extra input: the detached regression
                output of the image, shape (N, encode_size), in the anchors'
                order.
            flat_anchors (Tensor): All levels' anchors, shape (N, 4).
            valid_flags (Tensor): Bool, shape (N, ).
            gt_instances (:obj:`InstanceData`): ``bboxes``, ``labels``.
            img_meta (dict): Meta information of the image.
            gt_instances_ignore (:obj:`InstanceData`, optional): ``bboxes``
                of ignored regions.
            unmap_outputs (bool): Map outputs back to all N anchors.
            num_level_anchors (list[int], optional): Anchors per level
                (summing to N). Given, the assigner finds the anchors inside
                the image per level in ``pred_instances.metainfo``
                (``num_level_priors``), as level-wise assigners such as
                :class:`LevelATSSAssigner` need.

        Returns:
            tuple: :meth:`AnchorHead._get_targets_single`'s returns,
            ``labels`` (N, ), ``label_weights`` (N, ), ``bbox_targets``
            (N, 4), ``bbox_weights`` (N, 4), ``pos_inds``, ``neg_inds``,
            ``sampling_result``; then the image's
            :class:`MiningProperties` as read by
            :func:`mining_properties`: ``compensated`` (N, ) bool,
            ``reg_ious`` (N, ) (both over all N anchors with
            ``unmap_outputs``, else over those inside the image),
            ``num_matched_stage1`` and ``num_matched_final`` (num_gts, )
            long, and ``num_compensate`` (int | None).
        """
        inside_flags = anchor_inside_flags(flat_anchors, valid_flags,
                                           img_meta['img_shape'][:2],
                                           self.train_cfg['allowed_border'])
        if not inside_flags.any():
            raise ValueError(
                'There is no valid anchor inside the image boundary. Please '
                'check the image size and anchor sizes, or set '
                '``allowed_border`` to -1 to skip the condition.')
        anchors = flat_anchors[inside_flags]
        with torch.no_grad():
            # float32 under AMP too: a large face's area overflows fp16
            reg_bboxes = get_box_tensor(
                self.bbox_coder.decode(
                    anchors.float(),
                    flat_deltas[inside_flags].float(),
                    max_shape=img_meta['img_shape'][:2])).float()
        pred_instances = InstanceData(priors=anchors, bboxes=reg_bboxes)
        if num_level_anchors is not None:
            per_level = inside_flags.split(num_level_anchors)
            pred_instances.set_metainfo(dict(num_level_priors=torch.stack(
                [f.sum() for f in per_level]).tolist()))
        assign_result = self.assigner.assign(pred_instances, gt_instances,
                                             gt_instances_ignore)
        sampling_result = self.sampler.sample(assign_result, pred_instances,
                                              gt_instances)
        mining = mining_properties(assign_result)

        num_valid = anchors.shape[0]
        target_dim = gt_instances.bboxes.size(-1) if self.reg_decoded_bbox \
            else self.bbox_coder.encode_size
        bbox_targets = anchors.new_zeros(num_valid, target_dim)
        bbox_weights = anchors.new_zeros(num_valid, target_dim)
        labels = anchors.new_full((num_valid, ),
                                  self.num_classes,
                                  dtype=torch.long)
        label_weights = anchors.new_zeros(num_valid, dtype=torch.float)
        compensated, reg_ious = mining.compensated, mining.reg_ious

        pos_inds = sampling_result.pos_inds
        neg_inds = sampling_result.neg_inds
        if len(pos_inds) > 0:
            if not self.reg_decoded_bbox:
                pos_bbox_targets = self.bbox_coder.encode(
                    sampling_result.pos_priors, sampling_result.pos_gt_bboxes)
            else:
                pos_bbox_targets = get_box_tensor(
                    sampling_result.pos_gt_bboxes)
            bbox_targets[pos_inds, :] = pos_bbox_targets
            bbox_weights[pos_inds, :] = 1.0
            labels[pos_inds] = sampling_result.pos_gt_labels
            pos_weight = self.train_cfg['pos_weight']
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0

        if unmap_outputs:
            num_total = flat_anchors.size(0)
            labels = unmap(
                labels, num_total, inside_flags, fill=self.num_classes)
            label_weights = unmap(label_weights, num_total, inside_flags)
            bbox_targets = unmap(bbox_targets, num_total, inside_flags)
            bbox_weights = unmap(bbox_weights, num_total, inside_flags)
            compensated = unmap(compensated.float(), num_total,
                                inside_flags).bool()
            reg_ious = unmap(reg_ious, num_total, inside_flags)
        return (labels, label_weights, bbox_targets, bbox_weights, pos_inds,
                neg_inds, sampling_result, compensated, reg_ious,
                mining.num_matched_stage1, mining.num_matched_final,
                mining.num_compensate)
