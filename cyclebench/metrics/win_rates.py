"""Win rates of reviewing systems judged pairwise, with position bias measured and removed.

Input: :class:`OrderedJudgment` records, one per (paper, system shown first, system shown second), each with a
verdict per aspect (``"A"`` = the first shown is better, ``"B"`` = the second, ``"tie"``, ``None`` = the judge's
answer could not be read). Every (paper, pair of systems) is meant to be judged in both orders.

The rules, stated once (the run writes them into ``definitions``):

* **Score of one order**, for the pair's first system ``x`` (the pair ``(x, y)`` in the order the systems are
  listed): 1 when ``x``'s review is preferred, 0 when ``y``'s is, 0.5 for a tie.
* **Combined result** of a (paper, pair): the mean of the two orders' scores. Both orders agreeing gives that
  verdict; opposite verdicts give 0.5, a tie; a verdict and a tie give 0.75 / 0.25. A combined score above 0.5
  is a win for ``x``, 0.5 a tie, below 0.5 a loss. A (paper, pair, aspect) with an order missing or unreadable
  is excluded (counted by reason, never counted as a tie): one order alone cannot have its position bias removed.
* **Win rate** = wins / combined results; tie and loss rates alike; ``score`` = mean combined score (ties as
  half wins). Intervals: paper-level bootstrap over the pair's papers (:mod:`cyclebench.metrics.bootstrap`).
* **Position bias**: over every readable decisive verdict (A or B) of every single order, the share that
  prefers the review shown first, minus 0.5 (0: none; +0.5: always the first); interval by paper bootstrap.
* **Bradley-Terry**: strengths ``p`` fitted by Hunter's (2004) MM iteration to the combined scores (a score
  ``s`` adds ``s`` wins to ``x`` over ``y`` and ``1 - s`` to ``y`` over ``x``, so ties are half wins), with a
  prior of one virtual tie per compared pair (half a win each way, so a system that never wins keeps a finite
  rating); reported on the Elo scale, ``1000 + 400 log10(p)`` with the geometric mean of ``p`` at 1 (mean
  rating 1000). Intervals: the fit redone on each paper-level bootstrap resample. Undefined (``None``) when
  the comparison graph is not connected.

Pure numpy over records: no I/O, no backend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cyclebench.metrics.bootstrap import DEFAULT_N_RESAMPLES, DEFAULT_SEED, bootstrap_ci
from cyclebench.records import problem_key

BT_PRIOR = 0.5  # virtual half-wins each way per compared pair
BT_BASE, BT_SCALE = 1000.0, 400.0
_MM_TOL, _MM_MAX_ITER = 1e-10, 10_000
_SCORE = {"A": 1.0, "B": 0.0, "tie": 0.5}


@dataclass(frozen=True)
class OrderedJudgment:
    """One judge call: ``first`` was shown as Review A, ``second`` as Review B; a verdict per aspect."""

    paper_id: str
    first: str
    second: str
    verdicts: Mapping[str, str | None]


@dataclass(frozen=True)
class Combined:
    """A (paper, pair, aspect) judged in both orders: ``score`` for ``x`` (see the module rules)."""

    paper_id: str
    x: str
    y: str
    score: float
    agree: bool  # both orders named the same winner (or both a tie) once the swap is undone


def _check_judgments(judgments: Sequence[OrderedJudgment], systems: Sequence[str]) -> None:
    known = set(systems)
    if len(known) != len(systems):
        raise ValueError(f"system names repeat: {list(systems)}")
    seen = set()
    for j in judgments:
        if j.first == j.second:
            raise ValueError(f"paper {j.paper_id}: a system judged against itself ({j.first})")
        for name in (j.first, j.second):
            if name not in known:
                raise ValueError(f"paper {j.paper_id}: unknown system {name!r} (systems: {list(systems)})")
        key = (j.paper_id, j.first, j.second)
        if key in seen:
            raise ValueError(f"paper {j.paper_id}: {j.first} vs {j.second} judged twice in the same order")
        seen.add(key)
        for verdict in j.verdicts.values():
            if verdict is not None and verdict not in _SCORE:
                raise ValueError(f"paper {j.paper_id}: verdict {verdict!r} is not A, B, tie or None")


def combine_orders(judgments: Sequence[OrderedJudgment], systems: Sequence[str],
                   aspect: str) -> tuple[list[Combined], Counter[str]]:
    """The combined results of one aspect (sorted by pair, then paper) and the excluded ones by reason:
    ``order_missing`` (only one order was judged), ``one_order_unreadable``, ``both_orders_unreadable``."""
    _check_judgments(judgments, systems)
    rank = {name: i for i, name in enumerate(systems)}
    by_key: dict[tuple[str, str, str], dict[bool, OrderedJudgment]] = {}
    for j in judgments:
        x, y = sorted((j.first, j.second), key=rank.__getitem__)
        by_key.setdefault((j.paper_id, x, y), {})[j.first == x] = j
    out, excluded = [], Counter()
    for (paper, x, y), orders in sorted(by_key.items(), key=lambda kv: (rank[kv[0][1]], rank[kv[0][2]], kv[0][0])):
        if len(orders) < 2:
            excluded["order_missing"] += 1
            continue
        forward, swapped = orders[True].verdicts.get(aspect), orders[False].verdicts.get(aspect)
        unreadable = (forward is None) + (swapped is None)
        if unreadable:
            excluded["both_orders_unreadable" if unreadable == 2 else "one_order_unreadable"] += 1
            continue
        s1, s2 = _SCORE[forward], 1.0 - _SCORE[swapped]  # undo the swap: "A" in the swapped order is y
        out.append(Combined(paper, x, y, (s1 + s2) / 2, s1 == s2))
    return out, excluded


def _wmean(values: np.ndarray, weights: Any) -> Any:
    """Mean of ``values`` under paper multiplicities (None: each once; 2-D: one mean per resample)."""
    if weights is None:
        return float(values.mean()) if values.size else None
    w = np.asarray(weights, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w @ values) / w.sum(axis=-1)


def _ratio(num: np.ndarray, den: np.ndarray, weights: Any) -> Any:
    if weights is None:
        total = float(den.sum())
        return float(num.sum()) / total if total else None
    w = np.asarray(weights, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w @ num) / (w @ den)


def _pair_rates(scores: np.ndarray, agree: np.ndarray, weights: Any = None) -> dict[str, Any]:
    return {"win_rate": _wmean((scores > 0.5).astype(float), weights),
            "tie_rate": _wmean((scores == 0.5).astype(float), weights),
            "loss_rate": _wmean((scores < 0.5).astype(float), weights),
            "score": _wmean(scores, weights),
            "order_agreement": _wmean(agree.astype(float), weights)}


def pair_results(combined: Sequence[Combined], systems: Sequence[str], *, n_resamples: int = DEFAULT_N_RESAMPLES,
                 seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """Per system pair (in listed order, only pairs with results): counts and rates for its first system."""
    out = []
    for i, x in enumerate(systems):
        for y in systems[i + 1:]:
            rows = [c for c in combined if c.x == x and c.y == y]
            if not rows:
                continue
            scores = np.array([c.score for c in rows])
            agree = np.array([c.agree for c in rows])
            entry: dict[str, Any] = {"system": x, "opponent": y, "n": len(rows), "wins": int((scores > 0.5).sum()),
                                     "ties": int((scores == 0.5).sum()), "losses": int((scores < 0.5).sum())}
            if n_resamples > 0:
                figures = bootstrap_ci(_pair_rates, scores, agree, n_resamples=n_resamples, seed=seed)
            else:
                figures = {k: {"value": v, "ci_low": None, "ci_high": None, "n": len(rows), "n_resamples": 0}
                           for k, v in _pair_rates(scores, agree).items()}
            out.append({**entry, **figures})
    return out


def _first_share(first: np.ndarray, decisive: np.ndarray, weights: Any = None) -> dict[str, Any]:
    share = _ratio(first, decisive, weights)
    return {"first_share": share, "bias": None if share is None else share - 0.5}


def position_bias(judgments: Sequence[OrderedJudgment], aspect: str, *, n_resamples: int = DEFAULT_N_RESAMPLES,
                  seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Share of decisive verdicts for the first-shown review, and that share minus 0.5, over single orders."""
    papers = sorted({j.paper_id for j in judgments})
    index = {p: i for i, p in enumerate(papers)}
    first, decisive = np.zeros(len(papers)), np.zeros(len(papers))
    counts = Counter()
    for j in judgments:
        verdict = j.verdicts.get(aspect)
        counts["unreadable" if verdict is None else verdict] += 1
        if verdict in ("A", "B"):
            decisive[index[j.paper_id]] += 1
            first[index[j.paper_id]] += verdict == "A"
    keep = decisive > 0
    tallies = {"n_first": counts["A"], "n_second": counts["B"], "n_tie": counts["tie"],
               "n_unreadable": counts["unreadable"], "n_papers": int(keep.sum())}
    if not keep.any():
        none = {"value": None, "ci_low": None, "ci_high": None, "n": 0, "n_resamples": 0}
        return {"first_share": dict(none), "bias": dict(none), **tallies}
    if n_resamples > 0:
        figures = bootstrap_ci(_first_share, first[keep], decisive[keep], n_resamples=n_resamples, seed=seed)
    else:
        figures = {k: {"value": v, "ci_low": None, "ci_high": None, "n": int(keep.sum()), "n_resamples": 0}
                   for k, v in _first_share(first[keep], decisive[keep]).items()}
    return {**figures, **tallies}


def _connected(pairs: Iterable[tuple[int, int]], k: int) -> bool:
    parent = list(range(k))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        parent[find(i)] = find(j)
    return len({find(i) for i in range(k)}) == 1


def fit_bradley_terry(wins: np.ndarray, prior_mask: np.ndarray, prior: float = BT_PRIOR) -> np.ndarray:
    """MM fit (Hunter 2004) of strengths for one or many win matrices ``(..., K, K)`` (``wins[i, j]``: how
    often i beat j, fractions allowed); ``prior`` half-wins added each way where ``prior_mask``. Returns
    Elo-scale ratings ``(..., K)`` (geometric-mean strength 1, i.e. mean rating 1000)."""
    w = np.asarray(wins, dtype=float) + prior * prior_mask
    total = w + np.swapaxes(w, -1, -2)
    won = w.sum(axis=-1)
    p = np.ones(w.shape[:-1])
    for _ in range(_MM_MAX_ITER):
        pair_sum = p[..., :, None] + p[..., None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            den = np.where(total > 0, total / pair_sum, 0.0).sum(axis=-1)
            new = won / den
        new = new / np.exp(np.log(new).mean(axis=-1, keepdims=True))
        done = np.nanmax(np.abs(new - p) / np.maximum(p, 1e-300)) < _MM_TOL
        p = new
        if done:
            break
    return BT_BASE + BT_SCALE * np.log10(p)


def _bt_ratings(contrib: np.ndarray, mask: np.ndarray, names: tuple[str, ...], weights: Any = None) -> dict[str, Any]:
    if weights is None:
        ratings = fit_bradley_terry(contrib.sum(axis=0), mask)
        return {name: float(r) for name, r in zip(names, ratings)}
    w = np.asarray(weights, dtype=float)
    ratings = fit_bradley_terry(np.einsum("bn,nij->bij", w, contrib), mask)
    return {name: ratings[:, i] for i, name in enumerate(names)}


def bradley_terry(combined: Sequence[Combined], systems: Sequence[str], *, n_resamples: int = DEFAULT_N_RESAMPLES,
                  seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Bradley-Terry ratings of every system from one aspect's combined results (see the module rules)."""
    rank = {name: i for i, name in enumerate(systems)}
    k = len(systems)
    papers = sorted({c.paper_id for c in combined})
    index = {p: i for i, p in enumerate(papers)}
    contrib = np.zeros((len(papers), k, k))
    for c in combined:
        i, j = rank[c.x], rank[c.y]
        contrib[index[c.paper_id], i, j] += c.score
        contrib[index[c.paper_id], j, i] += 1.0 - c.score
    compared = {(rank[c.x], rank[c.y]) for c in combined}
    mask = np.zeros((k, k))
    for i, j in compared:
        mask[i, j] = mask[j, i] = 1.0
    info = {"prior_half_wins": BT_PRIOR, "n_papers": len(papers), "n_results": len(combined),
            "connected": bool(k >= 2 and _connected(compared, k))}
    none = {"value": None, "ci_low": None, "ci_high": None, "n": len(papers), "n_resamples": 0}
    if not info["connected"]:
        return {"ratings": {name: dict(none) for name in systems}, **info}
    names = tuple(systems)
    if n_resamples > 0:
        ratings = bootstrap_ci(_bt_ratings, contrib, mask, names, n_resamples=n_resamples, seed=seed)
    else:
        ratings = {n: {**none, "value": v} for n, v in _bt_ratings(contrib, mask, names).items()}
    return {"ratings": ratings, **info}


def win_rate_metrics(judgments: Sequence[OrderedJudgment], systems: Sequence[str], aspects: Sequence[str], *,
                     n_resamples: int = DEFAULT_N_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Every figure of a pairwise run, per aspect: pairs (win/tie/loss), position bias, Bradley-Terry, and
    the (paper, pair) results excluded by reason. The run and the leaderboard's re-scoring both call this."""
    out = {}
    for aspect in aspects:
        combined, excluded = combine_orders(judgments, systems, aspect)
        out[aspect] = {
            "pairs": pair_results(combined, systems, n_resamples=n_resamples, seed=seed),
            "position_bias": position_bias(judgments, aspect, n_resamples=n_resamples, seed=seed),
            "bradley_terry": bradley_terry(combined, systems, n_resamples=n_resamples, seed=seed),
            "n_combined": len(combined),
            "excluded": dict(sorted(excluded.items())),
        }
    return out


def parse_failure_counts(problems: Iterable[Iterable[str]]) -> dict[str, dict[str, int]]:
    """Judge parse failures by reason and by aspect, from each judgment's problems
    (``"<aspect>.<reason>: detail"``): ``{"by_reason": {...}, "by_aspect": {...}}``."""
    by_reason, by_aspect = Counter(), Counter()
    for row in problems:
        for text in row:
            aspect, _, reason = problem_key(text).rpartition(".")
            by_reason[reason] += 1
            by_aspect[aspect or "(none)"] += 1
    return {"by_reason": dict(sorted(by_reason.items())), "by_aspect": dict(sorted(by_aspect.items()))}
