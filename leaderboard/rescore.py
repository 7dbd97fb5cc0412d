"""Recompute a submission's figures from its predictions and compare them with what it claims.

Pure functions: the caller loads the dataset examples and the re-parsed reviews (``cyclebench.leaderboard.reparse``;
a row's submitted ``parsed`` is only read for the range check and the comparison with the re-parse). Only
the fields the metrics read count (rating, decision, the four aspects, the simulated reviewers' ratings);
the row's own ``human_ratings`` are never used for scoring, the dataset build's are.

Agreement rule (documented on the site and in the submissions README): a float agrees when
``|claimed - recomputed| <= max(ABS_TOLERANCE, REL_TOLERANCE * max(|claimed|, |recomputed|))``; an undefined
figure (``None``) agrees only with ``None``; counts (``n``, ``n_resamples``, paper counts) must be equal.
The same code on the same inputs gives bit-identical figures; the tolerance only absorbs floating-point
summation order differing between numpy builds.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from cyclebench.metrics import (
    Candidate,
    SetEntry,
    best_of_n_index,
    score_predictions,
    set_figures,
)
from cyclebench.records import ParsedReview, ReviewExample, SimulatedReview, problem_key

REL_TOLERANCE = 1e-9
ABS_TOLERANCE = 1e-12

# Score ranges (REFERENCE section 4): soundness / presentation / contribution 1-4; confidence 1-5 (the
# ICLR and AI Scientist forms); the overall rating on the task's own scale, read from the examples'
# ``rating_scale`` ("1/3/5/6/8/10", "0/2/4/6/8/10", "1-10"), 1-10 when no example names one.
ASPECT_RANGES = {"soundness": (1.0, 4.0), "presentation": (1.0, 4.0), "contribution": (1.0, 4.0),
                 "confidence": (1.0, 5.0)}
DEFAULT_RATING_RANGE = (1.0, 10.0)
# A generator's judge rates on the ICLR form; 0 occurs on the 2026 scale.
JUDGE_RATING_RANGE = (0.0, 10.0)

def parsed_from_row(parsed: dict[str, Any]) -> ParsedReview:
    """The ParsedReview a predictions row describes, reduced to what scoring and counting read (the row
    passed the schema, so the fields have the right types)."""
    reviewers = tuple(SimulatedReview(rating=r.get("rating")) for r in parsed.get("reviewers") or ())
    return ParsedReview(
        status=parsed["status"], problems=tuple(parsed.get("problems") or ()), reviewers=reviewers,
        rating=parsed.get("rating"), soundness=parsed.get("soundness"), presentation=parsed.get("presentation"),
        contribution=parsed.get("contribution"), confidence=parsed.get("confidence"), decision=parsed.get("decision"),
        decision_rule=parsed.get("decision_rule"),
    )


def rating_range(examples: Iterable[ReviewExample]) -> tuple[float, float]:
    """Lowest and highest point of the rating scales the examples name."""
    points: list[float] = []
    for example in examples:
        if example.rating_scale:
            points.extend(float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", example.rating_scale))
    return (min(points), max(points)) if points else DEFAULT_RATING_RANGE


def range_problems(rows: Sequence[tuple[str, ParsedReview]], rating_bounds: tuple[float, float],
                   aspect_bounds: dict[str, tuple[float, float]] | None = None) -> list[str]:
    """One message per field with predictions outside its range (count and the first offender)."""
    bounds = {"rating": rating_bounds, **(ASPECT_RANGES if aspect_bounds is None else aspect_bounds)}
    out = []
    for field, (lo, hi) in bounds.items():
        bad = [(pid, getattr(p, field)) for pid, p in rows
               if getattr(p, field) is not None and not lo <= getattr(p, field) <= hi]
        bad += [(pid, r.rating) for pid, p in rows if field == "rating" for r in p.reviewers
                if r.rating is not None and not lo <= r.rating <= hi]
        if bad:
            pid, value = bad[0]
            out.append(f"{field}: {len(bad)} predicted score{'s' if len(bad) > 1 else ''} outside the scale "
                       f"{lo:g}-{hi:g} (first: paper {pid!r} = {value:g})")
    return out


def rescore_review(examples: list[ReviewExample], parsed: list[ParsedReview], *, n_resamples: int,
                   seed: int) -> dict[str, Any]:
    """``{"metrics": {...}, "counts": {...}}`` as a review run computes them (``score_predictions``)."""
    scored = score_predictions(examples, parsed, n_resamples=n_resamples, seed=seed)
    counts = {k: v for k, v in scored.items() if k not in ("metrics", "definitions")}
    counts["parse_status"] = dict(sorted(Counter(p.status for p in parsed).items()))
    counts["parse_problems"] = dict(sorted(Counter(problem_key(x) for p in parsed for x in p.problems).items()))
    return {"metrics": scored["metrics"], "counts": counts}


def _judged_review(row: dict[str, Any]) -> ParsedReview | None:
    judge = row.get("judge")
    return parsed_from_row(judge["parsed"]) if isinstance(judge, dict) and judge.get("parsed") else None


def generator_entries(rows: Sequence[dict[str, Any]]) -> list[SetEntry]:
    """``SetEntry`` per generated sample row, in the given order (the judge's review only for a judged
    sample; the failure reason otherwise), as the generator run built them."""
    return [SetEntry(f"{r['paper_id']}#s{r['sample']}", r["outcome"],
                     _judged_review(r) if r["outcome"] == "judged" else None,
                     None if r["outcome"] == "judged" else r.get("reason")) for r in rows]


def best_of_n_pick(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The sample row best-of-N keeps for one prompt, by the run's one rule (``best_of_n_index``)."""
    candidates = [Candidate(r["sample"], r["outcome"], _rating(r)) for r in samples]
    return samples[best_of_n_index(candidates)]


def _rating(row: dict[str, Any]) -> float | None:
    review = _judged_review(row) if row["outcome"] == "judged" else None
    return None if review is None else review.rating


def rescore_generator(rows: Sequence[dict[str, Any]], *, threshold: float, n_resamples: int, seed: int) -> dict[str, Any]:
    """``{"metrics", "counts"}`` of a set of generated samples with ``set_figures`` (average score, avg min /
    max simulated rating, both acceptance rates, failure shares, aspects), as the generator run computes them."""
    return set_figures(generator_entries(rows), threshold=threshold, n_resamples=n_resamples, seed=seed)


def finite(value: Any) -> float | None:
    """``value`` as a finite float; None for anything else (infinity, NaN, an integer too large for a float,
    a non-number), so that no comparison ever sees one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def agrees(claimed: Any, recomputed: Any) -> tuple[bool, float, float]:
    """(agree, absolute difference, relative difference) of two optional floats. A side that is not a finite
    number agrees with nothing (infinity minus anything is no difference to measure)."""
    if claimed is None or recomputed is None:
        same = claimed is None and recomputed is None
        return same, (0.0 if same else math.inf), (0.0 if same else math.inf)
    mine, theirs = finite(claimed), finite(recomputed)
    if mine is None or theirs is None:
        return False, math.inf, math.inf
    diff = abs(mine - theirs)
    scale = max(abs(mine), abs(theirs))
    rel = diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf)
    return diff <= max(ABS_TOLERANCE, REL_TOLERANCE * scale), diff, rel


def _fmt(value: Any) -> str:
    if value is None:
        return "undefined (null)"
    number = finite(value)
    return f"{number:.10g}" if number is not None else f"{str(value)[:40]} (not a finite number)"


def compare_figures(claimed: dict[str, Any], recomputed: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Problems (one per disagreeing figure field) and a summary: figures compared, largest differences,
    figures the scorer produced that the submission does not claim."""
    problems: list[str] = []
    max_abs = max_rel = 0.0
    compared = 0
    for name in sorted(claimed):
        if name not in recomputed:
            problems.append(f"figure {name!r} is claimed but the scorer does not produce it "
                            f"(it produces: {', '.join(sorted(recomputed))})")
            continue
        compared += 1
        mine, theirs = recomputed[name], claimed[name]
        for part in ("value", "ci_low", "ci_high"):
            ok, diff, rel = agrees(theirs.get(part), mine.get(part))
            if math.isfinite(diff):
                max_abs, max_rel = max(max_abs, diff), max(max_rel, rel)
            if not ok:
                by = (f"off by {diff:.6g} ({100 * rel:.4g}% relative)" if math.isfinite(diff)
                      else "one side is undefined" if theirs.get(part) is None or mine.get(part) is None
                      else "one side is not a finite number")
                problems.append(f"figure {name}.{part}: claimed {_fmt(theirs.get(part))}, re-scored "
                                f"{_fmt(mine.get(part))} ({by}; tolerance {REL_TOLERANCE:g} relative)")
        for part in ("n", "n_resamples"):
            if part in theirs and theirs[part] != mine.get(part):
                problems.append(f"figure {name}.{part}: claimed {theirs[part]}, re-scored {mine.get(part)}")
    summary = {"figures_compared": compared, "max_abs_difference": max_abs, "max_rel_difference": max_rel,
               "not_claimed": sorted(set(recomputed) - set(claimed)),
               "tolerance": {"relative": REL_TOLERANCE, "absolute": ABS_TOLERANCE}}
    return problems, summary


def compare_counts(claimed: dict[str, Any], recomputed: dict[str, Any]) -> list[str]:
    """Every count the scorer produced must equal the claimed one where the submission states it."""
    return [f"count {name}: claimed {claimed[name]!r}, re-scored {value!r}"
            for name, value in sorted(recomputed.items()) if name in claimed and claimed[name] != value]
