# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Stage 2 of HAMBox's anchor mining: Algorithm 1's compensation, vectorised.

Kept apart from :class:`HAMBoxAssigner` so that the exact, order-dependent
greedy of the paper can be read (and tested) on its own.
"""
from typing import Tuple

import torch
from torch import Tensor


def _exclusive_rank(flags: Tensor, starts: Tensor, group: Tensor) -> Tensor:
    """For each element, how many ``flags`` precede it in its group.

    Args:
        flags (Tensor): Bool, shape (P, ), elements grouped contiguously.
        starts (Tensor): Long, (num_groups, ): first element of each group.
        group (Tensor): Long, (P, ): group of each element.

    Returns:
        Tensor: Long, shape (P, ).
    """
    before = torch.cumsum(flags.long(), 0) - flags.long()  # exclusive
    # ``before`` at the group's first element counts the earlier groups
    return before - before[starts[group]]


def sequential_greedy(faces: Tensor, anchors: Tensor, ious: Tensor,
                      need: Tensor) -> Tensor:
    """Algorithm 1's compensation, exactly, without a loop over faces.

    Algorithm 1 visits the faces in index order; face ``g`` takes, among the
    candidate anchors not yet taken by an earlier face, its ``need[g]`` best
    by regressed IoU (ties to the lower anchor index). The result is
    order-dependent where faces share candidates, so it cannot be computed
    for all faces at once in one step. It is computed here by a fixed-point
    iteration over *rounds*, each vectorised over all candidate pairs:

    - every face sorts its candidate pairs by (IoU descending, anchor
      ascending): its *preference list* ``L_g``;
    - round 0: every face tentatively picks the first ``need[g]`` entries of
      ``L_g``;
    - round r + 1: an entry of ``L_g`` is *blocked* if its anchor is picked,
      in round r, by a face of lower index; every face picks the first
      ``need[g]`` unblocked entries of ``L_g``;
    - stop when a round changes no pick.

    **Proof that the result is Algorithm 1's.** Write ``S_g`` for face g's
    picks in Algorithm 1 and ``P_g^r`` for its picks after round r. Both
    satisfy the same rule: the picks of g are the first ``need[g]`` entries
    of ``L_g`` whose anchor is not in the picks of a face ``< g`` (for
    ``S``: an anchor taken by an earlier face is exactly one in the union of
    the earlier faces' ``S``; anchors picked by later faces do not matter to
    g). (a) *Every fixed point is Algorithm 1's result*: by induction on g,
    if ``P_h = S_h`` for all ``h < g`` then g's rule sees the same blocked
    anchors in both, so ``P_g = S_g``; face 0 is never blocked. (b) *The
    iteration reaches it*: by induction on r, ``P_g^r = S_g`` for every
    ``g < r + 1``: face 0 is never blocked, so ``P_0^0 = S_0``; if the faces
    below ``r + 1`` are final after round r, round r + 1 computes face
    ``r + 1``'s picks from final picks, hence ``S_{r+1}``, and faces
    ``<= r`` keep theirs (their inputs did not change). So at most
    ``num_faces`` rounds (the loop is bounded by that) and the first round
    that changes nothing ends it, which by (a) is Algorithm 1's result.
    In practice the number of rounds is the length of the longest chain of
    faces that block one another in turn, a handful even in crowds; faces
    that share no candidate are final after round 0.

    Pairs that can never be picked are dropped first: an entry of ``L_g``
    can only be blocked if some face ``< g`` has its anchor as a candidate;
    once ``need[g]`` entries that cannot be blocked precede an entry, that
    entry is never reached.

    Args:
        faces (Tensor): Long, shape (P, ): face index of each candidate pair.
        anchors (Tensor): Long, shape (P, ): anchor index of each pair.
        ious (Tensor): Float, shape (P, ): the regressed IoU of each pair.
        need (Tensor): Long, shape (num_faces, ): ``K - D`` per face (0 for
            a face that needs nothing).

    Returns:
        Tensor: Long, shape (Q, ): indices into the P pairs of the pairs
        taken, at most one per anchor.
    """
    num_pairs, num_faces = faces.numel(), need.numel()
    if num_pairs == 0:
        return faces.new_zeros((0, ))
    # preference lists: face-major, IoU descending, anchor ascending
    order = torch.argsort(anchors, stable=True)
    order = order[torch.argsort(ious[order], descending=True, stable=True)]
    order = order[torch.argsort(faces[order], stable=True)]
    faces, anchors = faces[order], anchors[order]
    # dense anchor ids over the candidates only
    uniq, slot = torch.unique(anchors, return_inverse=True)
    num_slots = uniq.numel()

    def group_starts(f: Tensor) -> Tensor:
        counts = torch.bincount(f, minlength=num_faces)
        return torch.cumsum(counts, 0) - counts

    # prune entries that no blocking can ever reach
    first_face = torch.full((num_slots, ),
                            num_faces,
                            dtype=faces.dtype,
                            device=faces.device)
    first_face.scatter_reduce_(0, slot, faces, reduce='amin')
    blockable = first_face[slot] < faces
    safe_before = _exclusive_rank(~blockable, group_starts(faces), faces)
    keep = safe_before < need[faces]
    kept = keep.nonzero(as_tuple=True)[0]
    faces, slot, blockable = faces[kept], slot[kept], blockable[keep]
    starts = group_starts(faces)
    limit = need[faces]

    picked = _exclusive_rank(
        torch.ones_like(blockable), starts, faces) < limit
    if blockable.any():
        # only faces with a blockable entry can change after round 0
        for _ in range(num_faces):
            owner = torch.full((num_slots, ),
                               num_faces,
                               dtype=faces.dtype,
                               device=faces.device)
            owner.scatter_reduce_(
                0, slot[picked], faces[picked], reduce='amin')
            free = owner[slot] >= faces
            new = free & (_exclusive_rank(free, starts, faces) < limit)
            if torch.equal(new, picked):
                break
            picked = new
    return order[kept[picked]]


def compensate(faces: Tensor, anchors: Tensor, ious: Tensor,
               need: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Faces, anchors and IoUs of the pairs Algorithm 1 takes.

    Args:
        faces (Tensor): Long, shape (P, ): face of each candidate pair.
        anchors (Tensor): Long, shape (P, ): anchor of each pair.
        ious (Tensor): Float, shape (P, ): regressed IoU of each pair.
        need (Tensor): Long, shape (num_faces, ): ``K - D`` per face.

    Returns:
        tuple[Tensor, Tensor, Tensor]: the taken pairs' faces, anchors and
        IoUs, each shape (Q, ).
    """
    taken = sequential_greedy(faces, anchors, ious, need)
    return faces[taken], anchors[taken], ious[taken]
