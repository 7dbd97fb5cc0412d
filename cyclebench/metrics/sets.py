"""Set metrics: figures over a set of judged papers (generated samples or a folder of papers).

Simulated acceptance rates under both named definitions, average score, the average lowest and highest
simulated rating, per-aspect averages and failure shares, each with its bootstrap interval over the set's
entries; and the one best-of-N rule that keeps one sample per prompt (the run and the leaderboard's
re-scoring both call :func:`best_of_n_index`).  Pure functions over arrays and records: no I/O, no backend.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol

import numpy as np

from cyclebench.metrics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_RESAMPLES,
    DEFAULT_SEED,
    bootstrap_ci,
    figure,
    interval_definition,
    run_suite,
)
from cyclebench.metrics.plans import (
    Array,
    Plan,
    as_decisions,
    as_scores,
    check_len,
    ragged,
    safe_div,
)
from cyclebench.metrics.review import ASPECTS
from cyclebench.records import ParsedReview, problem_key

DEFAULT_ACCEPT_THRESHOLD = 6.0


# --------------------------------------------------------------------------------------------- acceptance


class _AcceptPlan(Plan):
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
            "accept_rate_by_decision": safe_div(sums[1], sums[0]),
            "accept_rate_by_rating": safe_div(sums[3], sums[2]),
            "mean_rating": safe_div(sums[4], sums[2]),
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
    d = as_decisions(decisions, "decisions")
    n = len(d)
    ragged_scores = not isinstance(ratings, np.ndarray) and any(np.ndim(x) > 0 for x in ratings)
    if ragged_scores:
        flat, pid = ragged(ratings, "ratings", strict=False)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.bincount(pid, flat, minlength=len(ratings)) / np.bincount(pid, minlength=len(ratings))
    else:
        r = as_scores(ratings, "ratings")
    check_len(n, ratings=r)
    plan = _AcceptPlan(d, r, float(threshold))
    point, samples = run_suite({"a": plan}, n, n_resamples, seed)
    empty = np.full(0, np.nan)

    def fig(key: str, count: str) -> dict[str, Any]:
        s = samples["a"][key] if samples is not None else empty
        return figure(point["a"].get(key), s, plan.counts[count], confidence)

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
            "confidence_interval": interval_definition(n_resamples, seed, confidence),
        },
    }


# --------------------------------------------------------------------------------------------- judged sets

Outcome = Literal["judged", "generation_failed", "parse_failed", "unreadable"]


@dataclass(frozen=True)
class SetEntry:
    """One entry of a judged set: a paper (or a generation sample) and how far it got."""

    item_id: str
    outcome: Outcome
    review: ParsedReview | None = None  # set when outcome == "judged"
    reason: str | None = None  # why it failed before judging


def _weighted_nanmean(values: Any, weights: Any = None) -> Any:
    """Mean over finite values; with 1-D or 2-D (B, n) multiplicity weights, one mean per resample."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    v0 = np.where(ok, v, 0.0)
    if weights is None:
        return float(v0.sum() / ok.sum()) if ok.any() else None
    w = np.asarray(weights, dtype=float)
    num = w @ v0
    den = w @ ok.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if w.ndim == 1 else out


def mean_figure(values: Sequence[float], *, n_resamples: int, seed: int) -> dict[str, Any]:
    """``{value, ci_low, ci_high, n, n_resamples}`` of the mean of the finite values (NaN = missing);
    the interval resamples all entries (the same resamples as every other figure of the set)."""
    arr = np.asarray(values, dtype=float)
    n_finite = int(np.isfinite(arr).sum())
    if n_resamples <= 0 or len(arr) == 0:
        return {"value": _weighted_nanmean(arr), "ci_low": None, "ci_high": None, "n": n_finite, "n_resamples": 0}
    fig = bootstrap_ci(_weighted_nanmean, arr, n_resamples=n_resamples, seed=seed)
    fig["n"] = n_finite
    return fig


def _reviewer_ratings(review: ParsedReview) -> list[float]:
    ratings = [r.rating for r in review.reviewers if r.rating is not None]
    if not ratings and review.rating is not None:
        ratings = [review.rating]
    return ratings


def set_figures(entries: Sequence[SetEntry], *, threshold: float = DEFAULT_ACCEPT_THRESHOLD,
                n_resamples: int = DEFAULT_N_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """``{"metrics", "counts"}`` of one set: average score, avg min / max simulated rating (a judge that
    writes one review has min = max = its rating), both acceptance rates over the parsed entries and over all
    entries (failures as not accepted), failure shares, aspect averages; every figure with its interval."""
    nan = float("nan")
    reviews = [e.review if e.outcome == "judged" else None for e in entries]
    rating = [r.rating if r is not None and r.rating is not None else nan for r in reviews]
    lows, highs = [], []
    for r in reviews:
        rr = _reviewer_ratings(r) if r is not None else []
        lows.append(min(rr) if rr else nan)
        highs.append(max(rr) if rr else nan)
    decisions = [None if r is None or r.decision is None else r.decision == "accept" for r in reviews]
    fig = partial(mean_figure, n_resamples=n_resamples, seed=seed)
    accept = simulated_acceptance(decisions, rating, threshold, n_resamples=n_resamples, seed=seed)
    judged = [r is not None for r in reviews]
    metrics: dict[str, Any] = {
        "average_score": fig(rating),
        "avg_min_rating": fig(lows),
        "avg_max_rating": fig(highs),
        "accept_rate_by_decision": accept["accept_rate_by_decision"],
        "accept_rate_by_rating": accept["accept_rate_by_rating"],
        "accept_rate_by_decision_over_all": fig([1.0 if d else 0.0 for d in decisions]),
        "accept_rate_by_rating_over_all": fig([1.0 if math.isfinite(x) and x >= threshold else 0.0 for x in rating]),
        "share_failed_to_generate": fig([1.0 if e.outcome == "generation_failed" else 0.0 for e in entries]),
        "share_failed_to_parse": fig([1.0 if e.outcome in ("parse_failed", "unreadable") else 0.0 for e in entries]),
        "share_judge_failed": fig([(1.0 if r.rating is None else 0.0) if r is not None else nan for r in reviews]),
    }
    for aspect in ASPECTS:
        values = [getattr(r, aspect) if r is not None and getattr(r, aspect) is not None else nan for r in reviews]
        if any(math.isfinite(v) for v in values):
            metrics[f"avg_{aspect}"] = fig(values)
    outcomes = Counter(e.outcome for e in entries)
    failures = Counter(problem_key(e.reason or "unknown") for e in entries if e.outcome != "judged")
    judge_problems = Counter(problem_key(p) for r in reviews if r is not None for p in r.problems)
    counts = {
        "n_entries": len(entries),
        "outcomes": {k: outcomes.get(k, 0) for k in ("judged", "generation_failed", "parse_failed", "unreadable")},
        "n_judged": sum(judged),
        "n_rated": int(sum(math.isfinite(x) for x in rating)),
        "n_decided": sum(d is not None for d in decisions),
        "failure_reasons": dict(sorted(failures.items())),
        "judge_parse_status": dict(sorted(Counter(r.status for r in reviews if r is not None).items())),
        "judge_problems": dict(sorted(judge_problems.items())),
        "decision_rules": dict(sorted(Counter(str(r.decision_rule) for r in reviews if r is not None and r.decision).items())),
    }
    return {"metrics": metrics, "counts": counts}


# --------------------------------------------------------------------------------------------- best-of-N

# How far a sample got, best first: judged, then produced but unreadable (parse failed; a paper that could
# not be read), then nothing generated.  Only decides among samples without a rating.
FURTHEST_FIRST: dict[str, int] = {"judged": 0, "parse_failed": 1, "unreadable": 1, "generation_failed": 2}


@dataclass(frozen=True)
class Candidate:
    """One sample of a prompt as best-of-N sees it."""

    index: int  # the sample index within its prompt (seed = run seed + index)
    outcome: Outcome
    rating: float | None  # the judge's rating; None when not judged or the judge gave none


def best_of_n_index(candidates: Sequence[Candidate]) -> int:
    """Position in ``candidates`` of the sample best-of-N keeps: the highest judge rating, ties to the lower
    sample index; with no rated sample, the one that got furthest (:data:`FURTHEST_FIRST`), lowest index
    first.  The one rule: the generator run and the leaderboard's re-scoring both call it."""
    if not candidates:
        raise ValueError("best-of-N needs at least one sample")
    positions = range(len(candidates))
    rated = [i for i in positions if candidates[i].outcome == "judged" and candidates[i].rating is not None]
    if rated:
        return max(rated, key=lambda i: (candidates[i].rating, -candidates[i].index))
    return min(positions, key=lambda i: (FURTHEST_FIRST[candidates[i].outcome], candidates[i].index))


class _Prompt(Protocol):
    paper_id: str


class GenerationSample(Protocol):
    """What best-of-N reads of a generation sample (``cyclebench.generation.Sample`` has it)."""

    prompt: _Prompt
    index: int
    outcome: Any

    @property
    def item_id(self) -> str: ...


def best_of_n(samples: Sequence[GenerationSample], reviews: dict[str, Any]) -> list[Any]:
    """Per prompt (in order of first appearance), the sample :func:`best_of_n_index` keeps; ``reviews`` maps
    a sample's ``item_id`` to the judge's ParsedReview (absent or None: not judged)."""
    by_prompt: dict[str, list[Any]] = {}
    for s in samples:
        by_prompt.setdefault(s.prompt.paper_id, []).append(s)
    chosen = []
    for group in by_prompt.values():
        candidates = [Candidate(s.index, s.outcome, _rating(reviews.get(s.item_id))) for s in group]
        chosen.append(group[best_of_n_index(candidates)])
    return chosen


def _rating(review: ParsedReview | None) -> float | None:
    return None if review is None else review.rating
