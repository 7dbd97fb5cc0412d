"""The pairwise judging protocol: the prompt holds both reviews in order; the parser reads a verdict per aspect
and counts what it cannot read by reason, never as a tie."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cyclebench.protocols.base import available_protocols, get_pairwise_protocol
from cyclebench.protocols.pairwise_judge import (
    ASPECTS,
    PairwiseJudgeProtocol,
    parse_pairwise_output,
    read_verdict,
    render_pairwise_output,
)
from cyclebench.records import problem_key


def _keys(parsed):
    return sorted(problem_key(p) for p in parsed.problems)


def test_registry_builds_it_apart_from_review_protocols():
    protocol = get_pairwise_protocol("Pairwise", max_review_chars=50)
    assert isinstance(protocol, PairwiseJudgeProtocol) and protocol.max_review_chars == 50
    assert "pairwise" not in available_protocols()  # `evaluate model --protocol pairwise` is refused
    with pytest.raises(KeyError, match="unknown pairwise protocol"):
        get_pairwise_protocol("cyclereviewer")
    with pytest.raises(ValueError, match="unknown option.*temperature"):
        get_pairwise_protocol("pairwise", temperature=0)
    with pytest.raises(ValueError, match="positive integer"):
        get_pairwise_protocol("pairwise", max_paper_chars=0)


def test_prompt_shows_paper_then_a_then_b_and_credits_the_original():
    protocol = PairwiseJudgeProtocol(max_review_chars=20)
    messages = protocol.build_messages("Paper body", "first review " * 10, "second review", title="A Title")
    user = messages[1]["content"]
    assert user.index("# A Title") < user.index("## Review A") < user.index("second review")
    assert "[... review cut at 20 characters ...]" in user
    for title in ("Technical Accuracy", "Constructive Value", "Analytical Depth", "Communication Clarity", "Overall"):
        assert title in user
    assert "win_rate_evaluate.py" in protocol.describe()["credit"]
    assert protocol.sampling["temperature"] == 0.0
    with pytest.raises(ValueError):
        protocol.build_messages("Paper", "  ", "review")


def test_rendered_verdicts_read_back():
    verdicts = dict(zip(ASPECTS, ["A", "B", "tie", "A", "B"]))
    parsed = parse_pairwise_output(render_pairwise_output(verdicts))
    assert parsed.verdicts == verdicts and parsed.status == "ok" and not parsed.problems


def test_original_wording_bold_and_numbered_headings():
    text = ("**1. Technical Accuracy**\nEvidence: A cites the proof.\nBetter Assistant: **A**\n\n"
            "2) Constructive Value: B suggests ablations.\nBetter Assistant: [[B]]\n\n"
            "## Analytical Depth\nBoth shallow.\nBetter Review: Tie\n\n"
            "Communication Clarity - similar\nBetter reviewer: Review B\n\n"
            "### Overall Judgment\nOverall, A is more useful.\nBetter Review: Assistant A\n")
    parsed = parse_pairwise_output(text)
    assert parsed.verdicts == {"technical_accuracy": "A", "constructive_value": "B", "analytical_depth": "tie",
                               "communication_clarity": "B", "overall": "A"}
    assert parsed.evidence["technical_accuracy"] == "Evidence: A cites the proof."


@pytest.mark.parametrize("text, key", [
    ("", "technical_accuracy.empty_output"),
    ("Better Review: A", "technical_accuracy.verdict_missing"),  # a verdict outside any aspect section
    ("### Technical Accuracy\nBetter Review: A / B / Tie", "technical_accuracy.verdict_ambiguous"),
    ("### Technical Accuracy\nBetter Review: A\nBetter Review: B", "technical_accuracy.verdict_ambiguous"),
    ("### Technical Accuracy\nBetter Review: the first one", "technical_accuracy.verdict_unreadable"),
    ("### Technical Accuracy\nA is better.", "technical_accuracy.verdict_missing"),
    ("### Technical Accuracy\nBetter Review:", "technical_accuracy.verdict_missing"),
])
def test_unreadable_verdicts_are_counted_problems_not_ties(text, key):
    parsed = parse_pairwise_output(text)
    assert parsed.verdicts["technical_accuracy"] is None
    assert key in _keys(parsed)
    assert all(v is None for v in parsed.verdicts.values())
    assert parsed.status == "failed"


def test_truncated_output_reads_the_aspects_it_finished():
    full = render_pairwise_output(dict(zip(ASPECTS, "AABBA")))
    parsed = parse_pairwise_output(full[: full.index("### 4.")] + "### 4. Communication Clar")
    assert parsed.status == "partial"
    assert [parsed.verdicts[a] for a in ASPECTS[:3]] == ["A", "A", "B"]
    assert _keys(parsed) == ["communication_clarity.verdict_missing", "overall.verdict_missing"]


def test_prose_overall_is_not_a_heading():
    text = ("### Technical Accuracy\nOverall, both reviews are fine.\nBetter Review: B\n"
            "### Overall\nBetter Review: A")
    parsed = parse_pairwise_output(text)
    assert parsed.verdicts["technical_accuracy"] == "B" and parsed.verdicts["overall"] == "A"


@pytest.mark.parametrize("value, verdict", [("A", "A"), ("b", "B"), ("Tie.", "tie"), ("**Review A**", "A"),
                                            ("[[B]] because ...", "B"), ("Equal", "tie"), ("Neither", "tie")])
def test_read_verdict(value, verdict):
    assert read_verdict(value) == (verdict, None)


@given(st.text(max_size=400))
def test_parser_never_raises_and_never_invents_a_verdict(text):
    parsed = parse_pairwise_output(text)
    assert set(parsed.verdicts) == set(ASPECTS)
    missing = [a for a, v in parsed.verdicts.items() if v is None]
    assert sorted(p.split(".", 1)[0] for p in parsed.problems) == sorted(missing)


def test_non_string_outputs():
    for value in (None, 3, b"Better Review: A"):
        assert parse_pairwise_output(value).status == "failed"
