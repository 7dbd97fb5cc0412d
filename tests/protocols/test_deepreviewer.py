"""DeepReviewer protocol: modes, boxed blocks, fallbacks, and the writer's round trip."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cyclebench.protocols import get_protocol
from cyclebench.protocols.deepreviewer import (
    find_boxed_blocks,
    format_deepreviewer_output,
    parse_deepreviewer_output,
    system_prompt,
)
from cyclebench.records import ParsedReview, SimulatedReview, problem_key

BASE = "You are an expert academic reviewer tasked with providing a thorough and balanced evaluation of research papers."


def sim_reviewer(i: int, rating: str, confidence: str = "3: You are fairly confident in your assessment.") -> str:
    return f"""## Reviewer {i}

### Summary

This paper proposes SAM (reviewer {i}), with $L^{{SAM}}_{{\\mathcal{{S}}}}(w)$ as objective.

### Soundness

3 good

### Presentation

3 good

### Contribution

2 fair

### Strengths

- The paper is well-written.

### Weaknesses

#### Some Related Works

[1] On sharpness-aware minimization

#### comment

 - No comparison with other sharpness-aware methods.

### Suggestions

Compare with \\{{ASAM\\}} and GSAM.

### Questions

- How sensitive is SAM to rho?

### Rating

{rating}

### Confidence

{confidence}

**********
"""


SIMREVIEWERS = (
    "\\boxed_simreviewers{\n"
    + "\n".join(sim_reviewer(i, r) for i, r in enumerate(
        ["5: marginally below the acceptance threshold", "6: marginally above the acceptance threshold",
         "10: strong accept, should be highlighted at the conference", "3: reject, not good enough"], 1))
    + "\n}"
)

# As real outputs have it: quoted evidence with a stray "}", escaped LaTeX braces, and a JSON list the model
# never closed (the block ends with an indented "}").
VERIFICATION = """\\boxed_verification{
Plan: check each weakness against the paper.
```json
[
  {
    "Weakness Statement": "No comparison with other sharpness-aware methods.",
    "Evidence Collection": {
      "a) Method-related Evidence": [
        "Section 2: 'we tune rho over \\\\{ 0.01, 0.05 \\\\} {0.01, 0.05} ... the SAM objective. }'"
      ]
    },
    "Conclusion": {"Validity status": "Valid", "Confidence level": "High"}
  },
    }"""

FINAL = """\\boxed_review{
## Summary:

This paper introduces Sharpness-Aware Minimization (SAM).


## Soundness:

3.0


## Presentation:

3.0


## Contribution:

2.75


## Strengths:

Intuitive and well-motivated idea.


## Weaknesses:

Lacks a rigorous analysis of why SAM finds flat minima.


## Suggestions:

Add comparisons with other sharpness-aware methods.


## Questions:

How does SAM compare in computational cost?


## Rating:

5.5


## Confidence:

3.0


## Decision:

Reject
}"""

PREAMBLE = (
    "I will use Standard Mode for comprehensive thinking. As a professional reviewer, I will simulate 4 different "
    "reviewers, followed by the verification thinking.\n\n"
)
STANDARD = (
    PREAMBLE
    + SIMREVIEWERS
    + "\n\nI have finished generating simulated reviews from 4 reviewers. Next, I will generate verification "
    "content for these reviews:\n\n"
    + VERIFICATION
    + "\n\nNow, I have successfully verified each review. Next, I will organize this content and output the final "
    "review decision:\n\n"
    + FINAL
)


def test_standard_output():
    parsed = parse_deepreviewer_output(STANDARD, mode="standard", expected_reviewers=4)
    assert parsed.status == "ok"
    assert parsed.problems == ()
    assert (parsed.rating, parsed.soundness, parsed.presentation, parsed.contribution, parsed.confidence) == (
        5.5, 3.0, 3.0, 2.75, 3.0
    )
    assert parsed.decision == "reject" and parsed.decision_rule == "text"
    assert [r.rating for r in parsed.reviewers] == [5.0, 6.0, 10.0, 3.0]
    assert parsed.reviewers[0].contribution == 2.0
    assert parsed.reviewers[0].confidence == 3.0
    assert "#### comment" in parsed.reviewers[0].weaknesses
    assert parsed.reviewers[0].summary.startswith("This paper proposes SAM (reviewer 1)")
    assert parsed.sections["summary"] == "This paper introduces Sharpness-Aware Minimization (SAM)."
    assert parsed.sections["suggestions"] == "Add comparisons with other sharpness-aware methods."
    assert parsed.sections["verification"].startswith("Plan: check each weakness")
    assert parsed.sections["verification"].endswith('"High"}\n  },')
    assert parsed.meta_review.startswith("## Summary:")


def test_blocks_survive_stray_and_escaped_braces():
    blocks = find_boxed_blocks(STANDARD)
    assert [b.name for b in blocks] == ["simreviewers", "verification", "review"]
    assert all(b.closed for b in blocks)
    assert blocks[1].closed_by == "line"  # the stray "}'" closed the brace count too early
    assert blocks[0].closed_by == "brace"
    assert STANDARD[blocks[1].end :].lstrip().startswith("Now, I have successfully verified")


def test_boxed_block_unit_cases():
    (b,) = find_boxed_blocks("x \\boxed_review{a {b} \\} c} tail")
    assert b.body == "a {b} \\} c" and b.closed and b.closed_by == "brace"
    (b,) = find_boxed_blocks("\\boxed_review{\n## Rating:\n6")
    assert not b.closed and b.body == "\n## Rating:\n6"
    a, b = find_boxed_blocks("\\boxed_questions{ q1 { \\boxed_review{ ok }")
    assert not a.closed and a.body == " q1 { " and b.body == " ok "
    assert find_boxed_blocks("no blocks {here}") == []


def test_fast_mode_inline_headings():
    text = "\\boxed_review{\n## Summary: A short review.\n## Soundness: 3.25\n## Presentation: 2.5\n" \
           "## Contribution: 3\n## Rating: 6.5\n## Confidence: 3.75\n## Decision: Accept\n}"
    parsed = parse_deepreviewer_output(text, mode="fast")
    assert parsed.status == "ok" and parsed.problems == ()
    assert (parsed.rating, parsed.soundness, parsed.confidence, parsed.decision) == (6.5, 3.25, 3.75, "accept")
    assert parsed.sections["summary"] == "A short review."
    assert parsed.reviewers == ()


def test_single_line_boxed_review():
    text = "\\boxed_review{ ## Summary: s ## Soundness: 3.25 ## Rating: 6.5 ## Confidence: 3.75 ## Decision: Accept }"
    parsed = parse_deepreviewer_output(text)
    assert (parsed.rating, parsed.soundness, parsed.confidence, parsed.decision) == (6.5, 3.25, 3.75, "accept")
    assert parsed.sections["summary"] == "s"


def test_best_mode_blocks():
    text = "\\boxed_questions{\n1. What is SAM's cost?\n2. Prior flat-minima work?\n3. Hessian analyses?\n}\n\n" \
           "\\boxed_analysis{\nThe retrieved work shows ...\n}\n\n" + SIMREVIEWERS + "\n\n" + FINAL
    parsed = parse_deepreviewer_output(text, mode="best")
    assert parsed.sections["search_questions"].startswith("1. What is SAM's cost?")
    assert parsed.sections["analysis"] == "The retrieved work shows ..."
    assert parsed.status == "ok" and parsed.problems == ()


def test_mode_expectations_are_named():
    assert "boxed_simreviewers_missing" in parse_deepreviewer_output(FINAL, mode="standard").problems
    best = parse_deepreviewer_output(FINAL, mode="best").problems
    assert "boxed_questions_missing" in best and "boxed_simreviewers_missing" in best
    assert parse_deepreviewer_output(FINAL, mode="fast").problems == ()


def test_truncated_inside_final_review():
    text = STANDARD[: STANDARD.index("## Confidence:", STANDARD.index("\\boxed_review"))]
    parsed = parse_deepreviewer_output(text, mode="standard", expected_reviewers=4)
    assert parsed.rating == 5.5
    assert parsed.decision is None and parsed.status == "partial"
    keys = [problem_key(p) for p in parsed.problems]
    assert "boxed_review_unclosed" in keys and "decision_missing" in keys
    assert any("truncated" in p for p in parsed.problems)
    # confidence was cut off: it falls back to the simulated reviewers' mean, and says so
    assert parsed.confidence == 3.0
    assert "scores_from_simreviewers: confidence" in parsed.problems


def test_missing_final_review_falls_back_to_simreviewers():
    text = STANDARD[: STANDARD.index("Now, I have successfully verified")]
    parsed = parse_deepreviewer_output(text, mode="standard")
    assert parsed.rating == 6.0  # mean of 5, 6, 10, 3
    assert parsed.decision == "accept"
    assert parsed.decision_rule == "fallback:simreviewers_mean>=6"
    keys = [problem_key(p) for p in parsed.problems]
    assert {"boxed_review_missing", "rating_from_simreviewers", "decision_from_threshold"} <= set(keys)
    assert parsed.status == "ok"
    no_threshold = parse_deepreviewer_output(text, fallback_threshold=None)
    assert no_threshold.decision is None and no_threshold.status == "partial"


def test_truncated_during_verification():
    text = STANDARD[: STANDARD.index('"Conclusion"')]
    parsed = parse_deepreviewer_output(text, mode="standard")
    keys = [problem_key(p) for p in parsed.problems]
    assert "boxed_verification_unclosed" in keys and "boxed_review_missing" in keys
    assert parsed.rating == 6.0 and parsed.decision_rule.startswith("fallback:")


def test_missing_decision_in_final_review():
    text = STANDARD.replace("## Decision:\n\nReject\n", "")
    parsed = parse_deepreviewer_output(text)
    assert parsed.decision is None and parsed.decision_rule is None
    assert parsed.rating == 5.5 and parsed.status == "partial"
    assert "decision_missing" in [problem_key(p) for p in parsed.problems]


def test_lower_and_upper_case_headings():
    text = "\\boxed_review{\n## summary:\nok\n## RATING:\n7.25\n## decision:\nreject\n}"
    parsed = parse_deepreviewer_output(text)
    assert parsed.rating == 7.25 and parsed.decision == "reject" and parsed.sections["summary"] == "ok"


def test_out_of_range_final_rating_falls_back():
    parsed = parse_deepreviewer_output(SIMREVIEWERS + FINAL.replace("5.5", "55"))
    assert parsed.rating == 6.0
    keys = [problem_key(p) for p in parsed.problems]
    assert "rating_out_of_range" in keys and "rating_from_simreviewers" in keys
    assert parsed.decision_rule == "text"  # the final review's own decision still stands


def test_garbage_and_empty_fail():
    for text in ("", "  ", "The paper is good. Rating: 8", "## Rating: 6\n## Decision: Accept", None):
        parsed = parse_deepreviewer_output(text)  # type: ignore[arg-type]
        assert parsed.status == "failed" and parsed.problems
        assert parsed.rating is None


def test_prompts():
    fast = system_prompt("fast")
    assert fast.startswith(BASE) and "Fast Mode" in fast and "simulate different reviewers" not in fast
    standard = system_prompt("Standard Mode", reviewers=3)
    assert standard.startswith(BASE)
    assert "simulating 3 different reviewers" in standard
    assert standard.endswith("Questions, Rating and Confidence.")
    best = get_protocol("deepreviewer", mode="best").build_messages("paper")
    assert "please provide three different questions" in best[0]["content"]
    assert best[1] == {"role": "user", "content": "paper"}
    with pytest.raises(ValueError):
        system_prompt("slow")
    assert get_protocol("deepreviewer", mode="fast").sampling["max_tokens"] == 8192


def test_protocol_parse():
    protocol = get_protocol("deepreviewer", mode="standard", reviewers=4)
    assert protocol.parse(STANDARD).problems == ()
    assert "reviewer_count: 4 simulated reviews, expected 3" in get_protocol("deepreviewer", reviewers=3).parse(STANDARD).problems


# ---------------------------------------------------------------------------------------------
# Writer

EXAMPLE = ParsedReview(
    status="ok",
    rating=6.5,
    soundness=3.25,
    presentation=3.0,
    contribution=2.75,
    confidence=3.75,
    decision="accept",
    reviewers=(
        SimulatedReview("S1 with {braces} and \\{escaped\\}", "- a\n- b", "#### comment\n\nw }", "q?", 6.0, 3.0, 2.0, 3.0, 4.0),
        SimulatedReview(summary="S2", rating=7.0, soundness=3.5),
        SimulatedReview(summary="S3", rating=10.0, confidence=1.0),
    ),
    sections={
        "summary": "Sum",
        "strengths": "str",
        "weaknesses": "weak }\n}",
        "suggestions": "sugg",
        "questions": "qq",
        "verification": '[{"a": "x }"}\n  }',
        "search_questions": "1. q1\n2. q2",
        "analysis": "analysis {",
    },
)


def _same(parsed: ParsedReview, original: ParsedReview) -> None:
    for field in ("rating", "soundness", "presentation", "contribution", "confidence", "decision", "reviewers", "sections"):
        assert getattr(parsed, field) == getattr(original, field), field


def test_writer_round_trip():
    text = format_deepreviewer_output(EXAMPLE, preamble="I will use Best Mode.")
    assert text.startswith("I will use Best Mode.\n\n\\boxed_questions{")
    assert "## Reviewer 3" in text and "10: strong accept, should be highlighted at the conference" in text
    assert "## Rating:\n\n6.5" in text and "## Decision:\n\nAccept" in text
    parsed = parse_deepreviewer_output(text, mode="best", expected_reviewers=3)
    _same(parsed, EXAMPLE)
    assert parsed.decision_rule == "text"


def test_writer_accepts_a_mapping_and_fast_form():
    text = format_deepreviewer_output({"rating": 4, "decision": "Reject", "sections": {"summary": " s "}})
    assert text == "\\boxed_review{\n## Summary:\n\ns\n\n\n## Rating:\n\n4.0\n\n\n## Decision:\n\nReject\n}\n"
    parsed = parse_deepreviewer_output(text, mode="fast")
    assert (parsed.rating, parsed.decision, parsed.sections) == (4.0, "reject", {"summary": "s"})


@pytest.mark.parametrize(
    "bad",
    [
        {"rating": 11},
        {"rating": "6"},
        {"soundness": 0.5},
        {"decision": "maybe"},
        {"sections": {"summary": "see \\boxed_review{x}"}},
        {"sections": {"summary": "text\n## Rating: 3\n"}},
        {"sections": {"summary": "text ## Rating: 3"}},
        {"sections": {"summary": "a\n**********\nb"}},
        {"sections": {"paper_decision": "Accept"}},
        {"reviewers": [{"summary": "x\n### Questions\ny"}]},
        {"reviewers": [{"rating": float("nan")}]},
        {"reviewers": [{"summary": "  "}]},
    ],
)
def test_writer_refuses_what_would_not_read_back(bad):
    with pytest.raises(ValueError):
        format_deepreviewer_output(bad)


SAFE_TEXT = st.text(alphabet="abcXYZ 019.,:;-*#{}\\\n", min_size=1, max_size=40).map(str.strip).filter(bool)
SCORE = st.floats(min_value=0, max_value=1, allow_nan=False)


def _scaled(lo: float, hi: float):
    return st.one_of(st.none(), st.integers(int(lo), int(hi)).map(float), SCORE.map(lambda x: round(lo + x * (hi - lo), 4)))


REVIEWERS = st.builds(
    SimulatedReview,
    summary=st.one_of(st.none(), SAFE_TEXT),
    strengths=st.one_of(st.none(), SAFE_TEXT),
    weaknesses=st.one_of(st.none(), SAFE_TEXT),
    questions=st.one_of(st.none(), SAFE_TEXT),
    rating=_scaled(1, 10),
    soundness=_scaled(1, 4),
    presentation=_scaled(1, 4),
    contribution=_scaled(1, 4),
    confidence=_scaled(1, 5),
)
SECTION_KEYS = ("summary", "strengths", "weaknesses", "suggestions", "questions", "verification", "search_questions", "analysis")


@settings(max_examples=120, deadline=None)
@given(
    rating=_scaled(1, 10),
    soundness=_scaled(1, 4),
    confidence=_scaled(1, 5),
    decision=st.sampled_from([None, "accept", "reject"]),
    reviewers=st.lists(REVIEWERS, max_size=4),
    sections=st.dictionaries(st.sampled_from(SECTION_KEYS), SAFE_TEXT, max_size=8),
)
def test_writer_round_trip_property(rating, soundness, confidence, decision, reviewers, sections):
    review = ParsedReview(
        status="ok", rating=rating, soundness=soundness, confidence=confidence, decision=decision,
        reviewers=tuple(r for r in reviewers if any(v is not None for v in (r.summary, r.strengths, r.weaknesses, r.questions, r.rating, r.soundness, r.presentation, r.contribution, r.confidence))),
        sections=sections,
    )
    try:
        text = format_deepreviewer_output(review)
    except ValueError:
        assume(False)
    parsed = parse_deepreviewer_output(text, fallback_threshold=None)
    for field in ("soundness", "confidence", "decision", "reviewers", "sections"):
        if field in ("soundness", "confidence") and getattr(review, field) is None:
            continue  # an absent final score falls back to the simulated reviewers' mean
        assert getattr(parsed, field) == getattr(review, field), field
    if rating is not None:
        assert parsed.rating == rating


FRAGMENTS = st.sampled_from(
    [
        "\\boxed_review{", "\\boxed_simreviewers{", "\\boxed_verification{", "\\boxed_questions{", "}", "{", "\n}\n",
        "## Reviewer 1\n", "### Rating\n", "## Rating:", " 6.5\n", "## Decision:", " Accept\n", "**********\n",
        "\\{", "\\", "## Summary:", "3 good", "\n", "not ", "accept",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=40).map("".join)))
def test_never_raises(text):
    for mode in (None, "fast", "standard", "best"):
        parsed = parse_deepreviewer_output(text, mode=mode, expected_reviewers=4)
        assert parsed.status in ("ok", "partial", "failed")
        if parsed.status != "ok":
            assert parsed.problems


def test_writer_escape_mode():
    review = {
        "rating": 6,
        "sections": {"summary": "a \\boxed_review{x}\n## Rating: 3\nsee ## Decision: Accept\n*****"},
        "reviewers": [{"summary": "x\n### Rating\n9", "rating": 4}],
    }
    with pytest.raises(ValueError):
        format_deepreviewer_output(review)
    parsed = parse_deepreviewer_output(format_deepreviewer_output(review, escape=True))
    assert parsed.rating == 6.0
    assert parsed.sections["summary"] == "a \\boxed\\_review{x}\n\\## Rating: 3\nsee \\## Decision: Accept\n\\*****"
    assert parsed.reviewers[0].summary == "x\n\\### Rating\n9" and parsed.reviewers[0].rating == 4.0
    assert parsed.decision is None
