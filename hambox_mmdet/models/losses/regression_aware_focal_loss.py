# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import Optional

import torch
from mmdet.models.losses import FocalLoss
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class RegressionAwareFocalLoss(FocalLoss):
    """The regression-aware focal loss of HAMBox (CVPR 2020).

    With ``FL`` the sigmoid focal loss of an anchor (summed over classes):

    .. math::

        L_{cls} = \\frac{1}{N_{norm}} \\sum_{i \\in stage 1} w_i FL(p_i, y_i)
                + \\frac{1}{N_{com}} \\sum_{i \\in com} F_i FL(p_i, y_i)

    - stage-1 anchors (positives and negatives of the standard matching) get
      the plain focal loss, normalised by ``avg_factor`` (N_norm, the number
      of stage-1 positives); except that a stage-1 *negative* whose regressed
      box already overlaps a face with IoU ``>= ignore_reg_iou_thr`` is
      ignored (``w_i = 0``) instead of being pushed to background;
    - compensated anchors get the focal loss towards their face's class,
      weighted by ``F_i``, the (detached) IoU of their regressed box with the
      face, and normalised by ``com_avg_factor`` (N_com, the number of
      compensated anchors).

    Called without ``compensated`` it is exactly mmdet's :class:`FocalLoss`,
    so it can replace it anywhere.

    Args:
        ignore_reg_iou_thr (float): Regressed-box IoU from which an
            uncompensated negative is ignored. Defaults to 0.5. ``None``
            disables the rule.
        **kwargs: :class:`FocalLoss`'s arguments (``use_sigmoid=True``,
            ``gamma=2.0``, ``alpha=0.25``, ``reduction='mean'``,
            ``loss_weight=1.0``, ``activated=False``).
    """

    def __init__(self, ignore_reg_iou_thr: Optional[float] = 0.5,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.ignore_reg_iou_thr = ignore_reg_iou_thr

    def ignored_negatives(self, target: Tensor, num_classes: int,
                          compensated: Tensor, reg_ious: Tensor) -> Tensor:
        """The stage-1 negatives that the loss ignores instead of pushing
        to background: not compensated, regressed IoU with a face
        ``>= ignore_reg_iou_thr``.

        Args:
            target (Tensor): Labels, shape (N, ); ``num_classes`` is
                background.
            num_classes (int): C.
            compensated (Tensor): Bool, shape (N, ).
            reg_ious (Tensor): Shape (N, ).

        Returns:
            Tensor: Bool, shape (N, ) (all False when the rule is off).
        """
        if self.ignore_reg_iou_thr is None:
            return torch.zeros_like(compensated, dtype=torch.bool)
        return ((target == num_classes) & ~compensated.bool()
                & (reg_ious >= self.ignore_reg_iou_thr))

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                compensated: Optional[Tensor] = None,
                reg_ious: Optional[Tensor] = None,
                com_avg_factor: Optional[float] = None) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Logits, shape (N, C).
            target (Tensor): Labels, shape (N, ), in [0, C]; C = background.
            weight (Tensor, optional): Label weights, shape (N, ) (0 for
                ignored anchors). Defaults to None (all 1).
            avg_factor (float, optional): N_norm, normaliser of the stage-1
                term. Defaults to None.
            reduction_override (str, optional): 'none', 'mean' or 'sum'.
                With 'none' the per-anchor contributions (N, ), already
                weighted and normalised, are returned (their sum is the loss).
            compensated (Tensor, optional): Bool, shape (N, ): anchors made
                positive by HAMBox's compensation. None: plain focal loss.
            reg_ious (Tensor, optional): Shape (N, ): the IoU of each
                anchor's regressed box with its face (positives) or with its
                best face (others). Required with ``compensated``.
            com_avg_factor (float, optional): N_com, normaliser of the
                compensated term. Defaults to None (1).

        Returns:
            Tensor: the loss (a scalar, or (N, ) with reduction 'none').
        """
        if compensated is None:
            return super().forward(
                pred, target, weight, avg_factor, reduction_override)
        if reg_ious is None:
            raise ValueError('RegressionAwareFocalLoss needs `reg_ious` '
                             'together with `compensated`')
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or self.reduction
        if reduction == 'sum' and (avg_factor is not None
                                   or com_avg_factor is not None):
            # as mmdet's weight_reduce_loss: a normaliser means 'mean'
            raise ValueError('avg_factor can not be used with reduction="sum"')
        compensated = compensated.bool()
        reg_ious = reg_ious.detach().to(pred.dtype)
        # (N, C) loss_weight * focal loss, unreduced; summed over classes
        per_anchor = super().forward(
            pred, target, reduction_override='none').sum(dim=-1)
        label_weight = (pred.new_ones(pred.size(0))
                        if weight is None else weight.to(pred.dtype))

        norm_weight = label_weight * (~compensated).to(pred.dtype)
        norm_weight = norm_weight.masked_fill(
            self.ignored_negatives(target, pred.size(1), compensated,
                                   reg_ious), 0.)
        com_weight = label_weight * reg_ious * compensated.to(pred.dtype)

        norm = 1. if avg_factor is None else float(avg_factor)
        com = 1. if com_avg_factor is None else float(com_avg_factor)
        eps = torch.finfo(torch.float32).eps
        loss = (per_anchor * norm_weight / (norm + eps) +
                per_anchor * com_weight / (com + eps))
        if reduction == 'none':
            return loss
        return loss.sum()
