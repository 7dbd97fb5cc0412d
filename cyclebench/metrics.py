"""Metrics for judging reviewer models against human reviews (REFERENCE.md section 4).

Pure functions over numpy arrays: no I/O, no other cyclebench imports, numpy only.

Inputs, one entry per paper:

* ``human_ratings``: ``list`` of 1-D arrays, the individual human scores of each paper (``n_i >= 1``,
  all finite).  The ground truth of a paper is the mean of its reviewers' scores.
* ``predicted``: the model's rating per paper; NaN (or ``None``, or any non-finite value) means the model's
  output failed to parse.  Failed papers are excluded from every score metric and counted; a failed parse is
  never scored as 0.
* ``true_decision``: accept (``True``) / reject (``False``); ``None``/NaN when unknown.
* ``predicted_decision``: the model's accept/reject, ``None``/NaN when unparsed (excluded and counted).

Every metric function takes ``weights``:

* ``None``: each paper once; the result is a float (``None`` when undefined).
* a 1-D array of ``n`` non-negative integer multiplicities: same, with paper ``i`` counted ``weights[i]``
  times (one bootstrap resample).
* a 2-D array ``(B, n)`` of multiplicities, e.g. from :func:`bootstrap_counts`: every figure is computed for
  the ``B`` resamples at once and returned as a ``(B,)`` float array (NaN where undefined).

Weighting by multiplicities is *exactly* the plain metric on the resampled list of papers (duplicates
included): ranks are mid-ranks over the expanded list, copies of one paper form tied pairs, and so on.
Counts (``n`` ...) are always plain integers over the unweighted papers.

Bootstrap: paper-level resampling with replacement (``B = 10_000`` by default), the same resamples for every
figure of one evaluation, 95 % percentile intervals over the resamples where the figure is defined.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ASPECTS",
    "DEFAULT_N_RESAMPLES",
    "DEFAULT_SEED",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_ACCEPT_THRESHOLD",
    "human_means",
    "rating_errors",
    "proxy_errors",
    "decision_metrics",
    "roc_auc",
    "spearman",
    "pearson",
    "pairwise_accuracy",
    "aspect_errors",
    "bootstrap_counts",
    "percentile_interval",
    "bootstrap_ci",
    "evaluate_reviews",
    "simulated_acceptance",
]

ASPECTS = ("soundness", "presentation", "contribution", "confidence")
DEFAULT_N_RESAMPLES = 10_000
DEFAULT_SEED = 0
DEFAULT_CONFIDENCE = 0.95
DEFAULT_ACCEPT_THRESHOLD = 6.0

# Resamples are drawn in blocks of this many, block k from SeedSequence(seed, spawn_key=(k,)), so resample b
# is the same whatever n_resamples is.  Changing it changes every seeded interval.
_BLOCK = 1000
# Upper bound (bytes) on the cached pair-sign blocks of pairwise_accuracy; beyond it they are rebuilt per block.
_PAIR_CACHE_BYTES = 256 << 20
_PAIR_ROWS = 256

Array = np.ndarray


# --------------------------------------------------------------------------------------------- inputs


def _scores(x: Any, name: str) -> Array:
    """1-D float array (a copy); ``None`` and non-finite values become NaN (= failed / missing)."""
    a = np.array(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per paper), got shape {a.shape}")
    a[~np.isfinite(a)] = np.nan
    return a


def _decisions(x: Any, name: str) -> Array:
    """1-D float array of 1.0 (accept) / 0.0 (reject) / NaN (missing, unparsed)."""
    a = _scores(x, name)
    bad = np.isfinite(a) & (a != 0.0) & (a != 1.0)
    if bad.any():
        raise ValueError(f"{name} must hold booleans or None; index {int(np.flatnonzero(bad)[0])} is {a[bad][0]!r}")
    return a


def _ragged(rows: Sequence[Any], name: str, *, strict: bool) -> tuple[Array, Array]:
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


def human_means(human_ratings: Sequence[Any]) -> Array:
    """Ground truth per paper: the mean of its human reviewers' scores ("Reviewer = n")."""
    flat, pid = _ragged(human_ratings, "human_ratings", strict=True)
    n = len(human_ratings)
    return np.bincount(pid, flat, minlength=n) / np.bincount(pid, minlength=n)


def _check_len(n: int, **arrays: Array) -> None:
    for name, a in arrays.items():
        if len(a) != n:
            raise ValueError(f"{name} has {len(a)} entries, expected {n} (one per paper)")


# --------------------------------------------------------------------------------------------- weights


def _weights_t(weights: Any, n: int) -> tuple[Array, bool]:
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


def _div(num: Array, den: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _scalar(v: Any) -> Any:
    """(1,) array -> float, NaN -> None; ints pass through; dicts recurse."""
    if isinstance(v, dict):
        return {k: _scalar(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        x = float(v.reshape(-1)[0])
        return None if np.isnan(x) else x
    return v


# --------------------------------------------------------------------------------------------- plans
#
# A plan holds the per-paper preparation of one metric.  ``features`` (n, m) are the per-paper quantities
# whose weighted sums the metric needs (all evaluated with one matrix product per block of resamples);
# ``finish(sums, wt, cache)`` turns the (m, B) sums -- plus, for rank metrics, the (n, B) weights -- into
# the figures, each a (B,) array.


class _Plan(ABC):
    features: Array
    counts: dict[str, int]

    @abstractmethod
    def finish(self, sums: Array, wt: Array, cache: dict) -> dict[str, Array]:
        """The figures from the per-resample feature sums (and weights, for rank metrics)."""


def _run(plan: _Plan, weights: Any) -> tuple[dict[str, Any], bool]:
    wt, scalar = _weights_t(weights, plan.features.shape[0])
    out = plan.finish(plan.features.T @ wt, wt, {})
    return {**out, **plan.counts}, scalar


def _public(plan: _Plan, weights: Any) -> dict[str, Any]:
    out, scalar = _run(plan, weights)
    return _scalar(out) if scalar else out


class _ErrorPlan(_Plan):
    """MSE / MAE of pred against target over papers where both are finite."""

    def __init__(self, pred: Array, target: Array):
        valid = np.isfinite(pred) & np.isfinite(target)
        e = np.where(valid, pred - np.where(valid, target, 0.0), 0.0)
        self.features = np.column_stack([valid, e * e, np.abs(e)]).astype(float)
        self.counts = {"n": int(valid.sum())}

    def finish(self, sums, wt, cache):
        return {"mse": _div(sums[1], sums[0]), "mae": _div(sums[2], sums[0])}


class _ProxyPlan(_Plan):
    """"Reviewer = n-1": each human score against the leave-one-out mean of the paper's other reviewers."""

    def __init__(self, pred: Array, human_ratings: Sequence[Any]):
        flat, pid = _ragged(human_ratings, "human_ratings", strict=True)
        n = len(human_ratings)
        k = np.bincount(pid, minlength=n).astype(float)
        total = np.bincount(pid, flat, minlength=n)
        multi = k >= 2
        kp = k[pid]
        loo = np.where(kp >= 2, (total[pid] - flat) / np.maximum(kp - 1, 1), np.nan)
        dh = flat - loo
        p = pred[pid]
        dm = np.where(np.isfinite(p), p, 0.0) - loo
        ok = kp >= 2

        def per_paper(v):
            return np.bincount(pid[ok], v[ok], minlength=n)

        hs, ha, ms, ma = per_paper(dh * dh), per_paper(np.abs(dh)), per_paper(dm * dm), per_paper(np.abs(dm))
        both = multi & np.isfinite(pred)
        b, m = both.astype(float), multi.astype(float)
        self.features = np.column_stack([b * k, b * hs, b * ha, b * ms, b * ma, m * k, m * hs, m * ha])
        self.counts = {
            "n_papers": int(both.sum()),
            "n_pairs": int(k[both].sum()),
            "n_papers_all": int(multi.sum()),
            "n_pairs_all": int(k[multi].sum()),
            "n_single_reviewer": int((~multi).sum()),
        }

    def finish(self, sums, wt, cache):
        return {
            "model_mse": _div(sums[3], sums[0]),
            "model_mae": _div(sums[4], sums[0]),
            "human_mse": _div(sums[1], sums[0]),
            "human_mae": _div(sums[2], sums[0]),
            "human_all_mse": _div(sums[6], sums[5]),
            "human_all_mae": _div(sums[7], sums[5]),
        }


class _DecisionPlan(_Plan):
    """Accuracy, macro-F1, F1 of the accept class and balanced accuracy of decisions (sklearn's definitions).

    The accept-class F1 is sklearn's default binary F1 (positive = accept), the figure the AI Scientist
    paper reports; macro-F1 is the CycleReviewer tables' figure."""

    def __init__(self, truth: Array, decided: Array):
        valid = np.isfinite(truth) & np.isfinite(decided)
        t, d = valid & (truth == 1), valid & (decided == 1)
        tp, fn = t & d, t & ~d
        fp, tn = valid & ~t & d, valid & ~t & ~d
        self.features = np.column_stack([valid, tp, fn, fp, tn]).astype(float)
        self.counts = {
            "n": int(valid.sum()),
            "n_failed": int((np.isfinite(truth) & ~np.isfinite(decided)).sum()),
            "n_truth_missing": int((~np.isfinite(truth)).sum()),
        }

    def finish(self, sums, wt, cache):
        n, tp, fn, fp, tn = sums
        acc = _div(tp + tn, n)
        # F1 per class = 2TP / (2TP + FP + FN); macro = mean over the classes that occur in the truth or the
        # predictions (sklearn's f1_score(average="macro")).
        f_pos_den, f_neg_den = 2 * tp + fp + fn, 2 * tn + fn + fp
        f_pos, f_neg = _div(2 * tp, f_pos_den), _div(2 * tn, f_neg_den)
        macro = _div(np.nan_to_num(f_pos) + np.nan_to_num(f_neg), (f_pos_den > 0) * 1.0 + (f_neg_den > 0))
        # balanced accuracy = mean recall over the classes present in the truth (sklearn).
        r_pos, r_neg = _div(tp, tp + fn), _div(tn, tn + fp)
        bal = _div(np.nan_to_num(r_pos) + np.nan_to_num(r_neg), (tp + fn > 0) * 1.0 + (tn + fp > 0))
        return {"accuracy": acc, "macro_f1": macro, "accept_f1": f_pos, "balanced_accuracy": bal}


class _PearsonPlan(_Plan):
    def __init__(self, x: Array, y: Array):
        valid = np.isfinite(x) & np.isfinite(y)
        xc = np.where(valid, x - (x[valid].mean() if valid.any() else 0.0), 0.0)
        yc = np.where(valid, y - (y[valid].mean() if valid.any() else 0.0), 0.0)
        self.features = np.column_stack([valid, xc, yc, xc * xc, yc * yc, xc * yc]).astype(float)
        self.counts = {"n": int(valid.sum())}

    def finish(self, sums, wt, cache):
        w, sx, sy, sxx, syy, sxy = sums
        with np.errstate(divide="ignore", invalid="ignore"):
            mx, my = sx / w, sy / w
            cov = sxy - w * mx * my
            vx, vy = sxx - w * mx * mx, syy - w * my * my
            # a side is constant when its variance is rounding noise relative to its own second moment
            ok = (w > 0) & (vx > 1e-12 * sxx) & (vy > 1e-12 * syy)
            r = np.where(ok, cov / np.sqrt(np.abs(vx * vy)), np.nan)
        return {"pearson": np.clip(r, -1.0, 1.0)}


def _buffer(cache: dict, name: Any, shape: tuple[int, ...], dtype: Any = np.float64) -> Array:
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


def _cumsum0(a: Array) -> Array:
    """Cumulative sum along axis 0.  For wide (n, B) arrays a row loop beats np.cumsum(axis=0) ~3x."""
    if a.ndim != 2 or a.shape[1] < 64:
        return np.cumsum(a, axis=0)
    out = np.empty_like(a)
    if a.shape[0]:
        out[0] = a[0]
    for i in range(1, a.shape[0]):
        np.add(out[i - 1], a[i], out=out[i])
    return out


class _Ranker:
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
                cache[key] = np.take(w, self.order, axis=0, out=_buffer(cache, key, w.shape), mode="clip")
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
            rg = _cumsum0(g)
            rg -= 0.5 * g
            rg += 0.5  # group mid-rank = weight before the group + (group weight + 1) / 2
            sq = np.einsum("gb,gb,gb->b", g, rg, rg)
            if self.identity and self.no_ties:
                r = rg
            else:
                r = np.take(rg, self.group_of, axis=0, out=_buffer(cache, key, w.shape), mode="clip")
            cache[key] = (r, sq)
        return cache[key]


def _masked(w: Array, valid: Array, key: Any, cache: dict) -> Array:
    """Weights with the rows of invalid papers zeroed (cached per mask)."""
    if valid.all():
        return w
    if key not in cache:
        cache[key] = np.multiply(w, valid[:, None], out=_buffer(cache, key, w.shape))
    return cache[key]


class _SpearmanPlan(_Plan):
    """Spearman = Pearson correlation of the (weighted) mid-ranks."""

    def __init__(self, x: Array, y: Array, names: tuple[str, str] = ("x", "y")):
        valid = np.isfinite(x) & np.isfinite(y)
        self.valid = valid
        self.mask_key = ("mask", valid.tobytes())
        self.rx = _Ranker(np.where(valid, x, np.nan), (names[0], valid.tobytes()))
        self.ry = _Ranker(np.where(valid, y, np.nan), (names[1], valid.tobytes()))
        self.features = valid[:, None].astype(float)
        self.counts = {"n": int(valid.sum())}

    def finish(self, sums, wt, cache):
        w = _masked(wt, self.valid, self.mask_key, cache)
        rx, sxx = self.rx.ranks(w, cache)
        ry, syy = self.ry.ranks(w, cache)
        sxy = np.einsum("ib,ib,ib->b", w, rx, ry)
        tot = sums[0]
        c = tot * ((tot + 1.0) / 2.0) ** 2  # sum of w * mean_rank**2; the mean rank is (W + 1) / 2
        vx, vy = sxx - c, syy - c
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where((vx > 1e-9) & (vy > 1e-9), (sxy - c) / np.sqrt(vx * vy), np.nan)
        return {"spearman": np.clip(r, -1.0, 1.0)}


class _AucPlan(_Plan):
    """ROC AUC of the continuous score against the true decision, by the Mann-Whitney rank formula:
    AUC = (sum of positives' mid-ranks - P (P + 1) / 2) / (P N), P / N = weight of accepts / rejects."""

    def __init__(self, score: Array, truth: Array, name: str = "x"):
        valid = np.isfinite(score) & np.isfinite(truth)
        self.valid = valid
        self.mask_key = ("mask", valid.tobytes())
        self.pos = (valid & (truth == 1)).astype(float)
        self.ranker = _Ranker(np.where(valid, score, np.nan), (name, valid.tobytes()))
        self.features = np.column_stack([valid & (truth == 1), valid & (truth == 0)]).astype(float)
        self.counts = {"n": int(valid.sum())}

    def finish(self, sums, wt, cache):
        w = _masked(wt, self.valid, self.mask_key, cache)
        r, _ = self.ranker.ranks(w, cache)
        p, q = sums
        u = np.einsum("i,ib,ib->b", self.pos, w, r) - p * (p + 1.0) / 2.0
        return {"roc_auc": _div(u, p * q)}


class _PairwisePlan(_Plan):
    """Pairwise ranking accuracy.

    Over ordered pairs (i, j) with truth y_i < y_j (pairs tied in truth excluded):
    accuracy = sum w_i w_j s_ij / sum w_i w_j, s_ij = 1 if p_i < p_j, 1/2 if p_i == p_j, 0 otherwise.
    With s_ij = (1 + sign(p_j - p_i)) / 2:  accuracy = 1/2 + q / (2 D), where
    D = sum_{y_i < y_j} w_i w_j = (W^2 - sum over truth-tie groups of W_g^2) / 2 and
    q = w' K w, K_ij = [y_i < y_j] sign(p_j - p_i).  With the papers sorted by y, K is upper triangular; q is
    computed for all resamples at once by float32 matrix products over row blocks of K (exact for integer
    weights: every partial sum in the product is an integer of magnitude <= the resample size < 2^24).
    """

    def __init__(self, pred: Array, truth: Array, names: tuple[str, str] = ("x", "y")):
        valid = np.isfinite(pred) & np.isfinite(truth)
        self.valid = valid
        self.mask_key = ("mask", valid.tobytes())
        self.ranker = _Ranker(np.where(valid, truth, np.nan), (names[1], valid.tobytes()))
        m = int(valid.sum())
        self.m = m
        order = self.ranker.order[:m]  # valid papers by increasing truth (NaN sort last)
        self.ys, self.ps = truth[order], pred[order]
        sizes = np.diff(np.r_[self.ranker.starts[self.ranker.starts < m], m])
        group_end = np.repeat(np.cumsum(sizes), sizes)  # first sorted index with a strictly larger y
        self.blocks = []
        cached = 0
        for a in range(0, m, _PAIR_ROWS):
            b = min(a + _PAIR_ROWS, m)
            j0 = int(group_end[a])
            if j0 >= m:
                break
            cached += (b - a) * (m - j0) * 4
            self.blocks.append((a, b, j0, self._block(a, b, j0) if cached <= _PAIR_CACHE_BYTES else None))
        self.features = np.zeros((pred.size, 0))
        self.counts = {"n": m, "n_pairs": int((m * m - int((sizes * sizes).sum())) // 2)}

    def _block(self, a: int, b: int, j0: int) -> Array:
        ys, ps = self.ys, self.ps
        k = np.sign(ps[None, j0:] - ps[a:b, None]).astype(np.float32)
        k *= ys[None, j0:] > ys[a:b, None]
        return k

    def finish(self, sums, wt, cache):
        w = _masked(wt, self.valid, self.mask_key, cache)
        g = self.ranker.group_weights(w, cache)
        tot = g.sum(axis=0)
        d = 0.5 * (tot * tot - np.einsum("gb,gb->b", g, g))
        w32 = _buffer(cache, ("float32",) + self.ranker.key, (self.m, w.shape[1]), np.float32)
        np.copyto(w32, self.ranker.sorted_weights(w, cache)[: self.m], casting="same_kind")
        q = np.zeros(wt.shape[1])
        for a, b, j0, k in self.blocks:
            part = (self._block(a, b, j0) if k is None else k) @ w32[j0:]
            q += np.einsum("ib,ib->b", w32[a:b], part, dtype=np.float64)
        return {"pairwise_accuracy": 0.5 + _div(q, 2.0 * d)}


class _AcceptPlan(_Plan):
    def __init__(self, decision: Array, rating: Array, threshold: float):
        has_d, has_r = np.isfinite(decision), np.isfinite(rating)
        self.features = np.column_stack(
            [has_d, has_d & (decision == 1), has_r, has_r & (rating >= threshold), np.where(has_r, rating, 0.0)]
        ).astype(float)
        self.counts = {
            "n_decision": int(has_d.sum()),
            "n_decision_failed": int((~has_d).sum()),
            "n_rating": int(has_r.sum()),
            "n_rating_failed": int((~has_r).sum()),
        }

    def finish(self, sums, wt, cache):
        return {
            "accept_rate_by_decision": _div(sums[1], sums[0]),
            "accept_rate_by_rating": _div(sums[3], sums[2]),
            "mean_rating": _div(sums[4], sums[2]),
        }


# --------------------------------------------------------------------------------------------- public metrics


def rating_errors(pred: Any, human_means: Any, weights: Any = None) -> dict[str, Any]:
    """"Reviewer = n": ``mse`` = mean over papers of (pred - mean of all n human scores)^2, ``mae`` the same
    with |.|; papers whose prediction is NaN (failed parse) are excluded.  ``n`` = papers used."""
    p, t = _scores(pred, "pred"), _scores(human_means, "human_means")
    _check_len(len(p), human_means=t)
    return _public(_ErrorPlan(p, t), weights)


def proxy_errors(pred: Any, human_ratings: Sequence[Any], weights: Any = None) -> dict[str, Any]:
    """"Reviewer = n-1" proxy.

    For each paper with n >= 2 reviewers and a parsed prediction, and each reviewer j, the leave-one-out mean
    loo_j = (sum of the paper's scores - r_j) / (n - 1).  Over all such (paper, j) pairs:
    ``human_mse`` = mean (r_j - loo_j)^2, ``human_mae`` = mean |r_j - loo_j| (the human row);
    ``model_mse`` = mean (pred - loo_j)^2, ``model_mae`` = mean |pred - loo_j| (the model row, same pairs).
    ``human_all_*``: the human row over every paper with n >= 2, whether or not the model parsed.
    Papers with n < 2 are excluded (``n_single_reviewer``).  Under weights, a paper's pairs all carry its weight.
    """
    p = _scores(pred, "pred")
    _check_len(len(p), human_ratings=human_ratings)
    return _public(_ProxyPlan(p, human_ratings), weights)


def decision_metrics(true_decision: Any, predicted_decision: Any, weights: Any = None) -> dict[str, Any]:
    """Accept/reject decision metrics over papers with a known true and a parsed predicted decision.

    ``accuracy`` = share correct; ``macro_f1`` = mean of F1(accept) and F1(reject), F1 = 2TP / (2TP + FP + FN),
    over the classes present in truth or prediction (= sklearn ``f1_score(average="macro")``);
    ``balanced_accuracy`` = mean recall over the classes present in the truth (= sklearn).
    ``n_failed`` = papers whose predicted decision did not parse (excluded, never scored as reject)."""
    t, d = _decisions(true_decision, "true_decision"), _decisions(predicted_decision, "predicted_decision")
    _check_len(len(t), predicted_decision=d)
    return _public(_DecisionPlan(t, d), weights)


def roc_auc(pred: Any, true_decision: Any, weights: Any = None) -> Any:
    """ROC AUC of the continuous predicted rating against the true accept decision (not the binary decision):
    probability that an accepted paper is rated above a rejected one, ties 1/2.  ``None`` (NaN in vector mode)
    when only one class is present.  Papers with NaN prediction or unknown truth are excluded."""
    p, t = _scores(pred, "pred"), _decisions(true_decision, "true_decision")
    _check_len(len(p), true_decision=t)
    return _public(_AucPlan(p, t), weights)["roc_auc"]


def spearman(pred: Any, human_means: Any, weights: Any = None) -> Any:
    """Spearman rank correlation of predicted vs mean human rating (average ranks for ties); ``None`` when
    either side is constant."""
    p, t = _scores(pred, "pred"), _scores(human_means, "human_means")
    _check_len(len(p), human_means=t)
    return _public(_SpearmanPlan(p, t), weights)["spearman"]


def pearson(pred: Any, human_means: Any, weights: Any = None) -> Any:
    """Pearson correlation of predicted vs mean human rating; ``None`` when either side is constant."""
    p, t = _scores(pred, "pred"), _scores(human_means, "human_means")
    _check_len(len(p), human_means=t)
    return _public(_PearsonPlan(p, t), weights)["pearson"]


def pairwise_accuracy(pred: Any, human_means: Any, weights: Any = None) -> Any:
    """Share of paper pairs with a strict true order (ties in the human mean excluded) that the prediction
    orders the same way; a tie in the prediction counts 1/2.  ``None`` when no pair is strictly ordered."""
    p, t = _scores(pred, "pred"), _scores(human_means, "human_means")
    _check_len(len(p), human_means=t)
    return _public(_PairwisePlan(p, t), weights)["pairwise_accuracy"]


def _aspect_plans(
    predicted_aspects: Mapping[str, Any], human_aspects: Mapping[str, Sequence[Any]], n: int | None
) -> dict[str, _ErrorPlan]:
    plans = {}
    names = [a for a in ASPECTS if a in predicted_aspects and a in human_aspects]
    names += sorted(k for k in predicted_aspects.keys() & human_aspects.keys() if k not in ASPECTS)
    for name in names:
        p = _scores(predicted_aspects[name], f"predicted_aspects[{name!r}]")
        rows = human_aspects[name]
        expected = len(p) if n is None else n
        _check_len(expected, **{f"predicted_aspects[{name!r}]": p, f"human_aspects[{name!r}]": rows})
        flat, pid = _ragged(rows, f"human_aspects[{name!r}]", strict=False)
        k = np.bincount(pid, minlength=len(rows))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(pid, flat, minlength=len(rows)) / k
        plan = _ErrorPlan(p, mean)
        plan.counts = {
            "n": plan.counts["n"],
            "n_missing": len(p) - plan.counts["n"],
            "n_missing_pred": int((~np.isfinite(p)).sum()),
            "n_missing_human": int((k == 0).sum()),
        }
        plans[name] = plan
    return plans


def aspect_errors(
    predicted_aspects: Mapping[str, Any], human_aspects: Mapping[str, Sequence[Any]], weights: Any = None
) -> dict[str, dict[str, Any]]:
    """Per aspect (soundness, presentation, contribution, confidence, or any other key present on both sides):
    MSE / MAE of the predicted score against the mean of the human scores, over papers where the prediction is
    finite and at least one human score is finite (non-finite human entries are dropped).  Skipped papers are
    counted: ``n_missing`` (= ``n_missing_pred`` and/or ``n_missing_human``)."""
    plans = _aspect_plans(predicted_aspects, human_aspects, None)
    return {name: _public(plan, weights) for name, plan in plans.items()}


# --------------------------------------------------------------------------------------------- bootstrap


def _count_block(n: int, size: int, seed: int, block: int, arena: dict | None = None) -> Array:
    """Multiplicities (n, size) for resamples [block*_BLOCK, block*_BLOCK + size): each resample draws n
    papers uniformly with replacement.  With ``arena`` the result lives in a reused buffer."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
    small = n <= np.iinfo(np.uint16).max + 1  # uint16 draws are ~2x cheaper and just as uniform
    idx = rng.integers(0, n, size=(size, n), dtype=np.uint16 if small else np.int64).astype(np.intp)
    idx *= size
    idx += np.arange(size)[:, None]
    counts = np.bincount(idx.reshape(-1), minlength=n * size).reshape(n, size)
    out = _buffer({} if arena is None else {"_arena": arena}, "counts", (n, size))
    np.copyto(out, counts)
    return out


def _count_blocks(n: int, n_resamples: int, seed: int, arena: dict | None = None):
    if n < 1 or n_resamples < 1:
        raise ValueError("need n >= 1 papers and n_resamples >= 1")
    for blk, start in enumerate(range(0, n_resamples, _BLOCK)):
        yield _count_block(n, min(_BLOCK, n_resamples - start), seed, blk, arena)


def bootstrap_counts(n: int, n_resamples: int = DEFAULT_N_RESAMPLES, seed: int = DEFAULT_SEED) -> Array:
    """Paper-level bootstrap: a ``(n_resamples, n)`` float array of multiplicities; row b says how many times
    each paper occurs in resample b (n draws with replacement, so each row sums to n).  The resamples are the
    ones :func:`bootstrap_ci` and :func:`evaluate_reviews` use for the same seed."""
    return np.concatenate(list(_count_blocks(n, n_resamples, seed)), axis=1).T


def percentile_interval(samples: Any, confidence: float = DEFAULT_CONFIDENCE) -> tuple[Any, Any, int]:
    """Percentile interval over the finite samples: ``(low, high, n_defined)``; ``(None, None, k)`` if fewer
    than 2 samples are defined."""
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if s.size < 2:
        return None, None, int(s.size)
    alpha = 100.0 * (1.0 - confidence) / 2.0
    lo, hi = np.percentile(s, [alpha, 100.0 - alpha])
    return float(lo), float(hi), int(s.size)


def _figure(value: Any, samples: Array, n: int, confidence: float) -> dict[str, Any]:
    lo, hi, defined = percentile_interval(samples, confidence)
    if value is None:
        lo = hi = None
    return {"value": value, "ci_low": lo, "ci_high": hi, "n": n, "n_resamples": defined}


def bootstrap_ci(
    metric: Callable[..., Any],
    *args: Any,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    n_papers: int | None = None,
    **kwargs: Any,
) -> Any:
    """Bootstrap percentile interval for any metric of this module (anything accepting ``weights=``).

    The metric is evaluated once plainly and once per block of resamples from :func:`bootstrap_counts` with
    2-D weights.  A scalar metric gives ``{"value", "ci_low", "ci_high", "n", "n_resamples"}`` (``n`` = papers
    used, ``n_resamples`` = resamples where the figure is defined); a dict metric gives that per float figure
    (nested dicts recurse), integer counts passed through.  The number of papers is ``len(args[0])`` unless
    ``n_papers`` is given (needed for :func:`aspect_errors`, whose first argument is a mapping)."""
    n = len(args[0]) if n_papers is None else n_papers
    point = metric(*args, **kwargs)
    parts = [metric(*args, weights=w.T, **kwargs) for w in _count_blocks(n, n_resamples, seed)]
    return _ci_tree(point, parts, n, confidence)


def _ci_tree(point: Any, parts: list, n: int, confidence: float) -> Any:
    if not isinstance(point, dict):
        return _figure(point, np.concatenate(parts), n, confidence)
    used = point.get("n", point.get("n_papers", n))
    out: dict[str, Any] = {}
    for key, value in point.items():
        sub = [p[key] for p in parts]
        if isinstance(value, dict):
            out[key] = _ci_tree(value, sub, n, confidence)
        elif isinstance(sub[0], np.ndarray):
            out[key] = _figure(value, np.concatenate(sub), used, confidence)
        else:
            out[key] = value
    return out


def _suite(plans: dict[str, _Plan], n: int, n_resamples: int, seed: int):
    """Point values and bootstrap samples of every plan: ({plan: {figure: value}}, {plan: {figure: (B,)}})."""
    feats = [p.features for p in plans.values()]
    sizes = np.cumsum([0] + [f.shape[1] for f in feats])
    f_all = np.ascontiguousarray(np.concatenate(feats, axis=1).T)

    arena: dict = {}  # scratch buffers reused from one block of resamples to the next

    def evaluate(wt):
        sums, cache = f_all @ wt, {"_arena": arena}
        return {
            name: plan.finish(sums[sizes[i] : sizes[i + 1]], wt, cache) for i, (name, plan) in enumerate(plans.items())
        }

    point = {name: {k: _scalar(v) for k, v in res.items()} for name, res in evaluate(np.ones((n, 1))).items()}
    if n_resamples <= 0 or n == 0:
        return point, None
    blocks = [evaluate(w) for w in _count_blocks(n, n_resamples, seed, arena)]
    samples = {
        name: {k: np.concatenate([b[name][k] for b in blocks]) for k in point[name]} for name in plans
    }
    return point, samples


# --------------------------------------------------------------------------------------------- suites


def evaluate_reviews(
    human_ratings: Sequence[Any],
    predicted: Any,
    true_decision: Any = None,
    predicted_decision: Any = None,
    *,
    human_aspects: Mapping[str, Sequence[Any]] | None = None,
    predicted_aspects: Mapping[str, Any] | None = None,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """The full review-evaluation suite with paper-level bootstrap intervals.

    Returns ``{"metrics": {figure: {"value", "ci_low", "ci_high", "n", "n_resamples"}}, counts...,
    "definitions": {...}}``.  ``value``/``ci_*`` are ``None`` where undefined (e.g. AUC with one class).
    Decision figures need ``true_decision`` and ``predicted_decision``; AUC needs ``true_decision``; aspect
    figures need both aspect mappings.  ``n_resamples=0`` skips the bootstrap (intervals ``None``)."""
    n = len(human_ratings)
    if n == 0:
        raise ValueError("no papers to evaluate")
    pred = _scores(predicted, "predicted")
    _check_len(n, predicted=pred)
    hm = human_means(human_ratings)
    plans: dict[str, _Plan] = {
        "rating": _ErrorPlan(pred, hm),
        "proxy": _ProxyPlan(pred, human_ratings),
        "spearman": _SpearmanPlan(pred, hm, names=("pred", "human")),
        "pearson": _PearsonPlan(pred, hm),
        "pairwise": _PairwisePlan(pred, hm, names=("pred", "human")),
    }
    truth = None
    if predicted_decision is not None and true_decision is None:
        raise ValueError("predicted_decision given without true_decision")
    if true_decision is not None:
        truth = _decisions(true_decision, "true_decision")
        _check_len(n, true_decision=truth)
        plans["auc"] = _AucPlan(pred, truth, name="pred")
        if predicted_decision is not None:
            dec = _decisions(predicted_decision, "predicted_decision")
            _check_len(n, predicted_decision=dec)
            plans["decision"] = _DecisionPlan(truth, dec)
    aspect_plans = {}
    if human_aspects is not None and predicted_aspects is not None:
        aspect_plans = _aspect_plans(predicted_aspects, human_aspects, n)
        plans.update({f"aspect:{k}": v for k, v in aspect_plans.items()})

    point, samples = _suite(plans, n, n_resamples, seed)
    empty = np.full(0, np.nan)

    def fig(plan: str, key: str, count: str = "n") -> dict[str, Any]:
        s = samples[plan][key] if samples is not None else empty
        return _figure(point[plan][key], s, plans[plan].counts[count], confidence)

    metrics: dict[str, Any] = {
        "rating_mse": fig("rating", "mse"),
        "rating_mae": fig("rating", "mae"),
        "proxy_model_mse": fig("proxy", "model_mse", "n_papers"),
        "proxy_model_mae": fig("proxy", "model_mae", "n_papers"),
        "proxy_human_mse": fig("proxy", "human_mse", "n_papers"),
        "proxy_human_mae": fig("proxy", "human_mae", "n_papers"),
        "proxy_human_all_mse": fig("proxy", "human_all_mse", "n_papers_all"),
        "proxy_human_all_mae": fig("proxy", "human_all_mae", "n_papers_all"),
    }
    if "decision" in plans:
        metrics["decision_accuracy"] = fig("decision", "accuracy")
        metrics["decision_macro_f1"] = fig("decision", "macro_f1")
        metrics["decision_accept_f1"] = fig("decision", "accept_f1")
        metrics["decision_balanced_accuracy"] = fig("decision", "balanced_accuracy")
    if "auc" in plans:
        metrics["roc_auc"] = fig("auc", "roc_auc")
    metrics["spearman"] = fig("spearman", "spearman")
    metrics["pearson"] = fig("pearson", "pearson")
    metrics["pairwise_accuracy"] = fig("pairwise", "pairwise_accuracy")
    for name in aspect_plans:
        metrics[f"{name}_mse"] = fig(f"aspect:{name}", "mse")
        metrics[f"{name}_mae"] = fig(f"aspect:{name}", "mae")

    proxy = plans["proxy"].counts
    out: dict[str, Any] = {
        "n_papers": n,
        "n_evaluated": int(np.isfinite(pred).sum()),
        "n_failed": int((~np.isfinite(pred)).sum()),
        "n_single_reviewer": proxy["n_single_reviewer"],
        "n_proxy_pairs": proxy["n_pairs"],
        "n_ranking_pairs": plans["pairwise"].counts["n_pairs"],
    }
    if "decision" in plans:
        c = plans["decision"].counts
        out["n_decision_evaluated"] = c["n"]
        out["n_decision_failed"] = c["n_failed"]
        out["n_decision_truth_missing"] = c["n_truth_missing"]
    elif truth is not None:
        out["n_decision_truth_missing"] = int((~np.isfinite(truth)).sum())
    if aspect_plans:
        out["aspect_counts"] = {k: dict(v.counts) for k, v in aspect_plans.items()}
    out["metrics"] = metrics
    out["definitions"] = _definitions(n_resamples, seed, confidence)
    return out


def _definitions(n_resamples: int, seed: int, confidence: float) -> dict[str, str]:
    pct = f"{100 * confidence:g}%"
    return {
        "ground_truth": "per paper, the mean of its human reviewers' ratings",
        "failed_parse": "a NaN/non-finite predicted rating (or unparsed decision) is excluded from the metrics "
        "that need it and counted (n_failed, n_decision_failed); it is never scored as 0 or as reject",
        "rating_mse/mae": "'Reviewer = n': mean over papers of (pred - mean of all n human ratings)^2 / |.|",
        "proxy": "'Reviewer = n-1': over every (paper with n >= 2, reviewer j), loo_j = mean of the other n-1 "
        "ratings; human row = mean (r_j - loo_j)^2 / |.|, model row = mean (pred - loo_j)^2 / |.| on the same "
        "pairs (papers with a parsed prediction); proxy_human_all_* = human row over every paper with n >= 2; "
        "papers with n < 2 excluded (n_single_reviewer)",
        "decision": "accept/reject; accuracy; macro-F1 = mean F1 of the classes present in truth or prediction "
        "(sklearn f1_score average='macro'); balanced accuracy = mean recall of the classes present in the truth",
        "roc_auc": "ROC AUC of the continuous predicted rating (not the binary decision) against the true "
        "decision, Mann-Whitney with mid-ranks (ties count 1/2); None with one class",
        "spearman": "Spearman (average ranks for ties) of predicted rating vs mean human rating across papers",
        "pearson": "Pearson of predicted rating vs mean human rating across papers",
        "pairwise_accuracy": "over all paper pairs with a strict order in mean human rating (pairs with exactly "
        "equal means excluded), the share ordered the same way by the prediction; prediction ties count 1/2",
        "aspects": "per aspect, MSE/MAE of the predicted score vs the mean of the finite human scores; papers "
        "missing either side skipped and counted",
        "confidence_interval": f"{pct} percentile bootstrap interval, paper-level resampling with replacement, "
        f"B = {n_resamples} resamples shared by all figures, seed {seed} (numpy PCG64, SeedSequence(seed, "
        f"spawn_key=(block,)) per block of {_BLOCK}); resamples where a figure is undefined are dropped "
        "(n_resamples says how many remain)",
    }


def simulated_acceptance(
    decisions: Any,
    ratings: Any,
    threshold: float = DEFAULT_ACCEPT_THRESHOLD,
    *,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """Simulated acceptance rate of generated papers, both definitions, named.

    ``decisions``: the judge's decision per paper (True = Accept, None/NaN = unparsed).  ``ratings``: per paper
    either the judge's mean rating (float, NaN = unparsed) or the list of its reviewers' ratings (mean taken
    over the finite ones).  ``accept_rate_by_decision`` = share of papers with a parsed decision judged Accept;
    ``accept_rate_by_rating`` = share of papers with a parsed rating whose mean rating >= ``threshold``
    (default 6, "roughly the average score of accepted papers", AI Scientist).  Unparsed papers are excluded
    from the respective rate and counted.  ``mean_rating`` = average of the mean ratings."""
    d = _decisions(decisions, "decisions")
    n = len(d)
    ragged = not isinstance(ratings, np.ndarray) and any(np.ndim(x) > 0 for x in ratings)
    if ragged:
        flat, pid = _ragged(ratings, "ratings", strict=False)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.bincount(pid, flat, minlength=len(ratings)) / np.bincount(pid, minlength=len(ratings))
    else:
        r = _scores(ratings, "ratings")
    _check_len(n, ratings=r)
    plan = _AcceptPlan(d, r, float(threshold))
    point, samples = _suite({"a": plan}, n, n_resamples, seed)
    empty = np.full(0, np.nan)

    def fig(key: str, count: str) -> dict[str, Any]:
        s = samples["a"][key] if samples is not None else empty
        return _figure(point["a"].get(key), s, plan.counts[count], confidence)

    return {
        "accept_rate_by_decision": fig("accept_rate_by_decision", "n_decision"),
        "accept_rate_by_rating": fig("accept_rate_by_rating", "n_rating"),
        "mean_rating": fig("mean_rating", "n_rating"),
        "n_papers": n,
        **plan.counts,
        "threshold": float(threshold),
        "definitions": {
            "accept_rate_by_decision": "share of papers whose judge decision text parsed as Accept, over papers "
            "with a parsed decision",
            "accept_rate_by_rating": f"share of papers whose judge mean rating >= {float(threshold):g}, over "
            "papers with a parsed rating",
            "mean_rating": "mean over papers of the judge's mean rating",
            "confidence_interval": _definitions(n_resamples, seed, confidence)["confidence_interval"],
        },
    }
