"""Review forms' optional and non-numeric answers (issue 13): every review with a rating is kept, its rating
counts in the paper mean, and each answer that is not a score is null, raw string kept, counted by reason.

Fixtures: ``tests/fixtures/openreview/forms/`` (README there: each form's rating scale, optional questions and
their non-numeric options). Expectations below were written from the fixture notes by hand.
"""

from __future__ import annotations

import json
from collections import Counter
from statistics import mean

import pytest

from cyclebench.sources.openreview import iter_raw_notes, parse_submission

from tests.conftest import FIXTURES

FOLDER = FIXTURES / "openreview" / "forms"
# file -> (ratings kept, rating scale, unread answers by reason, rejected reviews by reason)
EXPECTED = {
    "iclr2022_v1.jsonl": ([5, 6, 6], "1/3/5/6/8/10",
                          {"not_applicable_empirical_novelty_and_significance": 2,
                           "empty_technical_novelty_and_significance": 1}, {}),
    "iclr2023_v1.jsonl": ([5, 6, 6], "1/3/5/6/8/10", {"not_applicable_empirical_novelty_and_significance": 3},
                          {"missing_rating": 1}),
    "neurips2023_v2.jsonl": ([4, 6, 7, 10], "1-10", {}, {}),
    "iclr2019_v1.jsonl": ([1, 7, 10], "1-10", {"absent_confidence": 1}, {"missing_rating": 1}),
    "iclr2020_v1.jsonl": ([6, 6, 8, 8], "1/3/6/8", {}, {}),
    "iclr2024_v2.jsonl": ([6, 8, 8], "1/3/5/6/8/10", {"absent_presentation": 1, "empty_contribution": 1}, {}),
    "neurips2021_v1.jsonl": ([4, 7, 8], "1-10", {"absent_confidence": 1}, {"missing_rating": 1}),
    "neurips2022_v1.jsonl": ([3, 6, 7], "1-10", {"empty_presentation": 1, "absent_contribution": 1},
                             {"missing_rating": 1}),
    "neurips2024_v2.jsonl": ([4, 6, 7, 10], "1-10", {"absent_contribution": 1}, {}),
    "neurips2025_v2.jsonl": ([4, 5, 6], "1-6", {"empty_originality": 1}, {}),
}


def _outcome(name: str):
    (raw,) = list(iter_raw_notes(FOLDER / name))
    return parse_submission(raw.note)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_rated_review_is_kept_and_each_non_score_counted(name):
    ratings, scale, unread, rejected = EXPECTED[name]
    outcome = _outcome(name)
    reviews = outcome.submission.reviews
    assert sorted(r.rating.value for r in reviews) == ratings
    assert {r.rating.scale for r in reviews} == {scale}
    assert dict(Counter(why for r in reviews for _, why in r.unread_scores)) == unread
    assert dict(Counter(r.reason for r in outcome.review_rejects)) == rejected
    assert mean(r.rating.value for r in reviews) == pytest.approx(mean(ratings))


@pytest.mark.parametrize("name", ["iclr2022_v1.jsonl", "iclr2023_v1.jsonl"])
def test_not_applicable_is_null_with_the_raw_answer(name):
    reviews = _outcome(name).submission.reviews
    answered = [r.other_scores["empirical_novelty_and_significance"] for r in reviews
                if "empirical_novelty_and_significance" in r.other_scores]
    not_applicable = [s for s in answered if s.value is None]
    assert not_applicable and all(s.raw == "Not applicable" and s.scale == "1-4" for s in not_applicable)


def test_neurips_aspects_are_read_on_their_scales():
    reviews = _outcome("neurips2023_v2.jsonl").submission.reviews
    assert sorted(r.soundness.value for r in reviews) == [2, 2, 3, 4]
    assert {r.presentation.raw for r in reviews} >= {"1 poor", "4 excellent"}
    reviews = _outcome("neurips2025_v2.jsonl").submission.reviews
    assert sorted(r.other_scores["quality"].value for r in reviews) == [3, 3, 4]
    assert all(r.confidence.value == 3 for r in reviews)


def test_lower_case_tldr_is_read():
    (raw,) = list(iter_raw_notes(FOLDER / "iclr2023_v1.jsonl"))
    note = json.loads(json.dumps(raw.note))
    text = note["content"].pop("TL;DR")
    note["content"]["tldr"] = text
    assert parse_submission(note).submission.tldr == text
    note["content"]["tldr"] = {"value": "v2 style"}
    assert parse_submission(note).submission.tldr == "v2 style"


def test_iclr2020_self_assessments_are_not_review_text():
    reviews = _outcome("iclr2020_v1.jsonl").submission.reviews
    assert reviews and all(set(r.texts) == {"title", "review"} for r in reviews)
    assert not any("N/A" == t or "I do not know much" in t for r in reviews for t in r.texts.values())


def test_absent_question_is_counted_and_the_review_kept():
    (raw,) = list(iter_raw_notes(FOLDER / "neurips2024_v2.jsonl"))
    note = json.loads(json.dumps(raw.note))
    review = next(r for r in note["details"]["directReplies"] if "soundness" in r["content"])
    del review["content"]["soundness"], review["content"]["confidence"]
    outcome = parse_submission(note)
    kept = next(r for r in outcome.submission.reviews if r.note_id == review["id"])
    assert kept.soundness is None and kept.confidence is None
    assert {"absent_soundness", "absent_confidence"} <= {why for _, why in kept.unread_scores}
    assert len(outcome.submission.reviews) == 4 and not outcome.review_rejects


def test_a_form_outside_the_table_counts_nothing_absent():
    (raw,) = list(iter_raw_notes(FOLDER / "iclr2019_v1.jsonl"))
    note = json.loads(json.dumps(raw.note).replace("ICLR.cc/2019", "ICLR.cc/2016"))
    reviews = parse_submission(note).submission.reviews
    assert reviews and not any(why.startswith("absent_") for r in reviews for _, why in r.unread_scores)
