# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""What an assigner tells a head about HAMBox's anchor mining.

:class:`HAMBoxAssigner` publishes, in the :class:`AssignResult` of each
image, five extra properties (mmdet's
``AssignResult.set_extra_property``); :class:`HAMBoxHead` reads them with
:func:`mining_properties` and nothing else. With ``P`` the priors given to
the assigner (``AssignResult.num_preds``) and ``G`` the faces
(``AssignResult.num_gts``):

=========================  ================  ================================
key                        value             meaning
=========================  ================  ================================
``'compensated'``          bool, (P, )       True for the anchors made
                                             positive by compensation
                                             (stage 2); their face is in
                                             ``gt_inds`` like any positive's.
``'reg_ious'``             float32, (P, )    IoU of the anchor's regressed
                                             box with its face for a positive
                                             (F_i for a compensated anchor);
                                             with its best face for any
                                             other anchor; 0 without faces.
``'num_matched_stage1'``   int64, (G, )      D: anchors matched to each face
                                             by stage 1, before compensation.
``'num_matched_final'``    int64, (G, )      anchors of each face after
                                             compensation (stage 1 plus
                                             compensated).
``'num_compensate'``       int               K: the number of anchors
                                             compensation tops faces up to.
=========================  ================  ================================

**The rule for assigners that publish none of them** (mmdet's
``MaxIoUAssigner``, :class:`LevelATSSAssigner`, ...): no compensation took
place. :func:`mining_properties` then returns an all-False mask, zero
regressed IoUs, each face's positives in ``gt_inds`` as both counts, and
``num_compensate=None`` (there is no K, so no "faces below K" statistic).
An assigner must publish all five or none: a partial set is an error.
"""
from typing import NamedTuple, Optional

import torch
from mmdet.models.task_modules.assigners import AssignResult
from torch import Tensor

#: The keys of the five properties, in :class:`MiningProperties`' order.
MINING_KEYS = ('compensated', 'reg_ious', 'num_matched_stage1',
               'num_matched_final', 'num_compensate')


class MiningProperties(NamedTuple):
    """The mining of one image (see the module docstring).

    Attributes:
        compensated (Tensor): Bool, shape (P, ).
        reg_ious (Tensor): Float, shape (P, ).
        num_matched_stage1 (Tensor): Long, shape (G, ).
        num_matched_final (Tensor): Long, shape (G, ).
        num_compensate (int, optional): K; None where the assigner does not
            mine.
    """
    compensated: Tensor
    reg_ious: Tensor
    num_matched_stage1: Tensor
    num_matched_final: Tensor
    num_compensate: Optional[int]

    def to(self, device) -> 'MiningProperties':
        """The same properties with their tensors on ``device``."""
        return self._replace(
            **{
                key: value.to(device)
                for key, value in self._asdict().items()
                if isinstance(value, Tensor)
            })


def publish_mining_properties(assign_result: AssignResult,
                              props: MiningProperties) -> None:
    """Set the five properties of ``props`` on ``assign_result``.

    Args:
        assign_result (:obj:`AssignResult`): Holds none of them yet.
        props (:obj:`MiningProperties`): Shapes as in the module docstring.
    """
    num_preds, num_gts = assign_result.num_preds, assign_result.num_gts
    for key, shape in (('compensated', (num_preds, )),
                       ('reg_ious', (num_preds, )),
                       ('num_matched_stage1', (num_gts, )),
                       ('num_matched_final', (num_gts, ))):
        if tuple(getattr(props, key).shape) != shape:
            raise ValueError(f'{key} must have shape {shape}, got '
                             f'{tuple(getattr(props, key).shape)}')
    for key, value in zip(MINING_KEYS, props):
        assign_result.set_extra_property(key, value)


def mining_properties(assign_result: AssignResult) -> MiningProperties:
    """The mining of ``assign_result``, or "no compensation" without it.

    Args:
        assign_result (:obj:`AssignResult`): Of any assigner.

    Returns:
        :obj:`MiningProperties`: What the assigner published; for an
        assigner that published nothing: ``compensated`` all False,
        ``reg_ious`` 0 (float32), both counts the number of anchors with
        that face in ``gt_inds``, ``num_compensate`` None.
    """
    values = [assign_result.get_extra_property(key) for key in MINING_KEYS]
    published = [value is not None for value in values]
    if all(published):
        return MiningProperties(*values)
    if any(published):
        missing = [k for k, p in zip(MINING_KEYS, published) if not p]
        raise ValueError(
            'an assigner publishes all of the mining properties '
            f'{MINING_KEYS} in its AssignResult or none; missing: {missing}')
    gt_inds = assign_result.gt_inds
    counts = torch.bincount(
        gt_inds[gt_inds > 0] - 1, minlength=assign_result.num_gts)
    return MiningProperties(
        compensated=torch.zeros_like(gt_inds, dtype=torch.bool),
        reg_ious=torch.zeros_like(gt_inds, dtype=torch.float32),
        num_matched_stage1=counts,
        num_matched_final=counts,
        num_compensate=None)
