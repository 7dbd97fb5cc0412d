"""CycleReviewer protocol: prompt, both output dialects, failure modes."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cyclebench.protocols import get_protocol
from cyclebench.protocols.cyclereviewer import (
    build_cyclereviewer_messages,
    format_cyclereviewer_output,
    parse_cyclereviewer_output,
    system_prompt,
)
from cyclebench.records import SimulatedReview, problem_key

RATINGS = (
    "10: strong accept, should be highlighted at the conference",
    "6: marginally above the acceptance threshold",
    "8: accept, good paper",
    "3: reject, not good enough",
)


def llama_review(i: int, rating: str, h: str = "##") -> str:
    return f"""{h} Summary

Reviewer {i} summary: the paper studies linear layers.

{h} Soundness

3 good

{h} Presentation

{i % 4 + 1} {['poor', 'fair', 'good', 'excellent'][i % 4]}

{h} Contribution

2 fair

{h} Strengths

1. Clear writing.
2. Strong results.

{h} Weaknesses

1. Narrow scope.

{h} Questions

1. How does it scale?

{h} Flag For Ethics Review

No ethics review needed.

{h} Rating

{rating}

{h} Confidence

4: You are confident in your assessment, but not absolutely certain.
"""


META = """## Meta Review

The reviewers agree the paper studies an interesting problem.

### justification_for_why_not_higher_score

Limited evaluation.

### justification_for_why_not_lower_score

Effective method.
"""

LLAMA = "\n**********\n\n".join(llama_review(i, r) for i, r in enumerate(RATINGS, 1)) + (
    "\n**********\n\n" + META + "\n**********\n\n## Paper Decision\n\nAccept (poster)\n"
)

PRO_123B = (
    "".join(f"## Reviewer\n\n{llama_review(i, r, '###')}\n" for i, r in enumerate(RATINGS, 1))
    + META
    + "\n## Paper Decision\n\nReject (not selected for publication)\n"
)


def test_llama_dialect():
    parsed = parse_cyclereviewer_output(LLAMA)
    assert parsed.status == "ok"
    assert parsed.problems == ()
    assert [r.rating for r in parsed.reviewers] == [10.0, 6.0, 8.0, 3.0]
    assert parsed.rating == 6.75
    assert parsed.soundness == 3.0
    assert parsed.presentation == (2 + 3 + 4 + 1) / 4
    assert parsed.confidence == 4.0
    assert parsed.decision == "accept"
    assert parsed.decision_rule == "text"
    assert parsed.reviewers[0].summary == "Reviewer 1 summary: the paper studies linear layers."
    assert parsed.reviewers[2].strengths == "1. Clear writing.\n2. Strong results."
    assert parsed.meta_review == "The reviewers agree the paper studies an interesting problem."
    assert parsed.sections["justification_for_why_not_higher_score"] == "Limited evaluation."
    assert parsed.sections["justification_for_why_not_lower_score"] == "Effective method."
    assert parsed.sections["paper_decision"] == "Accept (poster)"


def test_123b_dialect_without_separators():
    parsed = parse_cyclereviewer_output(PRO_123B)
    assert parsed.status == "ok", parsed.problems
    assert len(parsed.reviewers) == 4
    assert parsed.rating == 6.75
    assert parsed.decision == "reject"
    assert parsed.reviewers[1].summary.startswith("Reviewer 2 summary")
    assert parsed.sections["justification_for_why_not_lower_score"] == "Effective method."


def test_123b_dialect_with_separators_as_real_outputs_have():
    text = "\n**********\n\n".join(f"## Reviewer\n\n{llama_review(i, r, '###')}" for i, r in enumerate(RATINGS, 1))
    text += "\n**********\n\n" + META + "\n**********\n\n## Paper Decision\n\nAccept (poster)"
    parsed = parse_cyclereviewer_output(text)
    assert parsed.status == "ok" and parsed.problems == ()
    assert parsed.rating == 6.75 and parsed.decision == "accept"


def test_ten_is_ten_never_one():
    parsed = parse_cyclereviewer_output(LLAMA)
    assert parsed.reviewers[0].rating == 10.0


def test_extra_prose_before_and_after():
    text = "Sure! Here are four reviews of the paper.\n\n" + LLAMA + "\nI hope these reviews help.\n"
    parsed = parse_cyclereviewer_output(text)
    assert parsed.rating == 6.75
    assert parsed.decision == "accept"
    # the closing prose is on the decision's second line; the first line decides
    assert parsed.sections["paper_decision"].startswith("Accept (poster)")


def test_truncated_mid_review():
    cut = LLAMA.index("1. Narrow scope.", LLAMA.index("Reviewer 3 summary"))
    parsed = parse_cyclereviewer_output(LLAMA[:cut])
    assert parsed.status == "partial"
    assert len(parsed.reviewers) == 3
    assert parsed.reviewers[2].rating is None
    assert parsed.rating == 8.0  # mean of 10 and 6: the unread third rating is not counted as 0
    keys = [problem_key(p) for p in parsed.problems]
    assert "reviewer_3.rating_missing" in keys
    assert "reviewer_ratings_failed" in keys
    assert "decision_missing" in keys
    assert "truncated" in keys
    assert any("inside simulated review 3" in p for p in parsed.problems)


def test_truncated_after_meta_review():
    parsed = parse_cyclereviewer_output(LLAMA[: LLAMA.index("## Paper Decision")])
    assert parsed.status == "partial"
    assert parsed.decision is None and parsed.rating == 6.75
    assert any(p.startswith("truncated: output ends after the meta review") for p in parsed.problems)


def test_missing_decision_section():
    text = LLAMA.replace("## Paper Decision\n\nAccept (poster)\n", "")
    parsed = parse_cyclereviewer_output(text)
    assert parsed.decision is None and parsed.decision_rule is None
    assert parsed.status == "partial"
    assert "decision_missing" in [problem_key(p) for p in parsed.problems]


def test_unreadable_rating_is_none_and_counted():
    text = LLAMA.replace(RATINGS[1], "a solid paper overall")
    parsed = parse_cyclereviewer_output(text)
    assert parsed.reviewers[1].rating is None
    assert parsed.rating == (10 + 8 + 3) / 3
    assert any(p.startswith("reviewer_2.rating_unparseable") for p in parsed.problems)
    assert any(p.startswith("reviewer_ratings_failed: 1 of 4") for p in parsed.problems)
    assert parsed.status == "ok"


def test_missing_sections_are_named():
    text = LLAMA.replace("## Questions\n\n1. How does it scale?\n", "", 1)
    parsed = parse_cyclereviewer_output(text)
    assert "reviewer_1.sections_missing: questions" in parsed.problems
    assert parsed.reviewers[0].questions is None


def test_heading_case_and_inline_values():
    text = (
        "## SUMMARY\nshort\n## soundness: 3 good\n## Rating: 7: accept, but needs minor improvements\n"
        "## CONFIDENCE\n3\n**********\n## summary\nsecond\n## RATING\n5: marginally below\n"
        "**********\n## meta review\nfine\n## PAPER DECISION\nreject"
    )
    parsed = parse_cyclereviewer_output(text, expected_reviewers=2)
    assert [r.rating for r in parsed.reviewers] == [7.0, 5.0]
    assert parsed.reviewers[0].soundness == 3.0
    assert parsed.decision == "reject"
    assert parsed.meta_review == "fine"


def test_missing_separator_splits_on_repeated_section():
    text = llama_review(1, "6: x") + llama_review(2, "8: y") + "## Paper Decision\nAccept"
    parsed = parse_cyclereviewer_output(text, expected_reviewers=2)
    assert [r.rating for r in parsed.reviewers] == [6.0, 8.0]
    assert parsed.problems == ()


def test_repeated_decisions_degenerate_output():
    text = LLAMA + "\n**********\n\n## Paper Decision\n\nReject\n" * 3
    parsed = parse_cyclereviewer_output(text)
    assert parsed.decision == "accept"
    assert any(p.startswith("paper_decision_repeated: 4 sections") for p in parsed.problems)


def test_reviewer_count_reported():
    parsed = parse_cyclereviewer_output(LLAMA, expected_reviewers=5)
    assert "reviewer_count: 4 simulated reviews, expected 5" in parsed.problems


def test_garbage_and_empty_fail():
    for text in ("", "   \n", "I cannot review this paper.", "## Introduction\nThis paper ...", None, 42):
        parsed = parse_cyclereviewer_output(text)  # type: ignore[arg-type]
        assert parsed.status == "failed"
        assert parsed.rating is None and parsed.decision is None
        assert parsed.problems


def test_prompt():
    messages = build_cyclereviewer_messages("The paper body.")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"].startswith("You are an expert academic reviewer")
    assert messages[0]["content"].endswith("You need to fill out **4** review opinions.")
    assert "9. Meta Review" in messages[0]["content"]
    assert messages[1]["content"] == "The paper body."
    protocol = get_protocol("cyclereviewer", reviewers=3)
    assert "**3** review opinions" in protocol.build_messages("x", title="T")[0]["content"]
    assert protocol.build_messages("x", title="T")[1]["content"] == "# T\n\nx"
    assert system_prompt().count("\n") == 14


def test_protocol_parse_uses_expected_count():
    protocol = get_protocol("cyclereviewer")
    assert protocol.parse(LLAMA).problems == ()


FRAGMENTS = st.sampled_from(
    [
        "## Summary\n", "### Rating\n", "## Rating: ", "10: strong accept\n", "3 good\n", "**********\n",
        "## Reviewer\n", "## Meta Review\n", "## Paper Decision\n", "Accept\n", "Reject", "not accept",
        "### justification_for_why_not_higher_score\n", "## Confidence\n", "\n", "{", "}", "# ", "abc ", "6.5",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=40).map("".join)))
def test_never_raises(text):
    parsed = parse_cyclereviewer_output(text)
    assert parsed.status in ("ok", "partial", "failed")
    if parsed.rating is not None:
        assert 0 <= parsed.rating <= 10  # 0 is on the ICLR 2026 scale
    if parsed.status != "ok":
        assert parsed.problems


# ---------------------------------------------------------------------------------------------
# Writer (training targets, e.g. Review-5K's SFT rows)

HUMAN = [
    {
        "summary": "The paper proposes X.",
        "soundness": "3 good",
        "presentation": "2 fair",
        "contribution": "3 good",
        "strengths": "## Strengths\n- clear\n\n## Weaknesses\n- small\n**********",
        "weaknesses": None,
        "questions": "Why?",
        "rating": "10: strong accept, should be highlighted at the conference",
        "confidence": "4: You are confident in your assessment",
    },
    {"summary": "Second.", "rating": "0", "confidence": "3"},  # ICLR 2026 rates on 0/2/4/6/8/10
    {"summary": "Third.", "rating": 6, "soundness": 2.5},
]


@pytest.mark.parametrize("dialect", ["llama", "123b"])
def test_writer_round_trip(dialect):
    text = format_cyclereviewer_output(
        HUMAN, "The AC agrees.", "Accept (poster)", dialect=dialect,
        justification_for_why_not_higher_score="Small scale.", justification_for_why_not_lower_score="Solid.",
    )
    assert ("## Reviewer\n\n### Summary" in text) == (dialect == "123b")
    parsed = parse_cyclereviewer_output(text, expected_reviewers=3)
    assert [r.rating for r in parsed.reviewers] == [10.0, 0.0, 6.0]
    assert parsed.rating == 16 / 3
    assert parsed.reviewers[0].soundness == 3.0 and parsed.reviewers[2].soundness == 2.5
    # headings and separators inside a human review are escaped, so they stay inside its text
    assert parsed.reviewers[0].strengths == "\\## Strengths\n- clear\n\n\\## Weaknesses\n- small\n\\**********"
    assert parsed.reviewers[0].weaknesses is None
    assert "6: marginally above the acceptance threshold" in text
    assert parsed.meta_review == "The AC agrees."
    assert parsed.sections["justification_for_why_not_lower_score"] == "Solid."
    assert parsed.decision == "accept"


def test_writer_without_escape_refuses_conflicts():
    with pytest.raises(ValueError, match="reads as a heading"):
        format_cyclereviewer_output(HUMAN, escape=False)
    with pytest.raises(ValueError):
        format_cyclereviewer_output([{"summary": "x", "score": 3}])
    with pytest.raises(ValueError):
        format_cyclereviewer_output([{"summary": "  "}])
    with pytest.raises(ValueError):
        format_cyclereviewer_output([{"summary": "x"}], dialect="mistral")
    with pytest.raises(ValueError):
        format_cyclereviewer_output([{"rating": float("nan")}])


SAFE = st.text(alphabet="abcXYZ 019.,:;-*#{}\\\n", min_size=1, max_size=30).map(str.strip).filter(bool)
SCORE10 = st.one_of(st.none(), st.integers(0, 10).map(float), st.floats(1, 10).map(lambda x: round(x, 2)))
SCORE4 = st.one_of(st.none(), st.integers(1, 4).map(float), st.floats(1, 4).map(lambda x: round(x, 2)))
REVIEW = st.builds(
    SimulatedReview,
    summary=SAFE, strengths=st.one_of(st.none(), SAFE), weaknesses=st.one_of(st.none(), SAFE),
    questions=st.one_of(st.none(), SAFE), rating=SCORE10, soundness=SCORE4, presentation=SCORE4,
    contribution=SCORE4, confidence=st.one_of(st.none(), st.integers(1, 5).map(float)),
)


@settings(max_examples=100, deadline=None)
@given(
    reviews=st.lists(REVIEW, min_size=1, max_size=4),
    meta=st.one_of(st.none(), SAFE),
    decision=st.sampled_from([None, "Accept", "Reject", "Accept (oral)"]),
    dialect=st.sampled_from(["llama", "123b"]),
)
def test_writer_round_trip_property(reviews, meta, decision, dialect):
    try:
        text = format_cyclereviewer_output(reviews, meta, decision, dialect=dialect, escape=False)
    except ValueError:
        assume(False)
    parsed = parse_cyclereviewer_output(text, expected_reviewers=None)
    assert parsed.reviewers == tuple(reviews)
    assert parsed.meta_review == meta
    assert parsed.decision == (None if decision is None else decision.split()[0].lower())
