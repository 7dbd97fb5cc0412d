"""The vectorised machinery every array metric shares: input coercion, bootstrap weights, plans, ranks.

A *plan* holds the per-paper preparation of one metric.  ``features`` (n, m) are the per-paper quantities
whose weighted sums the metric needs (all evaluated with one matrix product per block of resamples);
``finish(sums, wt, cache)`` turns the (m, B) sums -- plus, for rank metrics, the (n, B) weights -- into the
figures, each a (B,) array.  Weights are paper multiplicities (see the package docstring): ``None``, 1-D
(one resample) or 2-D ``(B, n)`` (B resamples at once).  Pure numpy, no I/O.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

Array = np.ndarray

# --------------------------------------------------------------------------------------------- inputs


def as_scores(x: Any, name: str) -> Array:
    """1-D float array (a copy); ``None`` and non-finite values become NaN (= failed / missing)."""
    a = np.array(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per paper), got shape {a.shape}")
    a[~np.isfinite(a)] = np.nan
    return a


def as_decisions(x: Any, name: str) -> Array:
    """1-D float array of 1.0 (accept) / 0.0 (reject) / NaN (missing, unparsed)."""
    a = as_scores(x, name)
    bad = np.isfinite(a) & (a != 0.0) & (a != 1.0)
    if bad.any():
        raise ValueError(f"{name} must hold booleans or None; index {int(np.flatnonzero(bad)[0])} is {a[bad][0]!r}")
    return a


def ragged(rows: Sequence[Any], name: str, *, strict: bool) -> tuple[Array, Array]:
    """Flatten a list of per-paper score arrays: (flat values, paper index of each value).

    ``strict``: every paper needs >= 1 score and all must be finite (human ratings).  Otherwise non-finite
    entries are dropped and a paper may end up with none (aspect scores: missing)."""
    arrays = [np.asarray(r, dtype=float).reshape(-1) for r in rows]
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=len(arrays))
    flat = np.concatenate(arrays) if arrays else np.zeros(0)
    pid = np.repeat(np.arange(len(arrays)), lengths)
    finite = np.isfinite(flat)
    if strict:
        if (lengths == 0).any():
            raise ValueError(f"{name}: paper {int(np.flatnonzero(lengths == 0)[0])} has no scores")
        if not finite.all():
            raise ValueError(f"{name}: paper {int(pid[~finite][0])} has a non-finite score")
        return flat, pid
    return flat[finite], pid[finite]



def check_len(n: int, **arrays: Array) -> None:
    for name, a in arrays.items():
        if len(a) != n:
            raise ValueError(f"{name} has {len(a)} entries, expected {n} (one per paper)")


# --------------------------------------------------------------------------------------------- weights


def weights_matrix(weights: Any, n: int) -> tuple[Array, bool]:
    """Weights as a C-contiguous float64 ``(n, B)`` array (papers on axis 0) and whether the caller wants
    scalars (``weights`` None or 1-D)."""
    if weights is None:
        return np.ones((n, 1)), True
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w, scalar = w[None, :], True
    elif w.ndim == 2:
        scalar = False
    else:
        raise ValueError(f"weights must be 1-D or 2-D, got shape {w.shape}")
    if w.shape[1] != n:
        raise ValueError(f"weights cover {w.shape[1]} papers, expected {n}")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and >= 0")
    return np.ascontiguousarray(w.T), scalar


def safe_div(num: Array, den: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def to_scalar(v: Any) -> Any:
    """(1,) array -> float, NaN -> None; ints pass through; dicts recurse."""
    if isinstance(v, dict):
        return {k: to_scalar(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        x = float(v.reshape(-1)[0])
        return None if np.isnan(x) else x
    return v



# --------------------------------------------------------------------------------------------- plans


class Plan(ABC):
    features: Array
    counts: dict[str, int]

    @abstractmethod
    def finish(self, sums: Array, wt: Array, cache: dict) -> dict[str, Array]:
        """The figures from the per-resample feature sums (and weights, for rank metrics)."""


def _run(plan: Plan, weights: Any) -> tuple[dict[str, Any], bool]:
    wt, scalar = weights_matrix(weights, plan.features.shape[0])
    out = plan.finish(plan.features.T @ wt, wt, {})
    return {**out, **plan.counts}, scalar


def apply_plan(plan: Plan, weights: Any) -> dict[str, Any]:
    out, scalar = _run(plan, weights)
    return to_scalar(out) if scalar else out


def scratch(cache: dict, name: Any, shape: tuple[int, ...], dtype: Any = np.float64) -> Array:
    """Scratch array for ``name``.  Inside one evaluation (``cache["_arena"]`` present) the same array is
    handed out again for the next block of resamples, which saves re-faulting ~10 MB per temporary."""
    arena = cache.get("_arena")
    if arena is None:
        return np.empty(shape, dtype)
    key = (name, shape, np.dtype(dtype).str)
    buf = arena.get(key)
    if buf is None:
        buf = arena[key] = np.empty(shape, dtype)
    return buf


def cumsum_rows(a: Array) -> Array:
    """Cumulative sum along axis 0.  For wide (n, B) arrays a row loop beats np.cumsum(axis=0) ~3x."""
    if a.ndim != 2 or a.shape[1] < 64:
        return np.cumsum(a, axis=0)
    out = np.empty_like(a)
    if a.shape[0]:
        out[0] = a[0]
    for i in range(1, a.shape[0]):
        np.add(out[i - 1], a[i], out=out[i])
    return out


class Ranker:
    """Weighted mid-ranks of one value vector: rank_i = (weight of values < v_i) + (weight of values == v_i
    + 1) / 2, i.e. the average rank of paper i's copies in the expanded resample (scipy's "average").
    NaN values sort last; callers give them weight 0."""

    def __init__(self, values: Array, key: Any):
        self.key = key
        n = values.size
        order = np.argsort(values, kind="stable")
        vs = values[order]
        new = np.ones(n, dtype=bool)
        new[1:] = ~(vs[1:] == vs[:-1])
        self.starts = np.flatnonzero(new)
        self.order = order
        self.identity = bool(np.array_equal(order, np.arange(n)))
        self.no_ties = self.starts.size == n
        self.group_of = np.empty(n, dtype=np.intp)  # paper -> its tie group (in sorted order)
        self.group_of[order] = np.repeat(np.arange(self.starts.size), np.diff(np.r_[self.starts, n]))

    def sorted_weights(self, w: Array, cache: dict) -> Array:
        key = ("sorted",) + self.key
        if key not in cache:
            if self.identity:
                cache[key] = w
            else:
                cache[key] = np.take(w, self.order, axis=0, out=scratch(cache, key, w.shape), mode="clip")
        return cache[key]

    def group_weights(self, w: Array, cache: dict) -> Array:
        """(groups, B): total weight of each tie group, groups in increasing value."""
        key = ("groups",) + self.key
        if key not in cache:
            ws = self.sorted_weights(w, cache)
            cache[key] = ws if self.no_ties else np.add.reduceat(ws, self.starts, axis=0)
        return cache[key]

    def ranks(self, w: Array, cache: dict) -> tuple[Array, Array]:
        """(mid-ranks (n, B) in paper order, sum over papers of w * rank**2 (B,))."""
        key = ("ranks",) + self.key
        if key not in cache:
            g = self.group_weights(w, cache)
            rg = cumsum_rows(g)
            rg -= 0.5 * g
            rg += 0.5  # group mid-rank = weight before the group + (group weight + 1) / 2
            sq = np.einsum("gb,gb,gb->b", g, rg, rg)
            if self.identity and self.no_ties:
                r = rg
            else:
                r = np.take(rg, self.group_of, axis=0, out=scratch(cache, key, w.shape), mode="clip")
            cache[key] = (r, sq)
        return cache[key]


def masked_weights(w: Array, valid: Array, key: Any, cache: dict) -> Array:
    """Weights with the rows of invalid papers zeroed (cached per mask)."""
    if valid.all():
        return w
    if key not in cache:
        cache[key] = np.multiply(w, valid[:, None], out=scratch(cache, key, w.shape))
    return cache[key]

