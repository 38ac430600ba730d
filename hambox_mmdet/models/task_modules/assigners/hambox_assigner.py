# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch
from mmdet.models.task_modules.assigners import AssignResult, BaseAssigner
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps, get_box_tensor
from mmengine.structures import InstanceData
from torch import Tensor

from ...utils import column_tiles, pairwise_iou
from .hambox_compensation import compensate
from .mining_properties import (MiningProperties, mining_properties,
                                publish_mining_properties)


@TASK_UTILS.register_module()
class HAMBoxAssigner(BaseAssigner):
    """Online high-quality anchor mining of HAMBox (CVPR 2020, Algorithm 1).

    Per image and training step, after the forward pass:

    1. **Standard matching** on the anchors: an anchor whose best IoU with a
       face is ``>= pos_iou_thr`` is positive for that face, below
       ``neg_iou_thr`` it is negative (the two thresholds are 0.35 by
       default, so there is no ignore band). ``D(face)`` is the number of
       anchors matched to the face. mmdet's low-quality "best anchor per
       face" matching is available with ``match_low_quality=True`` (off by
       default), vectorised.
    2. **Compensation**: every face with ``D < num_compensate`` (K) gets up
       to ``K - D`` more anchors, chosen among the anchors that are not
       stage-1 positive (and not inside an ignore region) by the IoU between
       the anchor's *current regressed box* and the face, highest first, and
       only where that IoU is ``>= compensate_iou_thr`` (T). An anchor is
       given to at most one face.

    Contested anchors: exactly Algorithm 1, faces visited in index order
    (the order of ``gt_instances``). Face g takes, among the candidates no
    face before it took, its best ``K - D`` by regressed IoU, ties to the
    lower anchor index; a later face then gets its next best. Faces that
    share no candidate are resolved all at once; those that do are resolved
    in a few vectorised rounds, with no loop over faces (see
    :func:`hambox_compensation.sequential_greedy`, which proves the result
    equal to the sequential loop; the tests check it against a plain loop on
    thousands of crowded scenes).

    Inputs of any float dtype (fp16 / bf16 under AMP) are computed in
    float32: a 400 px face's area overflows fp16. An image without faces
    (e.g. a crop that kept only ignored ones) still marks the anchors in its
    ignore regions as ignored (-1), and a face that overlaps no anchor (a
    zero-area face) takes none in low-quality matching.

    Args:
        pos_iou_thr (float): Stage-1 positive threshold. Defaults to 0.35.
        neg_iou_thr (float | tuple[float, float]): Stage-1 negative threshold
            (or range, as in mmdet's MaxIoUAssigner). Defaults to 0.35.
        min_pos_iou (float): Minimum IoU of a low-quality match.
            Defaults to 0.
        match_low_quality (bool): Give every face its best anchor(s) in
            stage 1, like mmdet's MaxIoUAssigner. Defaults to False.
        gt_max_assign_all (bool): With ``match_low_quality``, give all the
            anchors tied at a face's best IoU to it. Defaults to True.
        num_compensate (int): K, the number of anchors a face should have
            after compensation. Defaults to 5.
        compensate_iou_thr (float): T, the minimum IoU between a regressed
            box and the face for its anchor to be compensated, in (0, 1].
            Defaults to 0.5.
        ignore_iof_thr (float): Anchors whose IoF with an ignore region
            (``gt_instances_ignore``) is above this are ignored (neither
            positive nor negative, never compensated). Negative values
            disable it. Defaults to 0.5.
        ignore_wrt_candidates (bool): Compute the IoF over the anchor's area
            (True) or the ignore region's (False). Defaults to True.
        gpu_assign_thr (int): Assign on the CPU when an image has more faces
            than this (to save GPU memory). Negative: never. Defaults to -1.
        tile_elems (int): IoUs are computed over tiles of anchors of at most
            this many (faces x anchors) elements, reduced as they go; 0 picks
            a size suited to the device (see
            :func:`hambox_mmdet.models.utils.column_tiles`). Defaults to 0.

    The IoUs are mmdet's ``BboxOverlaps2D`` values (the tests check it),
    computed without ever holding a (faces x anchors) matrix.

    The returned :class:`AssignResult` holds both kinds of positives in
    ``gt_inds`` (1-based face index, 0 negative, -1 ignored) and publishes
    the five mining properties of
    :mod:`~hambox_mmdet.models.task_modules.assigners.mining_properties`
    (read them with its :func:`mining_properties`; P priors, G faces):

    - ``compensated``: bool, (P, ): the anchors made positive by
      compensation;
    - ``reg_ious``: float32, (P, ): for a positive (stage 1 or
      compensated), the IoU of its regressed box with its face; for any
      other anchor, the highest IoU of its regressed box with any face (0
      without faces);
    - ``num_matched_stage1``: int64, (G, ): D, each face's stage-1 anchors;
    - ``num_matched_final``: int64, (G, ): each face's anchors after
      compensation;
    - ``num_compensate``: int: K.
    """

    def __init__(self,
                 pos_iou_thr: float = 0.35,
                 neg_iou_thr=0.35,
                 min_pos_iou: float = 0.,
                 match_low_quality: bool = False,
                 gt_max_assign_all: bool = True,
                 num_compensate: int = 5,
                 compensate_iou_thr: float = 0.5,
                 ignore_iof_thr: float = 0.5,
                 ignore_wrt_candidates: bool = True,
                 gpu_assign_thr: int = -1,
                 tile_elems: int = 0) -> None:
        if num_compensate < 0:
            raise ValueError(
                f'num_compensate must be >= 0, got {num_compensate}')
        if not 0 < compensate_iou_thr <= 1:
            raise ValueError('compensate_iou_thr must be in (0, 1], got '
                             f'{compensate_iou_thr}')
        if isinstance(neg_iou_thr, (list, tuple)):
            if len(neg_iou_thr) != 2:
                raise ValueError('neg_iou_thr must be a float or a pair '
                                 f'(low, high), got {neg_iou_thr}')
            neg_iou_thr = tuple(float(x) for x in neg_iou_thr)
        else:
            neg_iou_thr = float(neg_iou_thr)
        self.pos_iou_thr = float(pos_iou_thr)
        self.neg_iou_thr = neg_iou_thr
        self.min_pos_iou = float(min_pos_iou)
        self.match_low_quality = match_low_quality
        self.gt_max_assign_all = gt_max_assign_all
        self.num_compensate = int(num_compensate)
        self.compensate_iou_thr = float(compensate_iou_thr)
        self.ignore_iof_thr = float(ignore_iof_thr)
        self.ignore_wrt_candidates = ignore_wrt_candidates
        self.gpu_assign_thr = gpu_assign_thr
        self.tile_elems = int(tile_elems)

    def assign(self,
               pred_instances: InstanceData,
               gt_instances: InstanceData,
               gt_instances_ignore: Optional[InstanceData] = None,
               **kwargs) -> AssignResult:
        """Assign faces to anchors: stage-1 matching plus compensation.

        Args:
            pred_instances (:obj:`InstanceData`): ``priors`` (Tensor or
                boxes, shape (num_priors, 4)): the anchors, x1 y1 x2 y2; and
                ``bboxes`` (same shape): each anchor's current regressed box,
                decoded and detached.
            gt_instances (:obj:`InstanceData`): ``bboxes`` (num_gts, 4) and
                ``labels`` (num_gts, ) of the faces.
            gt_instances_ignore (:obj:`InstanceData`, optional): ``bboxes``
                (num_ignore, 4) of regions to ignore. Defaults to None.

        Returns:
            :obj:`AssignResult`: the assignment, with the mining properties
            (see the class docstring), on the device of ``priors``.
        """
        if 'bboxes' not in pred_instances:
            raise ValueError(
                'HAMBoxAssigner ranks anchors by their current regressed '
                'boxes and needs `pred_instances.bboxes` (decoded, detached '
                'regression output, one box per prior), which this head does '
                "not pass. Use type='HAMBoxHead' (a RetinaHead that passes "
                'them) as the bbox_head, or pass `bboxes` from your own head.')
        priors = get_box_tensor(pred_instances.priors).float()
        reg_bboxes = get_box_tensor(pred_instances.bboxes).detach().float()
        if reg_bboxes.shape != priors.shape:
            raise ValueError(
                'pred_instances.bboxes must hold one regressed box per prior: '
                f'got {tuple(reg_bboxes.shape)} for priors of shape '
                f'{tuple(priors.shape)}')
        gt_bboxes = get_box_tensor(gt_instances.bboxes).float()
        gt_labels = gt_instances.labels
        ignore_bboxes = None
        if gt_instances_ignore is not None:
            ignore_bboxes = get_box_tensor(gt_instances_ignore.bboxes).float()

        device = priors.device
        if 0 < self.gpu_assign_thr < gt_bboxes.shape[0]:
            priors, reg_bboxes = priors.cpu(), reg_bboxes.cpu()
            gt_bboxes, gt_labels = gt_bboxes.cpu(), gt_labels.cpu()
            if ignore_bboxes is not None:
                ignore_bboxes = ignore_bboxes.cpu()

        result = self._assign(priors, reg_bboxes, gt_bboxes, gt_labels,
                              ignore_bboxes)
        if result.gt_inds.device != device:
            moved = AssignResult(result.num_gts, result.gt_inds.to(device),
                                 result.max_overlaps.to(device),
                                 result.labels.to(device))
            publish_mining_properties(moved,
                                      mining_properties(result).to(device))
            result = moved
        return result

    def _assign(self, priors: Tensor, reg_bboxes: Tensor, gt_bboxes: Tensor,
                gt_labels: Tensor,
                ignore_bboxes: Optional[Tensor]) -> AssignResult:
        """Stage 1, then compensation, on the device of the inputs.

        Args:
            priors (Tensor): The anchors, float32, shape (P, 4).
            reg_bboxes (Tensor): Their regressed boxes, float32, (P, 4).
            gt_bboxes (Tensor): The faces, float32, shape (G, 4).
            gt_labels (Tensor): Long, shape (G, ).
            ignore_bboxes (Tensor, optional): Ignore regions, (I, 4).

        Returns:
            :obj:`AssignResult`: with the mining properties.
        """
        num_gts, num_priors = gt_bboxes.size(0), priors.size(0)
        if num_priors == 0 or num_gts == 0:
            return self._assign_without_pairs(priors, num_gts, gt_labels,
                                              ignore_bboxes)
        ignored = self._ignored_priors(priors, ignore_bboxes)
        tiles = list(
            column_tiles(num_gts, num_priors, priors.device, self.tile_elems))
        gt_inds, max_overlaps = self._match_stage1(priors, gt_bboxes, ignored,
                                                   tiles)
        num_matched_stage1 = self._count_per_face(gt_inds, num_gts)
        gt_inds, compensated, reg_ious = self._compensate(
            reg_bboxes, gt_bboxes, gt_inds, num_matched_stage1, ignored,
            tiles)
        return self._result(
            num_gts, gt_inds, max_overlaps, gt_labels,
            MiningProperties(
                compensated=compensated,
                reg_ious=reg_ious,
                num_matched_stage1=num_matched_stage1,
                num_matched_final=self._count_per_face(gt_inds, num_gts),
                num_compensate=self.num_compensate))

    def _assign_without_pairs(
            self, priors: Tensor, num_gts: int, gt_labels: Tensor,
            ignore_bboxes: Optional[Tensor]) -> AssignResult:
        """The assignment of an image without anchors or without faces.

        Without faces every anchor is background (``gt_inds`` 0) except
        those in an ignore region (-1); nothing is compensated.

        Args:
            priors (Tensor): Shape (P, 4).
            num_gts (int): G, 0 unless P = 0.
            gt_labels (Tensor): Shape (G, ).
            ignore_bboxes (Tensor, optional): Shape (I, 4).

        Returns:
            :obj:`AssignResult`: with the mining properties: no anchor
            compensated, ``reg_ious`` and both counts 0.
        """
        num_priors = priors.size(0)
        gt_inds = priors.new_full((num_priors, ), -1, dtype=torch.long)
        if num_priors > 0:
            gt_inds[:] = 0
            ignored = self._ignored_priors(priors, ignore_bboxes)
            if ignored is not None:
                gt_inds[ignored] = -1
        no_faces = gt_inds.new_zeros((num_gts, ))
        return self._result(
            num_gts, gt_inds, priors.new_zeros((num_priors, )), gt_labels,
            MiningProperties(
                compensated=priors.new_zeros((num_priors, ),
                                             dtype=torch.bool),
                reg_ious=priors.new_zeros((num_priors, )),
                num_matched_stage1=no_faces,
                num_matched_final=no_faces,
                num_compensate=self.num_compensate))

    def _match_stage1(self, priors: Tensor, gt_bboxes: Tensor,
                      ignored: Optional[Tensor],
                      tiles: List[slice]) -> Tuple[Tensor, Tensor]:
        """Stage 1: the standard IoU matching on the anchors.

        An anchor whose best face IoU is ``>= pos_iou_thr`` goes to that
        face, one below ``neg_iou_thr`` (or in its range) is negative, one in
        between or in an ignore region is ignored; then, with
        ``match_low_quality``, each face takes its best anchor(s).

        Both (G, P) IoU matrices are computed tile by tile over the anchors
        and reduced at once: each anchor's best face is complete within its
        tile, so nothing of size G x P is ever held.

        Args:
            priors (Tensor): The anchors, shape (P, 4).
            gt_bboxes (Tensor): The faces, shape (G, 4), G > 0.
            ignored (Tensor, optional): Bool, shape (P, ): anchors in an
                ignore region.
            tiles (list[slice]): Column tiles covering the P anchors.

        Returns:
            tuple[Tensor, Tensor]: ``gt_inds``, long, shape (P, ): the
            1-based face of each stage-1 positive, 0 for a negative, -1
            for an ignored anchor; ``max_overlaps``, float, shape (P, ):
            each anchor's best face IoU (-1 in an ignore region).
        """
        num_gts, num_priors = gt_bboxes.size(0), priors.size(0)
        gt_inds = priors.new_full((num_priors, ), -1, dtype=torch.long)
        max_overlaps = priors.new_empty((num_priors, ))
        argmax_overlaps = gt_inds.new_empty((num_priors, ))
        gt_max = priors.new_full((num_gts, ), -2.)
        gt_argmax = gt_inds.new_zeros((num_gts, ))
        for cols in tiles:
            overlaps = pairwise_iou(gt_bboxes, priors[cols])
            if ignored is not None:
                overlaps[:, ignored[cols]] = -1
            max_overlaps[cols], argmax_overlaps[cols] = overlaps.max(dim=0)
            if self.match_low_quality:
                tile_max, tile_argmax = overlaps.max(dim=1)
                better = tile_max > gt_max  # strict: keep the first best
                gt_max[better] = tile_max[better]
                gt_argmax[better] = tile_argmax[better] + cols.start
        if isinstance(self.neg_iou_thr, tuple):
            neg = ((max_overlaps >= self.neg_iou_thr[0])
                   & (max_overlaps < self.neg_iou_thr[1]))
        else:
            neg = (max_overlaps >= 0) & (max_overlaps < self.neg_iou_thr)
        gt_inds[neg] = 0
        pos = max_overlaps >= self.pos_iou_thr
        gt_inds[pos] = argmax_overlaps[pos] + 1
        if self.match_low_quality:
            self._match_low_quality(priors, gt_bboxes, ignored, gt_max,
                                    gt_argmax, gt_inds, tiles)
        return gt_inds, max_overlaps

    @staticmethod
    def _count_per_face(gt_inds: Tensor, num_gts: int) -> Tensor:
        """Long, shape (G, ): the anchors of each face in ``gt_inds``."""
        return torch.bincount(gt_inds[gt_inds > 0] - 1, minlength=num_gts)

    def _compensate(self, reg_bboxes: Tensor, gt_bboxes: Tensor,
                    gt_inds: Tensor, num_matched_stage1: Tensor,
                    ignored: Optional[Tensor],
                    tiles: List[slice]) -> Tuple[Tensor, Tensor, Tensor]:
        """Stage 2: top up the faces with fewer than K stage-1 anchors.

        Every face with ``D < K`` may take up to ``K - D`` anchors that are
        neither stage-1 positive nor ignored, whose regressed box has IoU
        ``>= compensate_iou_thr`` with it; who takes a contested anchor is
        Algorithm 1's order (:func:`hambox_compensation.compensate`). The
        regressed IoUs are computed in the same pass over the tiles.

        Args:
            reg_bboxes (Tensor): The anchors' regressed boxes, shape (P, 4).
            gt_bboxes (Tensor): The faces, shape (G, 4), G > 0.
            gt_inds (Tensor): Stage 1's assignment, long, shape (P, ) (see
                :meth:`_match_stage1`); not modified.
            num_matched_stage1 (Tensor): D, long, shape (G, ).
            ignored (Tensor, optional): Bool, shape (P, ).
            tiles (list[slice]): Column tiles covering the P anchors.

        Returns:
            tuple[Tensor, Tensor, Tensor]: the final ``gt_inds`` (long,
            (P, ): stage 1's with the compensated anchors given their
            faces), ``compensated`` (bool, (P, )) and ``reg_ious`` (float,
            (P, )): each anchor's regressed IoU with its face (positives,
            compensated included) or with its best face (the others).
        """
        num_priors = gt_inds.size(0)
        gt_inds = gt_inds.clone()
        compensated = gt_inds.new_zeros((num_priors, ), dtype=torch.bool)
        reg_ious = reg_bboxes.new_zeros((num_priors, ))
        stage1_pos = gt_inds > 0
        need = (self.num_compensate - num_matched_stage1).clamp(min=0)
        needy = (need > 0).nonzero(as_tuple=True)[0]
        eligible = ~stage1_pos
        if ignored is not None:
            eligible &= ~ignored
        pos_face = (gt_inds - 1).clamp(min=0)
        cand_faces, cand_anchors, cand_ious = [], [], []
        for cols in tiles:
            reg_overlaps = pairwise_iou(gt_bboxes, reg_bboxes[cols])
            # negatives: best face; stage-1 positives: their own face
            reg_ious[cols] = torch.where(
                stage1_pos[cols],
                reg_overlaps.gather(0, pos_face[None, cols])[0],
                reg_overlaps.max(dim=0)[0])
            if needy.numel() == 0:
                continue
            # candidate (face, anchor) pairs, face-major, anchors ascending
            cand = reg_overlaps[needy] >= self.compensate_iou_thr
            cand &= eligible[None, cols]
            rows, anchors = cand.nonzero(as_tuple=True)
            cand_faces.append(needy[rows])
            cand_anchors.append(anchors + cols.start)
            cand_ious.append(reg_overlaps[needy[rows], anchors])
        if cand_faces:
            faces, anchors, ious = compensate(
                torch.cat(cand_faces), torch.cat(cand_anchors),
                torch.cat(cand_ious), need)
            gt_inds[anchors] = faces + 1
            compensated[anchors] = True
            reg_ious[anchors] = ious
        return gt_inds, compensated, reg_ious

    def _ignored_priors(self, priors: Tensor,
                        ignore_bboxes: Optional[Tensor]) -> Optional[Tensor]:
        """Bool (num_priors, ): priors inside an ignore region, or None."""
        if (self.ignore_iof_thr <= 0 or ignore_bboxes is None
                or ignore_bboxes.numel() == 0):
            return None
        if self.ignore_wrt_candidates:
            iofs = bbox_overlaps(priors, ignore_bboxes, mode='iof')
            return iofs.max(dim=1)[0] > self.ignore_iof_thr
        iofs = bbox_overlaps(ignore_bboxes, priors, mode='iof')
        return iofs.max(dim=0)[0] > self.ignore_iof_thr

    def _match_low_quality(self, priors: Tensor, gt_bboxes: Tensor,
                           ignored: Optional[Tensor], gt_max: Tensor,
                           gt_argmax: Tensor, gt_inds: Tensor,
                           tiles: list) -> None:
        """mmdet's low-quality matching, without its loop over faces.

        As in MaxIoUAssigner, a face whose best anchor IoU (``gt_max``) is at
        least ``min_pos_iou`` takes its first best anchor (``gt_argmax``),
        or all anchors tied at that IoU if ``gt_max_assign_all``; a later
        face overrides an earlier one. Unlike MaxIoUAssigner, a face that
        overlaps no anchor at all (a zero-area face, say) takes nothing:
        with ``min_pos_iou=0`` it would otherwise take every anchor tied at
        IoU 0.
        """
        ok = (gt_max >= self.min_pos_iou) & (gt_max > 0)
        face_ids = torch.arange(
            1, gt_bboxes.size(0) + 1, device=priors.device)
        winner = torch.zeros_like(gt_inds)
        if not self.gt_max_assign_all:
            winner.scatter_reduce_(
                0, gt_argmax[ok], face_ids[ok], reduce='amax')
        else:
            for cols in tiles:
                overlaps = pairwise_iou(gt_bboxes, priors[cols])
                if ignored is not None:
                    overlaps[:, ignored[cols]] = -1
                hit = (overlaps == gt_max[:, None]) & ok[:, None]
                winner[cols] = (hit.long() * face_ids[:, None]).max(dim=0)[0]
        gt_inds[winner > 0] = winner[winner > 0]

    @staticmethod
    def _result(num_gts: int, gt_inds: Tensor, max_overlaps: Tensor,
                gt_labels: Tensor, props: MiningProperties) -> AssignResult:
        """The :class:`AssignResult`, with ``props`` published in it."""
        labels = gt_inds.new_full(gt_inds.shape, -1)
        pos = gt_inds > 0
        if pos.any():
            labels[pos] = gt_labels[gt_inds[pos] - 1].long()
        result = AssignResult(
            num_gts=num_gts,
            gt_inds=gt_inds,
            max_overlaps=max_overlaps,
            labels=labels)
        publish_mining_properties(result, props)
        return result

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(pos_iou_thr={self.pos_iou_thr}, '
                f'neg_iou_thr={self.neg_iou_thr}, '
                f'num_compensate={self.num_compensate}, '
                f'compensate_iou_thr={self.compensate_iou_thr}, '
                f'match_low_quality={self.match_low_quality})')
