# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import Optional, Tuple

import torch
from mmdet.models.losses import FocalLoss
from mmdet.registry import MODELS
from torch import Tensor

COM_NORMALIZERS = ('joint', 'separate')


def com_normalizers(num_norm: float, num_com: float,
                    mode: str) -> Tuple[float, float]:
    """The divisors of the stage-1 and the compensated terms.

    Args:
        num_norm (float): N_norm, the stage-1 positives (already averaged
            over processes in distributed training).
        num_com (float): N_com, the compensated anchors (likewise).
        mode (str): ``'joint'``: both terms are divided by all positives,
            ``max(N_norm + N_com, 1)``, as RetinaNet's focal loss divides by
            its positives; ``'separate'``: the paper's literal form, the
            stage-1 term by ``max(N_norm, 1)`` and the compensated term by
            ``max(N_com, 1)``.

    Returns:
        tuple[float, float]: divisor of the stage-1 term, of the
        compensated term.
    """
    if mode == 'joint':
        total = max(float(num_norm) + float(num_com), 1.)
        return total, total
    if mode == 'separate':
        return max(float(num_norm), 1.), max(float(num_com), 1.)
    raise ValueError(f'com_normalizer must be one of {COM_NORMALIZERS}, '
                     f'got {mode!r}')


@MODELS.register_module()
class RegressionAwareFocalLoss(FocalLoss):
    """The regression-aware focal loss of HAMBox (CVPR 2020).

    With ``FL`` the sigmoid focal loss of an anchor (summed over classes):

    .. math::

        L_{cls} = \\frac{1}{D_{1}} \\sum_{i \\in stage 1} w_i FL(p_i, y_i)
                + \\frac{1}{D_{com}} \\sum_{i \\in com} F_i FL(p_i, y_i)

    - stage-1 anchors (positives and negatives of the standard matching) get
      the plain focal loss; except that a stage-1 *negative* whose regressed
      box already overlaps a face with IoU ``>= ignore_reg_iou_thr`` is
      ignored (``w_i = 0``) instead of being pushed to background;
    - compensated anchors get the focal loss towards their face's class,
      weighted by ``F_i``, the (detached) IoU of their regressed box with the
      face (``iou_weighted=False``: weight 1).

    The divisors come from N_norm (``avg_factor``, the stage-1 positives) and
    N_com (``com_avg_factor``, the compensated anchors), by
    ``com_normalizer`` (see :func:`com_normalizers`):

    - ``'joint'`` (default): ``D_1 = D_com = N_norm + N_com``, all positives.
      Each compensated anchor weighs (at most) what a stage-1 positive
      weighs.
    - ``'separate'``: ``D_1 = N_norm``, ``D_com = N_com``, the paper's
      formula read literally. With about 1 compensated anchor per image
      against about 16 stage-1 positives each compensated anchor then
      weighs 10-16x a stage-1 positive; trained so, the small WIDER FACE
      models of ``BENCHMARKS.md`` lost about 40 AP against their baseline,
      while ``'joint'`` did not (the root-cause table there).

    Called without ``compensated`` it is exactly mmdet's :class:`FocalLoss`,
    so it can replace it anywhere.

    Args:
        ignore_reg_iou_thr (float): Regressed-box IoU from which an
            uncompensated negative is ignored. Defaults to 0.5. ``None``
            disables the rule.
        com_normalizer (str): ``'joint'`` or ``'separate'``. Defaults to
            ``'joint'``.
        iou_weighted (bool): Weight compensated anchors by ``F_i``. Defaults
            to True (the paper).
        **kwargs: :class:`FocalLoss`'s arguments (``use_sigmoid=True``,
            ``gamma=2.0``, ``alpha=0.25``, ``reduction='mean'``,
            ``loss_weight=1.0``, ``activated=False``).
    """

    def __init__(self,
                 ignore_reg_iou_thr: Optional[float] = 0.5,
                 com_normalizer: str = 'joint',
                 iou_weighted: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        com_normalizers(1., 1., com_normalizer)  # validates the name
        self.ignore_reg_iou_thr = ignore_reg_iou_thr
        self.com_normalizer = com_normalizer
        self.iou_weighted = iou_weighted

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
            avg_factor (float, optional): N_norm, the stage-1 positives.
            reduction_override (str, optional): 'none', 'mean' or 'sum'.
                With 'none' the per-anchor contributions (N, ), already
                weighted and normalised, are returned (their sum is the loss).
            compensated (Tensor, optional): Bool, shape (N, ): anchors made
                positive by HAMBox's compensation. None: plain focal loss.
            reg_ious (Tensor, optional): Shape (N, ): the IoU of each
                anchor's regressed box with its face (positives) or with its
                best face (others). Required with ``compensated``.
            com_avg_factor (float, optional): N_com, the compensated
                anchors.

        With neither ``avg_factor`` nor ``com_avg_factor`` the terms are
        summed without a divisor; with one or both, missing counts are 0 and
        the divisors are those of ``com_normalizer``.

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
        normalised = avg_factor is not None or com_avg_factor is not None
        if reduction == 'sum' and normalised:
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
        com_weight = label_weight * compensated.to(pred.dtype)
        if self.iou_weighted:
            com_weight = com_weight * reg_ious

        norm, com = 1., 1.
        if normalised:
            norm, com = com_normalizers(avg_factor or 0., com_avg_factor
                                        or 0., self.com_normalizer)
        loss = per_anchor * norm_weight / norm + per_anchor * com_weight / com
        if reduction == 'none':
            return loss
        return loss.sum()
