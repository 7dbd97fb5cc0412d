"""cyclebench.metrics.sets: acceptance rates, set figures and the one best-of-N rule (run and leaderboard)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from cyclebench.leaderboard import rescore

from cyclebench import evaluate_generator
from cyclebench import metrics as M
from cyclebench.metrics import sets
from cyclebench.metrics.sets import FURTHEST_FIRST, Candidate, best_of_n_index
from cyclebench.records import ParsedReview


def test_simulated_acceptance():
    out = M.simulated_acceptance([True, False, None, True], [6.0, 5.9, 7.0, np.nan], n_resamples=100)
    assert out["accept_rate_by_decision"]["value"] == pytest.approx(2 / 3)
    assert out["accept_rate_by_rating"]["value"] == pytest.approx(2 / 3)  # 6.0 counts (>= threshold)
    assert out["mean_rating"]["value"] == pytest.approx((6.0 + 5.9 + 7.0) / 3)
    assert (out["n_decision"], out["n_decision_failed"], out["n_rating"], out["n_rating_failed"]) == (3, 1, 3, 1)
    assert out["threshold"] == 6.0 and ">= 6" in out["definitions"]["accept_rate_by_rating"]
    ragged = M.simulated_acceptance([True, False], [[5, 7, 6], [4.0, np.nan]], threshold=5.5, n_resamples=0)
    assert ragged["accept_rate_by_rating"]["value"] == pytest.approx(0.5)  # means 6 and 4
    assert ragged["accept_rate_by_rating"]["ci_low"] is None


# ----------------------------------------------------------------------------------------- best-of-N


def _pick(*candidates: tuple[str, float | None]) -> int:
    return best_of_n_index([Candidate(i, outcome, rating) for i, (outcome, rating) in enumerate(candidates)])


def test_best_of_n_highest_rating_ties_to_lower_index():
    assert _pick(("judged", 5.0), ("judged", 7.0), ("judged", 6.0)) == 1
    assert _pick(("judged", 6.0), ("judged", 8.0), ("judged", 8.0)) == 1
    # a rated sample beats every failure, wherever it stands
    assert _pick(("generation_failed", None), ("parse_failed", None), ("judged", None), ("judged", 1.0)) == 3


def test_best_of_n_failures_rank_by_how_far_they_got():
    """Pinned: with no rated sample, judged (the judge gave no rating) > parse_failed = unreadable >
    generation_failed; equal rank goes to the lower sample index."""
    assert FURTHEST_FIRST == {"judged": 0, "parse_failed": 1, "unreadable": 1, "generation_failed": 2}
    assert _pick(("generation_failed", None), ("parse_failed", None), ("judged", None)) == 2
    assert _pick(("generation_failed", None), ("parse_failed", None)) == 1
    assert _pick(("generation_failed", None), ("unreadable", None)) == 1
    assert _pick(("unreadable", None), ("parse_failed", None)) == 0
    assert _pick(("parse_failed", None), ("unreadable", None)) == 0
    assert _pick(("generation_failed", None), ("generation_failed", None)) == 0
    # a rating on a sample that was not judged is not a judge rating
    assert _pick(("parse_failed", 9.0), ("judged", None)) == 1
    with pytest.raises(ValueError):
        best_of_n_index([])


@dataclass
class _Prompt:
    paper_id: str


@dataclass
class _Sample:
    prompt: _Prompt
    index: int
    outcome: str
    reason: str | None = None

    @property
    def item_id(self) -> str:
        return f"{self.prompt.paper_id}#s{self.index}"


def _row(paper_id: str, index: int, outcome: str, rating: float | None) -> dict:
    judge = {"parsed": {"status": "ok" if rating is not None else "failed", "rating": rating}} if outcome == "judged" else None
    return {"paper_id": paper_id, "sample": index, "outcome": outcome, "judge": judge,
            "reason": None if outcome == "judged" else f"{outcome}: x"}


def test_run_and_leaderboard_pick_the_same_sample():
    """Every combination of three samples' outcomes and ratings: the run's ``best_of_n`` (samples + reviews)
    and the leaderboard's ``best_of_n_pick`` (prediction rows) keep the same sample."""
    states = [("judged", 6.0), ("judged", 8.0), ("judged", None), ("parse_failed", None),
              ("unreadable", None), ("generation_failed", None)]
    prompts, reviews, rows = [], {}, {}
    for k, combo in enumerate(itertools.product(states, repeat=3)):
        pid = f"p{k}"
        for i, (outcome, rating) in enumerate(combo):
            s = _Sample(_Prompt(pid), i, outcome)
            prompts.append(s)
            if outcome == "judged":
                reviews[s.item_id] = ParsedReview(status="ok" if rating is not None else "failed", rating=rating)
        rows[pid] = [_row(pid, i, outcome, rating) for i, (outcome, rating) in enumerate(combo)]
    chosen = M.best_of_n(prompts, reviews)
    assert len(chosen) == len(rows) == 6**3
    for s in chosen:
        assert rescore.best_of_n_pick(rows[s.prompt.paper_id])["sample"] == s.index


def test_one_best_of_n_rule():
    """The leaderboard's re-scoring and the generator run call the one rule in ``cyclebench.metrics.sets``."""
    assert rescore.best_of_n_index is sets.best_of_n_index
    assert rescore.set_figures is sets.set_figures and rescore.SetEntry is sets.SetEntry
    assert evaluate_generator.best_of_n is sets.best_of_n


def test_set_figures_counts_failures_as_entries():
    entries = [M.SetEntry("a", "judged", ParsedReview(status="ok", rating=7.0, decision="accept")),
               M.SetEntry("b", "judged", ParsedReview(status="partial", rating=4.0)),
               M.SetEntry("c", "parse_failed", reason="paper_unreadable: no title"),
               M.SetEntry("d", "generation_failed", reason="part1: empty output")]
    out = M.set_figures(entries, n_resamples=0)
    m, c = out["metrics"], out["counts"]
    assert m["average_score"]["value"] == pytest.approx(5.5)
    assert m["accept_rate_by_rating"]["value"] == pytest.approx(0.5)
    assert m["accept_rate_by_rating_over_all"]["value"] == pytest.approx(0.25)
    assert m["accept_rate_by_decision"]["value"] == pytest.approx(1.0)
    assert m["share_failed_to_parse"]["value"] == m["share_failed_to_generate"]["value"] == pytest.approx(0.25)
    assert c["outcomes"] == {"judged": 2, "generation_failed": 1, "parse_failed": 1, "unreadable": 0}
    assert c["failure_reasons"] == {"paper_unreadable": 1, "part1": 1}
    assert M.mean_figure([np.nan], n_resamples=0, seed=0)["value"] is None
