"""Which posting lists a vector goes to: SPANN's closure + RNG replication rule, and the
build-time truncation of over-long lists. Pure numpy on squared L2 distances.

For vector x with candidate heads c_1..c_K sorted by distance, c_1 is always chosen; c_j is
then chosen unless (closure) d(x, c_j) > replica_ratio * d(x, c_1), or (RNG) some already
chosen head c' has rng_factor * d(c_j, c') < d(x, c_j): x is then better served through c',
so another copy near c' would only lengthen lists without adding recall."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_CHUNK = 4096


def rng_assign(
    cand: I64,
    d2: F32,
    heads: F32,
    *,
    replicas: int,
    replica_ratio: float,
    rng_factor: float,
) -> tuple[I64, F32]:
    """Chosen heads (n, replicas), nearest first, padded with -1 (and +inf distances).

    `cand` (n, K) are candidate head ids sorted by `d2` (n, K) squared distances; -1 marks a
    missing candidate. `heads` (H, d) are the head vectors the ids refer to."""
    if cand.shape != d2.shape or cand.ndim != 2:
        raise ValueError(f"cand {cand.shape} and d2 {d2.shape} must be equal 2-d shapes")
    if heads.ndim != 2 or heads.dtype != np.float32:
        raise ValueError("heads must be a float32 (H, d) array")
    n, k = cand.shape
    chosen = np.full((n, replicas), -1, dtype=np.int64)
    chosen_d = np.full((n, replicas), np.inf, dtype=np.float32)
    if n == 0 or k == 0:
        return chosen, chosen_d
    hn = np.einsum("ij,ij->i", heads, heads)
    closure2 = np.float32(replica_ratio * replica_ratio)
    rng2 = np.float32(rng_factor * rng_factor)
    for s in range(0, n, _CHUNK):
        c = cand[s : s + _CHUNK]
        dd = d2[s : s + _CHUNK]
        out = chosen[s : s + _CHUNK]
        out_d = chosen_d[s : s + _CHUNK]
        valid0 = c[:, 0] >= 0
        out[valid0, 0] = c[valid0, 0]
        out_d[valid0, 0] = dd[valid0, 0]
        cnt = valid0.astype(np.int64)
        limit = dd[:, 0] * closure2
        for j in range(1, k):
            act = (cnt < replicas) & (c[:, j] >= 0) & (dd[:, j] <= limit)
            rows = np.flatnonzero(act)
            if rows.size == 0:
                # Candidates are sorted by distance (missing ones at +inf), so once every row
                # is full or past its closure limit no later column can qualify either.
                break
            cj = c[rows, j]
            width = int(cnt[rows].max())
            prev = out[rows, :width]
            hv = heads[cj]
            hp = heads[np.maximum(prev, 0)]
            dcc = hn[cj][:, None] + hn[np.maximum(prev, 0)] - 2.0 * np.einsum("md,mrd->mr", hv, hp)
            blocked = ((rng2 * dcc < dd[rows, j][:, None]) & (prev >= 0)).any(axis=1)
            ok = rows[~blocked]
            out[ok, cnt[ok]] = c[ok, j]
            out_d[ok, cnt[ok]] = dd[ok, j]
            cnt[ok] += 1
    return chosen, chosen_d


def truncate_lists(lists: I64, d2: F32, primary: B, limit: int) -> B:
    """Keep-mask over entries (list id, distance, is-primary) so no list exceeds `limit` unless
    its primaries alone do: primaries are always kept (every vector stays findable), then the
    closest replicas fill the remaining room, as SPTAG truncates postings by distance."""
    if not (lists.shape == d2.shape == primary.shape) or lists.ndim != 1:
        raise ValueError("lists, d2 and primary must be equal-length 1-d arrays")
    if lists.size == 0:
        return np.zeros(0, dtype=np.bool_)
    order = np.lexsort((d2, ~primary, lists))
    sl = lists[order]
    starts = np.flatnonzero(np.r_[True, sl[1:] != sl[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, sl.size]))
    pos = np.arange(sl.size) - group_start
    keep_sorted = primary[order] | (pos < limit)
    keep = np.empty_like(keep_sorted)
    keep[order] = keep_sorted
    return keep
