"""Optional form questions never cost a review (REFERENCE section 3: only the rating decides).

The ICLR 2022-23 forms offer "Not applicable" for empirical novelty; a hand-edited or other form may write
"N/A", a dash or prose. Such an answer becomes a null value with the answer kept raw and counted by reason,
while a missing or unreadable rating still rejects the review.
"""

from __future__ import annotations

import copy
import json

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyclebench.builders import review5k
from cyclebench.sources.openreview import parse_submission
from cyclebench.sources.scores import parse_optional_score

from tests.conftest import FIXTURES

FIELDS = ("confidence", "correctness", "technical_novelty_and_significance", "empirical_novelty_and_significance")


def _iclr2023_note() -> dict:
    """The first ICLR 2023 fixture paper: five reviews on the 2023 form (recommendation + four questions)."""
    with open(FIXTURES / "openreview" / "iclr2023_v1.jsonl", encoding="utf-8") as handle:
        return json.loads(handle.readline())


def _reviews(note: dict) -> list[dict]:
    return [r for r in note["details"]["directReplies"] if r["invitation"].endswith("/Official_Review")]


@pytest.mark.parametrize(("answer", "reason"), [
    ("Not applicable", "not_applicable_empirical_novelty_and_significance"),
    ("N/A", "not_applicable_empirical_novelty_and_significance"),
    ("n/a.", "not_applicable_empirical_novelty_and_significance"),
    ("-", "not_applicable_empirical_novelty_and_significance"),
    ("somewhat novel", "unparseable_empirical_novelty_and_significance"),
    ("7: far beyond", "out_of_scale_empirical_novelty_and_significance"),
    (["3"], "unparseable_empirical_novelty_and_significance"),
])
def test_an_unreadable_optional_answer_keeps_the_review(answer, reason):
    note = _iclr2023_note()
    before = parse_submission(copy.deepcopy(note)).submission
    _reviews(note)[0]["content"]["empirical_novelty_and_significance"] = answer
    outcome = parse_submission(note)
    kept = {r.note_id: r for r in outcome.submission.reviews}
    assert set(kept) == {r.note_id for r in before.reviews}  # no review lost
    assert [r.reason for r in outcome.review_rejects] == [r.reason for r in parse_submission(_iclr2023_note()).review_rejects]
    changed = kept[_reviews(note)[0]["id"]]
    score = changed.other_scores["empirical_novelty_and_significance"]
    assert score.value is None and score.scale == "1-4"
    assert score.raw == (answer if isinstance(answer, str) else "['3']")
    assert changed.unread_scores == (("empirical_novelty_and_significance", reason),)
    assert changed.rating == next(r for r in before.reviews if r.note_id == changed.note_id).rating


def test_an_unreadable_rating_still_rejects_the_review():
    note = _iclr2023_note()
    _reviews(note)[0]["content"]["recommendation"] = "Not applicable"
    outcome = parse_submission(note)
    assert _reviews(note)[0]["id"] in {r.record_id for r in outcome.review_rejects if r.reason == "unparseable_rating"}


@settings(max_examples=200, deadline=None)
@given(raw=st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.none(), st.booleans(),
                     st.lists(st.integers(), max_size=3)),
       field=st.sampled_from(FIELDS), scale=st.sampled_from(("1-4", "1-5", "1/3/5/6/8/10")))
def test_optional_scores_never_raise(raw, field, scale):
    score, why = parse_optional_score(raw, scale, field)
    assert (score.value is None) == (why is not None)
    assert why is None or why.endswith(field)
    assert isinstance(score.raw, str)


def test_review5k_build_keeps_the_review_and_counts_the_answer(tmp_path):
    note = _iclr2023_note()
    _reviews(note)[0]["content"]["empirical_novelty_and_significance"] = "Not applicable"
    _reviews(note)[1]["content"]["confidence"] = "N/A"
    snapshot = tmp_path / "iclr2023.jsonl"
    snapshot.write_text(json.dumps(note) + "\n", encoding="utf-8")
    config = review5k.Review5KConfig(require_text=False, test_fraction=0.0)
    manifest = review5k.build([snapshot], None, tmp_path / "out", config).manifest
    counts = manifest["counts"]
    assert counts["review_scores_unread"] == {"not_applicable_confidence": 1,
                                              "not_applicable_empirical_novelty_and_significance": 1}
    assert counts["reviews_kept"] == len(parse_submission(_iclr2023_note()).submission.reviews)
    reviews = pq.read_table(next((tmp_path / "out" / "reviews").glob("train-*.parquet"))).to_pylist()
    by_id = {r["note_id"]: r for r in reviews}
    assert by_id[_reviews(note)[1]["id"]]["confidence"] is None
    assert by_id[_reviews(note)[1]["id"]]["confidence_raw"] == "N/A"
    other = {s["name"]: s for s in by_id[_reviews(note)[0]["id"]]["other_scores"]}
    assert other["empirical_novelty_and_significance"]["value"] is None
    assert other["empirical_novelty_and_significance"]["raw"] == "Not applicable"


def test_deepreview13k_build_keeps_the_review_and_counts_the_answer(tmp_path):
    from cyclebench.builders import deepreview13k

    note = _iclr2023_note()
    _reviews(note)[0]["content"]["empirical_novelty_and_significance"] = "Not applicable"
    _reviews(note)[1]["content"]["confidence"] = "N/A"
    snapshot = tmp_path / "iclr2023.jsonl"
    snapshot.write_text(json.dumps(note) + "\n", encoding="utf-8")
    config = deepreview13k.DeepReview13KConfig(require_text=False, modes=("fast",), test_fraction=0.0)
    report = deepreview13k.build([snapshot], None, tmp_path / "dr", config, workers=1, progress=False)
    counts = report.manifest["counts"]
    assert counts["review_scores_unread"] == {"not_applicable_confidence": 1,
                                              "not_applicable_empirical_novelty_and_significance": 1}
    kept = parse_submission(_iclr2023_note()).submission.reviews
    assert counts["papers_kept"] == 1 and counts["reviews_kept"] == len(kept)
    row = pq.read_table(next((tmp_path / "dr").rglob("*.parquet"))).to_pylist()[0]
    assert row["rating_mean"] == pytest.approx(sum(r.rating.value for r in kept) / len(kept))
