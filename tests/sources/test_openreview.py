"""The OpenReview reader on the real corpus snapshots and on hand-made notes."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cyclebench.records import RecordError
from cyclebench.sources.openreview import iter_raw_notes, parse_submission, reply_kind
from cyclebench.sources.scores import parse_score


def _parse_all(path):
    return [parse_submission(raw.note) for raw in iter_raw_notes(path)]


def test_iclr2026_every_paper_and_review_parsed(corpus):
    outcomes = _parse_all(corpus / "openreview" / "iclr2026_v2.jsonl")
    assert len(outcomes) == 300
    reviews = [r for o in outcomes for r in o.submission.reviews]
    # README: 1183 review entries, 1171 distinct ids, 12 repeated versions.
    assert len(reviews) == 1171
    assert sum(o.superseded_review_versions for o in outcomes) == 12
    assert not [r for o in outcomes for r in o.review_rejects]
    for review in reviews:
        for name in ("rating", "confidence", "soundness", "presentation", "contribution"):
            score = getattr(review, name)
            assert isinstance(score.value, int), (review.note_id, name)
        assert review.rating.scale == "0/2/4/6/8/10"
        assert review.invitation.endswith("/-/Official_Review")
    ratings = Counter(r.rating.value for r in reviews)
    assert ratings[0] > 0  # 0 is a valid ICLR 2026 rating, not a missing one
    assert sum(ratings.values()) == 1171
    assert sum(1 for o in outcomes if not o.submission.reviews) == 1


def test_iclr2026_decisions_match_venueid_counts(corpus):
    outcomes = _parse_all(corpus / "openreview" / "iclr2026_v2.jsonl")
    labels = Counter(o.submission.decision.label for o in outcomes)
    assert labels == {"reject": 145, "withdrawn": 79, "accept": 60, "desk_rejected": 16}
    presentations = Counter(o.submission.decision.presentation for o in outcomes if o.submission.decision.label == "accept")
    assert presentations == {"poster": 55, "oral": 5}
    assert all(o.submission.decision.source == "venueid" for o in outcomes if o.submission.decision.label == "accept")
    assert sum(o.submission.withdrawn for o in outcomes) == 79
    assert sum(o.submission.desk_rejected for o in outcomes) == 16


def test_iclr2026_repeated_review_keeps_newest(corpus):
    path = corpus / "openreview" / "iclr2026_v2.jsonl"
    for raw in iter_raw_notes(path):
        replies = raw.note["details"]["directReplies"]
        ids = Counter(r["id"] for r in replies if reply_kind(r) == "Official_Review")
        repeated = [i for i, n in ids.items() if n > 1]
        if not repeated:
            continue
        newest = max((r for r in replies if r["id"] == repeated[0]), key=lambda r: r["tmdate"])
        review = next(r for r in parse_submission(raw.note).submission.reviews if r.note_id == repeated[0])
        assert review.tmdate == newest["tmdate"]
        assert review.rating.value == newest["content"]["rating"]["value"]
        assert review.confidence.value == newest["content"]["confidence"]["value"]
        assert review.versions_seen == ids[repeated[0]]
        return
    pytest.fail("the corpus has repeated review versions; none found")


def test_iclr2026_author_comments(corpus):
    outcomes = _parse_all(corpus / "openreview" / "iclr2026_v2.jsonl")
    comments = [c for o in outcomes for c in o.submission.comments]
    assert comments and all(c.text for c in comments if c.by_authors)
    assert sum(c.by_authors for c in comments) >= 1


def test_nips2018_workshop_v1(corpus):
    outcomes = _parse_all(corpus / "openreview" / "nips2018_workshop_v1.json")
    assert [o.submission.id for o in outcomes] == ["HkghWScuoQ", "r1eLk2mKiX"]
    assert sum(len(o.submission.reviews) for o in outcomes) == 4
    assert all(o.submission.decision.label == "accept" and o.submission.decision.source == "decision_note" for o in outcomes)
    assert sum(len(o.submission.comments) for o in outcomes) == 21
    review = outcomes[0].submission.reviews[0]
    assert review.rating.value == 4 and review.rating.raw.startswith("4: Top 50%")
    assert review.confidence.value == 2
    assert all(o.submission.api_version == 1 for o in outcomes)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("10: strong accept, should be highlighted at the conference", 10), ("6: marginally above", 6),
     ("3 good", 3), (8, 8), (0, 0), (6.0, 6), ("**8**", 8)],
)
def test_score_strings(raw, value):
    assert parse_score(raw, "0-10", "rating").value == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(None, "missing_rating"), ("", "unparseable_rating"), ("strong accept", "unparseable_rating"),
     (7, "out_of_scale_rating"), (6.5, "non_integer_rating"), (True, "missing_rating"), ([6], "unparseable_rating")],
)
def test_bad_scores_have_reasons(raw, reason):
    with pytest.raises(RecordError) as info:
        parse_score(raw, "1/3/5/6/8/10", "rating")
    assert info.value.reason == reason


def test_review_revision_invitation_is_not_a_review():
    assert reply_kind({"invitations": ["ICLR.cc/2024/Conference/Submission1/-/Official_Review"]}) == "Official_Review"
    assert reply_kind({"invitations": ["ICLR.cc/2024/Conference/Submission1/-/Official_Review_Revision"]}) is None
    assert reply_kind({"invitation": "ICLR.cc/2022/Conference/Paper1/-/Official_Review"}) == "Official_Review"
    assert reply_kind({"invitations": ["ICLR.cc/2024/Conference/-/Edit"]}) is None


def test_malformed_lines_are_reported(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_text('{"id": "a", "content": {"title": "T"}}\nnot json\n[1, 2]\n\n')
    raws = list(iter_raw_notes(path))
    assert [r.error.reason if r.error else None for r in raws] == [None, "malformed_json", "not_a_note"]


def test_v2_note_roundtrips_through_json(corpus):
    # The reader must not depend on key order or whitespace: re-serialise a line and parse again.
    raw = next(iter_raw_notes(corpus / "openreview" / "iclr2026_v2.jsonl"))
    again = json.loads(json.dumps(raw.note, sort_keys=True, indent=1))
    assert parse_submission(again).submission == parse_submission(raw.note).submission
