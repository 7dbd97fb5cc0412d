"""AI Scientist protocol: prompt, few-shot, reflection, lenient JSON, and the recorded benchmark CSVs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyclebench.protocols import get_protocol
from cyclebench.protocols.aiscientist import (
    NEURIPS_FORM,
    SYSTEM_PROMPTS,
    build_aiscientist_messages,
    decode_fewshot_review,
    loads_lenient,
    parse_aiscientist_output,
    parse_review_record,
    reflection_converged,
    reflection_prompt,
    review_from_mapping,
)
from cyclebench.records import problem_key

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "reviews"
FEWSHOT = CORPUS / "aiscientist_fewshot"
LLM_REVIEWS = CORPUS / "aiscientist_llm_reviews"

REVIEW = {
    "Summary": "The paper proposes a method.",
    "Strengths": ["Novel idea.", "Strong results."],
    "Weaknesses": ["Limited baselines."],
    "Originality": 3,
    "Quality": 3,
    "Clarity": 2,
    "Significance": 3,
    "Questions": ["Why this dataset?"],
    "Limitations": ["Only one domain."],
    "Ethical Concerns": False,
    "Soundness": 3,
    "Presentation": 2,
    "Contribution": 3,
    "Overall": 6,
    "Confidence": 4,
    "Decision": "Reject",
}


def answer(review_json: str, thought: str = "The method is interesting but the evaluation is thin.") -> str:
    return f"THOUGHT:\n{thought}\n\nREVIEW JSON:\n```json\n{review_json}\n```\n"


def test_parse_standard_answer_threshold_rule():
    parsed = parse_aiscientist_output(answer(json.dumps(REVIEW, indent=4)))
    assert parsed.status == "ok" and parsed.problems == ()
    assert (parsed.rating, parsed.soundness, parsed.presentation, parsed.contribution, parsed.confidence) == (6, 3, 2, 3, 4)
    assert parsed.decision == "accept"  # Overall 6 >= 6, although the review's own Decision says Reject
    assert parsed.decision_rule == "threshold>=6"
    assert parsed.sections["decision_text"] == "Reject"
    assert parsed.sections["strengths"] == "- Novel idea.\n- Strong results."
    assert parsed.sections["originality"] == "3" and parsed.sections["clarity"] == "2"
    assert parsed.sections["ethical_concerns"] == "false"
    assert parsed.sections["thought"].startswith("The method is interesting")
    assert parsed.reviewers == ()


def test_text_rule_and_custom_threshold():
    text = answer(json.dumps(REVIEW))
    assert parse_aiscientist_output(text, decision_rule="text").decision == "reject"
    assert parse_aiscientist_output(text, decision_rule="text").decision_rule == "text"
    seven = parse_aiscientist_output(text, threshold=7)
    assert seven.decision == "reject" and seven.decision_rule == "threshold>=7"
    with pytest.raises(ValueError):
        parse_aiscientist_output(text, decision_rule="vote")


def test_lenient_json():
    messy = """{
        "Summary": "Line one
line two",
        "Strengths": ["a", "b",],
        "Weaknesses": "a single string",
        "Overall": "7",
        "Confidence": "4: You are confident",
        "Soundness": 3.0,
        "Ethical Concerns": True,
        "Decision": "Accept",
    }"""
    parsed = parse_aiscientist_output(answer(messy), decision_rule="text")
    assert parsed.status == "ok", parsed.problems
    assert parsed.rating == 7 and parsed.confidence == 4 and parsed.soundness == 3
    assert parsed.sections["summary"] == "Line one\nline two"
    assert parsed.sections["weaknesses"] == "a single string"
    assert parsed.sections["ethical_concerns"] == "true"
    assert parsed.decision == "accept"


def test_python_style_dict_and_key_spelling():
    value, error = loads_lenient("{'overall': 8, 'DECISION': 'Accept', 'ethical_concerns': None}")
    assert error is None
    parsed = review_from_mapping(value, decision_rule="text")
    assert parsed.rating == 8 and parsed.decision == "accept"


def test_extra_prose_and_no_fence():
    text = "Let me think.\n\nREVIEW JSON:\n" + json.dumps(REVIEW) + "\n\nThat is my review. {not json}"
    parsed = parse_aiscientist_output(text)
    assert parsed.rating == 6 and parsed.status == "ok"


def test_last_review_json_block_is_read():
    first = dict(REVIEW, Overall=3)
    text = answer(json.dumps(first)) + "\nRound 2\n" + answer(json.dumps(REVIEW), thought="I am done")
    assert parse_aiscientist_output(text).rating == 6


def test_truncated_final_block_fails():
    text = answer(json.dumps(REVIEW, indent=4))
    cut = text[: text.index('"Overall"')]
    parsed = parse_aiscientist_output(cut)
    assert parsed.status == "failed"
    assert parsed.rating is None and parsed.decision is None
    keys = [problem_key(p) for p in parsed.problems]
    assert keys == ["json_truncated"]


def test_whole_json_without_closing_fence_is_read_and_flagged():
    text = answer(json.dumps(REVIEW)).rstrip().removesuffix("```")
    parsed = parse_aiscientist_output(text)
    assert parsed.rating == 6
    assert "json_fence_unclosed" in [problem_key(p) for p in parsed.problems]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "empty_output"),
        ("THOUGHT: nothing to say.", "json_missing"),
        ("REVIEW JSON:\n```json\n[1, 2]\n```", "json_missing"),
        ("REVIEW JSON:\n```json\n{1, 2}\n```", "json_not_object"),
        ("REVIEW JSON:\n```json\n{\"Overall\": 6 \"Decision\"}\n```", "json_invalid"),
        ("REVIEW JSON:\n```json\n{}\n```", "no_review_fields"),
    ],
)
def test_failures(text, key):
    parsed = parse_aiscientist_output(text)
    assert parsed.status == "failed"
    assert key in [problem_key(p) for p in parsed.problems]


def test_missing_decision_and_rating_fields():
    no_decision = {k: v for k, v in REVIEW.items() if k != "Decision"}
    parsed = parse_aiscientist_output(answer(json.dumps(no_decision)), decision_rule="text")
    assert parsed.status == "partial" and parsed.rating == 6 and parsed.decision is None
    assert "decision_missing" in [problem_key(p) for p in parsed.problems]
    no_overall = {k: v for k, v in REVIEW.items() if k != "Overall"}
    parsed = parse_aiscientist_output(answer(json.dumps(no_overall)))
    assert parsed.status == "failed" and parsed.rating is None
    assert {"rating_missing", "decision_missing"} <= {problem_key(p) for p in parsed.problems}


def test_prompt_and_few_shot():
    messages = build_aiscientist_messages("PAPER BODY", few_shot=[("EXAMPLE PAPER", {"Overall": 8})])
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPTS["neg"]}
    user = messages[1]["content"]
    assert user.startswith(NEURIPS_FORM)
    assert "Below are some sample reviews" in user
    assert "Paper:\n\n```\nEXAMPLE PAPER\n```\n\nReview:\n\n```\n{\n    \"Overall\": 8\n}\n```" in user
    assert user.endswith("Here is the paper you are asked to review:\n```\nPAPER BODY\n```")
    assert "Below are some sample reviews" not in build_aiscientist_messages("x")[1]["content"]
    assert "REVIEW JSON:" in NEURIPS_FORM and '"Overall": A rating from 1 to 10' in NEURIPS_FORM


def test_reflection():
    protocol = get_protocol("aiscientist", reflections=5)
    assert protocol.options()["reflections"] == 5
    assert reflection_prompt(2, 5).startswith("Round 2/5.\n")
    with pytest.raises(ValueError):
        reflection_prompt(1, 5)
    first = protocol.build_messages("paper")
    convo = protocol.build_reflection_messages(first, "THOUGHT: ...", 2)
    assert convo[:2] == first
    assert convo[2] == {"role": "assistant", "content": "THOUGHT: ..."}
    assert convo[3]["content"].startswith("Round 2/5.")
    assert reflection_converged("THOUGHT: fine. I am done\nREVIEW JSON: ...")
    assert not reflection_converged("THOUGHT: changed the score")
    with pytest.raises(ValueError):
        get_protocol("aiscientist", reflections=0)


# ---------------------------------------------------------------------------------------------
# Real files

needs_fewshot = pytest.mark.skipif(not FEWSHOT.is_dir(), reason="shared corpus not present")
needs_csv = pytest.mark.skipif(not LLM_REVIEWS.is_dir(), reason="shared corpus not present")


@needs_fewshot
def test_fewshot_corpus_double_encoded():
    expected = {"132_automated_relational": (7, "accept"), "attention": (8, "accept"), "2_carpe_diem": (4, "reject")}
    for stem, (overall, decision) in expected.items():
        raw = (FEWSHOT / f"{stem}.json").read_text(encoding="utf-8")
        assert isinstance(json.loads(raw)["review"], str)  # the review is a JSON string inside JSON
        review = decode_fewshot_review(raw)
        parsed = review_from_mapping(review, decision_rule="text")
        assert parsed.status == "ok", parsed.problems
        assert parsed.rating == overall and parsed.decision == decision
        assert parsed.sections["strengths"].startswith("- ")
        # the same review as a model answer, in the original form, reads the same
        inner = json.loads(raw)["review"]
        assert parse_aiscientist_output(answer(inner), decision_rule="text").rating == overall
    paper = (FEWSHOT / "attention.txt").read_text(encoding="utf-8")
    review_text = json.loads((FEWSHOT / "attention.json").read_text(encoding="utf-8"))["review"]
    protocol = get_protocol("aiscientist", few_shot=[(paper, review_text)])
    user = protocol.build_messages("PAPER BODY")[1]["content"]
    assert review_text in user and paper in user


def _first_rows(path: Path, n: int = 5) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return [row for _, row in zip(range(n), reader)]


@needs_csv
def test_recorded_csv_first_rows():
    files = sorted(LLM_REVIEWS.glob("*.csv"))
    assert len(files) == 6
    for path in files:
        for row in _first_rows(path):
            parsed = parse_review_record(row)
            assert parsed.status == "ok", (path.name, parsed.problems)
            assert parsed.problems == ()
            assert parsed.rating == float(row["Overall"])
            assert parsed.decision == ("accept" if float(row["Overall"]) >= 6 else "reject")
            assert parsed.sections["decision_text"] == row["Decision"]
            text_rule = parse_review_record(row, decision_rule="text")
            assert text_rule.decision == row["Decision"].lower()
            # lists are Python repr strings in the CSV: they come back one "- item" per line
            assert parsed.sections["strengths"].startswith("- ")
            assert "['" not in parsed.sections["strengths"]


@needs_csv
def test_recorded_csv_quirks():
    claude = next(LLM_REVIEWS.glob("claude-3-5-sonnet*.csv"))
    row = _first_rows(claude, 1)[0]
    assert row["Clarity"] == "4.0"
    assert parse_review_record(row).sections["clarity"] == "4"


def test_malformed_rows():
    good = {k: (json.dumps(v) if isinstance(v, list) else str(v)) for k, v in REVIEW.items()}
    good["paper_id"] = "abc123"
    assert parse_review_record(good).status == "ok"

    for overall, key in (("", "rating_missing"), ("abc", "rating_unparseable"), ("11", "rating_out_of_range"), (None, "rating_missing")):
        row = dict(good, Overall=overall)
        parsed = parse_review_record(row)
        assert parsed.status == "failed" and parsed.rating is None and parsed.decision is None
        assert key in [problem_key(p) for p in parsed.problems]
        partial = parse_review_record(row, decision_rule="text")
        assert partial.status == "partial" and partial.decision == "reject" and partial.rating is None

    missing = {k: v for k, v in good.items() if k != "Overall"}
    assert "rating_missing" in [problem_key(p) for p in parse_review_record(missing).problems]

    truncated = dict(good, Strengths="['Novel idea.', 'Strong res", Weaknesses='{"a": [1, 2')
    parsed = parse_review_record(truncated)
    assert parsed.status == "ok"
    assert parsed.sections["strengths"] == "['Novel idea.', 'Strong res"
    assert parsed.sections["weaknesses"] == '{"a": [1, 2'

    extra = dict(good)
    extra[None] = ["surplus", "cells"]  # type: ignore[index]
    parsed = parse_review_record(extra)
    assert parsed.status == "ok" and "record_extra_cells: 2 cells beyond the header" in parsed.problems

    assert parse_review_record("not a row").status == "failed"  # type: ignore[arg-type]
    assert parse_review_record({}).status == "failed"
    assert parse_review_record({"paper_id": "x"}).status == "failed"
    assert parse_review_record(dict(good, **{"Ethical Concerns": "Possible misuse."})).sections["ethical_concerns"] == "Possible misuse."


FRAGMENTS = st.sampled_from(
    ["THOUGHT:", "REVIEW JSON:", "```json\n", "```", "{", "}", '"Overall": ', '"6"', "6", ",", '"Decision": "Accept"',
     "[", "]", "'", '"', "\\", "True", "\n", "I am done"]
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=40).map("".join)))
def test_never_raises(text):
    for rule in ("text", "threshold"):
        parsed = parse_aiscientist_output(text, decision_rule=rule)
        assert parsed.status in ("ok", "partial", "failed")
        if parsed.status != "ok":
            assert parsed.problems


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.one_of(st.sampled_from(list(REVIEW) + ["paper_id"]), st.text(max_size=8)), st.one_of(st.none(), st.text(max_size=30)), max_size=20))
def test_record_never_raises(row):
    parsed = parse_review_record(row)
    assert parsed.status in ("ok", "partial", "failed")
    if parsed.status != "ok":
        assert parsed.problems
