# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The assignment solver of the official FDDB program, reimplemented.

The UMass ``evaluate`` program pairs faces and detections with Brian
Gerkey's libhungarian (2003), Kuhn's Hungarian method on a *maximisation*
problem with m <= n rows. Its behaviour, which this module reproduces step
for step (own code, same arithmetic), is:

1. A cover ``u_i + v_j >= r_ij``: the row maxima (``u``, ``v = 0``) when
   their sum (in index order) is at most the sum of the column maxima,
   otherwise the column maxima (``v``, ``u = 0``).
2. Entries with ``|u_i + v_j - r_ij| < 1e-15`` are "tight" (1); first stars
   (1*) are put greedily: row by row (row-maxima cover) or column by column
   (column-maxima cover), on the first tight entry whose column (row) has
   no star yet.
3. Kuhn's Routine I looks, from each column without a star, for an
   alternating path of 1 / 1* entries that ends in a row without a star and
   flips it (one more star); rows it cannot get past are "essential".
   Routine II moves the cover by the smallest slack outside the essential
   rows and columns (or by the smallest ``u`` / ``v`` that would otherwise
   turn negative), which makes new entries tight. The two alternate until
   the smallest uncovered slack is below 1e-15.

A star is never removed once every row has one (a path can only end in a
row without a star), so the result is the first full assignment of the rows
reached from the initial cover. From the row maxima that is a maximum-weight
matching; from the column maxima, on a non-square matrix, it need not be:
the columns left unassigned may keep a positive ``v``.

Where the official program stops on an assertion (a cover violated by more
than 1e-15, an infeasible final assignment) :class:`OfficialSolverError`
is raised instead.
"""
from typing import List

import numpy as np

EPS = 1e-15  # the official solver's tolerance
_ZERO, _ONE, _STAR = 0, 1, 2


class OfficialSolverError(RuntimeError):
    """The official solver would stop on an assertion for this matrix."""


def _sequential_sum(values: np.ndarray) -> float:
    # the official totals are running sums in index order (np.sum would
    # add pairwise, with other rounding)
    total = 0.0
    for x in values.tolist():
        total += x
    return total


def _initial_stars(q: np.ndarray, by_rows: bool) -> None:
    """Greedy first stars on the tight entries (in place)."""
    m, n = q.shape
    ones = (q == _ONE).tolist()
    if by_rows:
        taken = [False] * n
        for i in range(m):
            row = ones[i]
            for j in range(n):
                if row[j] and not taken[j]:
                    q[i, j] = _STAR
                    taken[j] = True
                    break
    else:
        starred = [False] * m
        for j in range(n):
            for i in range(m):
                if ones[i][j] and not starred[i]:
                    q[i, j] = _STAR
                    starred[i] = True
                    break


def _routine_one(q: np.ndarray, ess_rows: np.ndarray) -> bool:
    """Kuhn's Routine I on the status matrix ``q`` (in place).

    Returns True after flipping an alternating path (one more star), False
    when no path exists; ``ess_rows`` then holds the essential rows.
    """
    stars = q == _STAR
    ones = q == _ONE
    ess_rows[:] = False
    # the searches start from the 1s of the columns without a star
    starts = np.flatnonzero(~stars.any(0) & ones.any(0)).tolist()
    if not starts:
        return False
    star_of_row = np.where(stars.any(1), stars.argmax(1), -1).tolist()
    ones_t = ones.T.tolist()
    ones_of_col = {}

    def one_rows(col: int) -> List[int]:
        rows = ones_of_col.get(col)
        if rows is None:
            rows = ones_of_col[col] = [
                k for k, x in enumerate(ones_t[col]) if x
            ]
        return rows

    for col in starts:
        for row in one_rows(col):
            # path: (row, col) 1, then star / 1 pairs down star columns
            path = [(row, col)]
            on_path = {row}
            tip = row
            while tip >= 0:
                star_col = star_of_row[tip]
                if star_col < 0:
                    for a, b in path:
                        q[a, b] = _STAR if q[a, b] == _ONE else _ONE
                    return True
                look_col, look_from = star_col, 0
                while True:
                    nxt = next((k for k in one_rows(look_col)
                                if k >= look_from and k not in on_path), -1)
                    if nxt >= 0:
                        path.append((path[-1][0], look_col))
                        path.append((nxt, look_col))
                        on_path.add(nxt)
                        tip = nxt
                        break
                    # dead end: the path's last row is essential; back up
                    # and try the next 1 of the column before
                    last_row, last_col = path[-1]
                    ess_rows[last_row] = True
                    if len(path) == 1:
                        tip = -1  # next 1 of the starting column
                        break
                    del path[-2:]
                    on_path.discard(last_row)
                    look_col, look_from = last_col, last_row + 1
    return False


def _uncovered_step(slack: np.ndarray) -> float:
    """The official running minimum over the uncovered slacks (row-major):
    it restarts from the next entry whenever it holds a value within 1e-15
    of zero."""
    if slack.size == 0:
        return 0.0
    if (slack >= EPS).all():
        return float(slack.min())
    d = 0.0
    for s in slack.tolist():
        if abs(d) < EPS or (-EPS < s < d):
            d = s
    return d


def official_assignment(weights) -> np.ndarray:
    """Solve one matrix as the official FDDB program's solver does.

    Args:
        weights: (m, n) array-like of non-negative overlaps, m <= n (the
            official program transposes its matrix when it has more
            faces than detections).

    Returns:
        np.ndarray: (m,) int64, the column assigned to each row (entries
        whose overlap is 0 are assignments the program then drops).

    Raises:
        OfficialSolverError: where the official solver stops on an
            assertion.
    """
    r = np.array(weights, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] > r.shape[1]:
        raise ValueError(f'official_assignment needs an (m, n) matrix with '
                         f'm <= n, got shape {r.shape}')
    m, n = r.shape
    if m == 0:
        return np.zeros(0, np.int64)
    row_max = np.maximum(r.max(1), 0.0)
    col_max = np.maximum(r.max(0), 0.0)
    by_rows = _sequential_sum(row_max) <= _sequential_sum(col_max)
    u = row_max.copy() if by_rows else np.zeros(m)
    v = np.zeros(n) if by_rows else col_max.copy()
    q = (np.abs(u[:, None] + v[None, :] - r) < EPS).astype(np.int8)
    _initial_stars(q, by_rows)
    ess_rows = np.zeros(m, bool)
    # each Routine II makes an entry tight, zeroes a u or v, or finishes;
    # the bound only guards against a loop the official program would hang in
    for _ in range(64 * (m + 1) * (n + 1) + 1000):
        while _routine_one(q, ess_rows):
            pass
        er = ess_rows
        ec = ((q == _STAR) & ~er[:, None]).any(0)
        slack = (u[:, None] + v[None, :]) - r
        free = slack[~er][:, ~ec]
        if (free < -EPS).any():
            raise OfficialSolverError('cover violated before Routine II')
        d = _uncovered_step(free.ravel())
        if d < -EPS:
            raise OfficialSolverError('negative step in Routine II')
        if abs(d) < EPS:
            break
        if ((~er) & (u == 0)).any():
            free_v = v[~ec]
            step = min(d, float(free_v.min())) if free_v.size else d
            u[er] += step
            v[~ec] -= step
        else:
            free_u = u[~er]
            step = min(d, float(free_u.min())) if free_u.size else d
            u[~er] -= step
            v[ec] += step
        slack = (u[:, None] + v[None, :]) - r
        if (slack < -EPS).any():
            raise OfficialSolverError('cover violated after Routine II')
        q = np.where(np.abs(slack) < EPS, np.maximum(q, _ONE),
                     _ZERO).astype(np.int8)
    else:
        raise OfficialSolverError('Routine I / II did not finish')
    stars = q == _STAR
    if (stars.sum(1) != 1).any() or (stars.sum(0) > 1).any():
        raise OfficialSolverError('infeasible final assignment')
    return stars.argmax(1).astype(np.int64)
