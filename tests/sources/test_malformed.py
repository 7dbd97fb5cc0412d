"""Property tests: malformed notes and score strings never crash the reader or the builder."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyclebench.builders import review5k
from cyclebench.builders.base import EmptyBuildError
from cyclebench.builders.review5k import Review5KConfig
from cyclebench.records import RecordError
from cyclebench.sources.openreview import parse_submission
from cyclebench.sources.scores import parse_score

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 20), st.floats(allow_nan=True),
                         st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                 st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=8)
score_values = st.one_of(
    json_scalars,
    st.builds(lambda n, rest: f"{n}{rest}", st.integers(-3, 12), st.sampled_from([": good", " good", "", ".5", ":"])),
    st.builds(lambda v: {"value": v}, json_scalars),
)
invitation_suffixes = st.sampled_from(
    ["Official_Review", "Official_Review_Revision", "Meta_Review", "Decision", "Official_Comment", "Withdrawal",
     "Desk_Rejection", "Public_Comment", "Edit"]
)


@st.composite
def replies(draw, forum: str):
    suffix = draw(invitation_suffixes)
    content = {
        "rating": draw(score_values),
        "confidence": draw(score_values),
        "soundness": draw(score_values),
        "summary": draw(st.one_of(st.text(max_size=40), json_values)),
        "decision": draw(st.one_of(st.sampled_from(["Accept (poster)", "Reject", "Accept: notable-top-5%", ""]), json_values)),
        "metareview": draw(json_values),
    }
    for key in draw(st.lists(st.sampled_from(sorted(content)), max_size=4)):
        content.pop(key, None)
    reply = {
        "id": draw(st.sampled_from(["r1", "r2", "r3", forum])),
        "forum": forum,
        "replyto": forum,
        "invitations": draw(st.one_of(st.just([f"ICLR.cc/2024/Conference/Submission1/-/{suffix}"]), json_values)),
        "signatures": draw(st.one_of(st.sampled_from([["R_a"], ["R_b"], ["X/Authors"]]), json_values)),
        "tmdate": draw(st.one_of(st.integers(0, 10), json_scalars)),
        "content": draw(st.one_of(st.just(content), json_values)),
    }
    return reply


@st.composite
def notes(draw):
    note_id = draw(st.sampled_from(["p1", "p2", "-x_y", ""]))
    note = {
        "id": draw(st.one_of(st.just(note_id), json_scalars)),
        "forum": note_id,
        "invitations": ["ICLR.cc/2024/Conference/-/Submission"],
        "domain": draw(st.sampled_from(["ICLR.cc/2024/Conference", "", "Weird/Venue"])),
        "content": draw(st.one_of(
            st.fixed_dictionaries({
                "title": st.one_of(st.just({"value": "A title"}), json_values),
                "venueid": st.one_of(st.sampled_from([{"value": "ICLR.cc/2024/Conference"},
                                                      {"value": "ICLR.cc/2024/Conference/Rejected_Submission"},
                                                      {"value": "ICLR.cc/2024/Conference/Withdrawn_Submission"}]),
                                     json_values),
                "keywords": json_values,
            }),
            json_values,
        )),
        "details": {"directReplies": draw(st.lists(replies(note_id), max_size=5))},
    }
    return note


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notes())
def test_parse_submission_raises_only_record_errors(note):
    try:
        outcome = parse_submission(note)
    except RecordError as exc:
        assert exc.reason
        return
    for reject in outcome.review_rejects:
        assert reject.reason
    assert all(isinstance(r.rating.value, int) for r in outcome.submission.reviews)


@settings(max_examples=300, deadline=None)
@given(score_values, st.sampled_from(["1/3/5/6/8/10", "1-4", "0-10?", "0/2/4/6/8/10"]))
def test_parse_score_value_or_reason(raw, scale):
    try:
        score = parse_score(raw, scale, "rating")
    except RecordError as exc:
        assert exc.reason.endswith("_rating")
    else:
        assert isinstance(score.value, int)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(notes(), json_values), max_size=8), st.lists(st.sampled_from(["{", "", "null", "[]"]), max_size=2))
def test_build_counts_reconcile_on_garbage(items, junk_lines):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.jsonl"
        lines = [json.dumps(item) for item in items] + junk_lines
        raw.write_text("\n".join(lines) + "\n")
        first = lines[0].strip() if lines else ""
        try:
            report = review5k.build(raw, None, Path(tmp) / "out",
                                    Review5KConfig(require_text=False, min_reviews=1), progress=False)
        except EmptyBuildError as exc:  # by design a build that keeps no paper fails, with its counts
            counts = exc.counts
            assert not (Path(tmp) / "out").exists()
        except ValueError as exc:  # by design: a first line that is a JSON document of notes names the fix
            assert first.startswith("[") and "name it .json" in str(exc)
            return
        else:
            counts = report.manifest["counts"]
        expected_in = len(items) + sum(1 for j in junk_lines if j.strip())
        assert counts["papers_in"] == expected_in
        assert counts["papers_kept"] + sum(counts["papers_rejected"].values()) == expected_in
        assert (counts["reviews_kept"] + counts["reviews_dropped_with_paper"]
                + sum(counts["reviews_rejected"].values())) == counts["reviews_in"]
