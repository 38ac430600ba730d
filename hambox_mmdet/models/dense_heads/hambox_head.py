# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch
from mmdet.models.dense_heads import RetinaHead
from mmdet.models.task_modules.prior_generators import anchor_inside_flags
from mmdet.models.utils import multi_apply, unmap
from mmdet.registry import MODELS
from mmdet.structures.bbox import cat_boxes, get_box_tensor
from mmdet.utils import InstanceList, OptInstanceList, reduce_mean
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData
from torch import Tensor

from ..losses import (COM_NORMALIZERS, RegressionAwareFocalLoss,
                      com_normalizers)


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
    paper's ablation. With an assigner that does not mark compensated
    anchors (e.g. ``MaxIoUAssigner``), it trains like RetinaHead, except for
    the distributed averaging of the normaliser.

    The loss dict also logs ``num_pos_norm`` and ``num_pos_com``, the
    stage-1 and compensated positives per image, and, with the
    regression-aware loss, its four terms ``cls_stage1``, ``cls_com``,
    ``bbox_stage1`` and ``bbox_com``, each divided by all positives whatever
    ``com_normalizer`` is, so that loss curves of different runs compare
    like for like (in the ``'joint'`` form they add up to the two losses).
    With an assigner that has ``num_compensate`` (K), every call also
    records in mmengine's
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
        if batch_gt_instances_ignore is None:
            batch_gt_instances_ignore = [None] * num_imgs

        (labels, label_weights, bbox_targets, bbox_weights, compensated,
         reg_ious, sampling_results, face_stats) = multi_apply(
             self._get_targets_single, [flat_anchors] * num_imgs,
             [torch.cat(flags) for flags in valid_flag_list],
             list(flat_reg.detach()), batch_gt_instances, batch_img_metas,
             batch_gt_instances_ignore,
             num_level_anchors=[len(a) for a in anchor_list[0]])
        self._raw_positive_infos.update(sampling_results=sampling_results)
        labels = torch.cat(labels)  # (B * N, )
        label_weights = torch.cat(label_weights)
        bbox_targets = torch.cat(bbox_targets)
        bbox_weights = torch.cat(bbox_weights)
        compensated = torch.cat(compensated)
        reg_ious = torch.cat(reg_ious)
        positive = bbox_weights.sum(dim=-1) > 0
        stage1_pos = positive & ~compensated

        flat_cls = flat_cls.reshape(-1, self.cls_out_channels)
        flat_reg = flat_reg.reshape(-1, self.bbox_coder.encode_size)
        box_args = (flat_reg, flat_anchors, bbox_targets, bbox_weights)
        terms = {}
        if isinstance(self.loss_cls, RegressionAwareFocalLoss):
            loss_cls, loss_bbox, _, terms = self._regression_aware_losses(
                flat_cls, labels, label_weights, compensated, reg_ious,
                stage1_pos, box_args)
        else:
            num_pos = self._avg_factor(positive)
            loss_cls = self.loss_cls(
                flat_cls, labels, label_weights, avg_factor=num_pos)
            loss_bbox = self._box_loss(positive, num_pos, *box_args)
        self._record_mining_stats(
            torch.stack(face_stats).sum(0), compensated, reg_ious, labels,
            label_weights, num_imgs)
        return dict(
            loss_cls=loss_cls,
            loss_bbox=loss_bbox,
            num_pos_norm=stage1_pos.sum().float() / num_imgs,
            num_pos_com=compensated.sum().float() / num_imgs,
            **terms)

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

    def _record_mining_stats(self, face_stats: Tensor, compensated: Tensor,
                             reg_ious: Tensor, labels: Tensor,
                             label_weights: Tensor, num_imgs: int) -> None:
        """Record the batch's mining statistics in the MessageHub.

        Args:
            face_stats (Tensor): Shape (3, ): faces, faces with D < K before
                compensation and after, summed over the batch.
            compensated, reg_ious, labels, label_weights (Tensor): Per
                anchor of the batch, shape (B * N, ).
            num_imgs (int): B.
        """
        if getattr(self.assigner, 'num_compensate', None) is None:
            return
        num_faces, below_stage1, below_final = face_stats.tolist()
        num_comp = int(compensated.sum())
        comp_iou = reg_ious[compensated].sum().item() / max(num_comp, 1)
        ignored = 0
        if isinstance(self.loss_cls, RegressionAwareFocalLoss):
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

    def _get_targets_single(self,
                            flat_anchors: Tensor,
                            valid_flags: Tensor,
                            flat_deltas: Tensor,
                            gt_instances: InstanceData,
                            img_meta: dict,
                            gt_instances_ignore: Optional[InstanceData] = None,
                            unmap_outputs: bool = True,
                            num_level_anchors: Optional[List[int]] = None
                            ) -> Tuple:
        """Targets of one image, with the regressed boxes for the assigner.

        Args:
            flat_anchors (Tensor): All levels' anchors, shape (N, 4).
            valid_flags (Tensor): Bool, shape (N, ).
            flat_deltas (Tensor): The detached regression output of the
                image, shape (N, encode_size), in the anchors' order.
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
            tuple: per anchor ``labels`` (N, ), ``label_weights`` (N, ),
            ``bbox_targets`` (N, 4), ``bbox_weights`` (N, 4),
            ``compensated`` (N, ) bool, ``reg_ious`` (N, ), the
            ``sampling_result``, and ``face_stats`` (3, ): the number of
            faces, of faces with fewer than K stage-1 anchors, and of faces
            with fewer than K anchors after compensation.
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

        num_valid = anchors.shape[0]
        target_dim = gt_instances.bboxes.size(-1) if self.reg_decoded_bbox \
            else self.bbox_coder.encode_size
        bbox_targets = anchors.new_zeros(num_valid, target_dim)
        bbox_weights = anchors.new_zeros(num_valid, target_dim)
        labels = anchors.new_full((num_valid, ),
                                  self.num_classes,
                                  dtype=torch.long)
        label_weights = anchors.new_zeros(num_valid, dtype=torch.float)
        compensated = assign_result.get_extra_property('compensated')
        if compensated is None:
            compensated = anchors.new_zeros(num_valid, dtype=torch.bool)
        reg_ious = assign_result.get_extra_property('reg_ious')
        if reg_ious is None:
            reg_ious = anchors.new_zeros(num_valid)
        face_stats = self._face_stats(assign_result, compensated)

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
        return (labels, label_weights, bbox_targets, bbox_weights,
                compensated, reg_ious, sampling_result, face_stats)

    def _face_stats(self, assign_result, compensated: Tensor) -> Tensor:
        """Faces, faces with D < K before and after compensation: (3, )."""
        k = getattr(self.assigner, 'num_compensate', 0)
        gt_inds, num_gts = assign_result.gt_inds, assign_result.num_gts
        pos = gt_inds > 0
        stage1 = torch.bincount(
            gt_inds[pos & ~compensated] - 1, minlength=num_gts)
        final = torch.bincount(gt_inds[pos] - 1, minlength=num_gts)
        return torch.stack([
            stage1.new_tensor(num_gts), (stage1 < k).sum(),
            (final < k).sum()
        ])
