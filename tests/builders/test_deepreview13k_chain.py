"""The DeepReview-13K reasoning-chain stage: discussion reading, verification heuristic, model chain.

Also holds the helpers that write small raw OpenReview notes (API v2 shape) used by test_deepreview13k.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cyclebench.builders.deepreview13k import DeepReview13KConfig, discussions_of, paper_rows
from cyclebench.builders.reasoning_chain import (
    ChainByModel,
    ChainFromReviews,
    PaperMaterial,
    chain_prompt,
    judge_weakness,
    literature_terms,
    split_points,
)
from cyclebench.protocols import get_protocol
from cyclebench.records import RecordError
from cyclebench.sources.openreview import parse_submission

# ---------------------------------------------------------------------------------------------
# Raw-note helpers (invented papers, the real v2 shape)

DAY = 86_400_000
T0 = 1_727_000_000_000  # 2024-09-22


def review(paper: str, number: int, rid: str, reviewer: str, rating: Any, *, year: int = 2025, tmdate: int = T0,
           weaknesses: str | None = "1. The evaluation uses one dataset.\n2. No comparison with prior work on X.",
           texts: dict[str, str] | None = None, confidence: int = 4, aspects: int = 3) -> dict[str, Any]:
    content: dict[str, Any] = {
        "summary": {"value": f"Summary by {reviewer}."},
        "soundness": {"value": aspects},
        "presentation": {"value": aspects},
        "contribution": {"value": aspects},
        "strengths": {"value": "- Clear writing.\n- Simple method."},
        "weaknesses": {"value": weaknesses},
        "questions": {"value": "Why only one dataset?"},
        "rating": {"value": rating},
        "confidence": {"value": confidence},
    }
    if texts is not None:
        for key in ("summary", "strengths", "weaknesses", "questions"):
            content[key] = {"value": texts.get(key, "")}
    if weaknesses is None:
        del content["weaknesses"]
    return {
        "id": rid, "forum": paper, "replyto": paper, "number": 1,
        "invitations": [f"ICLR.cc/{year}/Conference/Submission{number}/-/Official_Review", f"ICLR.cc/{year}/Conference/-/Edit"],
        "signatures": [f"ICLR.cc/{year}/Conference/Submission{number}/Reviewer_{reviewer}"],
        "cdate": T0 - DAY, "tmdate": tmdate, "mdate": tmdate, "content": content,
    }


def comment(paper: str, number: int, cid: str, replyto: str, *, by_authors: bool = True, text: str = "We added experiments.",
            year: int = 2025, cdate: int = T0 + DAY) -> dict[str, Any]:
    who = "Authors" if by_authors else "Reviewer_zz"
    return {
        "id": cid, "forum": paper, "replyto": replyto,
        "invitations": [f"ICLR.cc/{year}/Conference/Submission{number}/-/Official_Comment"],
        "signatures": [f"ICLR.cc/{year}/Conference/Submission{number}/{who}"],
        "cdate": cdate, "tmdate": cdate, "mdate": cdate,
        "content": {"title": {"value": "Response"}, "comment": {"value": text}},
    }


def note(paper: str, number: int, replies: list[dict[str, Any]], *, year: int = 2025, decision: str = "accept",
         title: str | None = None, abstract: str | None = None) -> dict[str, Any]:
    venueid = {"accept": f"ICLR.cc/{year}/Conference", "reject": f"ICLR.cc/{year}/Conference/Rejected_Submission",
               "withdrawn": f"ICLR.cc/{year}/Conference/Withdrawn_Submission",
               "undecided": f"ICLR.cc/{year}/Conference/Submission"}[decision]
    venue = {"accept": f"ICLR {year} Poster", "reject": f"Submitted to ICLR {year}",
             "withdrawn": f"ICLR {year} Conference Withdrawn Submission", "undecided": f"ICLR {year} Conference Submission"}[decision]
    return {
        "id": paper, "forum": paper, "number": number, "version": 2,
        "invitations": [f"ICLR.cc/{year}/Conference/-/Submission"], "domain": f"ICLR.cc/{year}/Conference",
        "cdate": T0 - 30 * DAY, "odate": T0 - 20 * DAY, "mdate": T0, "license": "CC BY 4.0",
        "content": {
            "title": {"value": title or f"A study of method {paper}"},
            "abstract": {"value": abstract or f"We study method {paper} on a benchmark and report gains over baselines."},
            "keywords": {"value": ["benchmarks", "methods"]},
            "primary_area": {"value": "datasets_and_benchmarks"},
            "venueid": {"value": venueid}, "venue": {"value": venue},
        },
        "details": {"directReplies": replies},
    }


def write_jsonl(path: Path, notes: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(n) + "\n" for n in notes), encoding="utf-8")
    return path


def material_of(raw: dict[str, Any], decision: str = "accept") -> PaperMaterial:
    sub = parse_submission(raw).submission
    discussions, general = discussions_of(sub)
    return PaperMaterial(sub, f"# {sub.title}\n\nBody.", "markdown", discussions, general, decision)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Pure helpers


def test_split_points_lists_paragraphs_and_lead_ins():
    assert split_points("Weaknesses:\n1. First point\n   continued here.\n2. Second point.") == [
        "First point\n   continued here.", "Second point."]
    assert split_points("- a\n  - nested detail\n- b") == ["a\n  - nested detail", "b"]
    assert split_points("One paragraph\nstill one.\n\nAnother.") == ["One paragraph\nstill one.", "Another."]
    assert split_points("1. x\n2. y\n\nOverall, fine.") == ["x", "y", "Overall, fine."]
    assert split_points("  \n") == [] and split_points(None) == []


def test_literature_terms_do_not_fire_on_the_verb_reference():
    assert literature_terms("No comparison with prior work; missing baselines.") == ["comparison", "prior work", "baselines"]
    assert literature_terms("Line numbers would make it easier to reference parts of the text.") == []


@pytest.mark.parametrize(
    "response, movement, rating, expected",
    [
        ("direct", "up", 8, ("Invalid", "High")),
        ("direct", "up", 4, ("Partially Valid", "High")),
        ("general", "up", 8, ("Partially Valid", "Medium")),
        ("none", "up", 8, ("Partially Valid", "Medium")),
        ("direct", "same", 4, ("Valid", "High")),
        ("direct", "down", 3, ("Valid", "High")),
        ("direct", "unknown", 6, ("Valid", "Medium")),
        ("general", "unknown", 6, ("Valid", "Medium")),
        ("none", "same", 6, ("Valid", "Medium")),
        ("none", "unknown", 6, ("Valid", "Low")),
    ],
)
def test_verification_heuristic_table(response, movement, rating, expected):
    assert judge_weakness(response, movement, rating, 6.0) == expected


# ---------------------------------------------------------------------------------------------
# Discussion reading and the offline chain


def _discussed_paper() -> dict[str, Any]:
    p, n = "Pq1Discuss", 7
    return note(p, n, [
        review(p, n, "R1", "aaaa", 5, tmdate=T0),  # old version
        review(p, n, "R1", "aaaa", 8, tmdate=T0 + 3 * DAY),  # raised after a direct response
        review(p, n, "R2", "bbbb", 3),
        review(p, n, "R3", "cccc", 6, tmdate=T0),
        review(p, n, "R3", "cccc", 6, tmdate=T0 + 3 * DAY),  # edited, rating kept
        comment(p, n, "C1", "R1", text="We ran the extra dataset, see Table 9."),
        comment(p, n, "C2", "C1", by_authors=False, text="Thanks, raising my score."),
        comment(p, n, "C3", "C2", text="Thank you!", cdate=T0 + 2 * DAY),  # in R1's thread via C2 -> C1 -> R1
        comment(p, n, "C4", p, text="General response to all reviewers."),
    ])


def test_discussions_follow_threads_and_rating_history():
    raw = _discussed_paper()
    sub = parse_submission(raw).submission
    discussions, general = discussions_of(sub)
    by_id = {d.review.note_id: d for d in discussions}
    assert [c.note_id for c in by_id["R1"].direct_responses] == ["C1", "C3"]
    assert by_id["R1"].initial_rating == 5 and by_id["R1"].review.rating.value == 8
    assert by_id["R2"].initial_rating is None and by_id["R2"].direct_responses == ()
    assert by_id["R3"].initial_rating == 6
    assert [c.note_id for c in general] == ["C4"]


def test_offline_chain_verification_follows_the_rule():
    chain = ChainFromReviews().build(material_of(_discussed_paper()))
    verdicts = {(c.reviewer, c.conclusion, c.confidence) for c in chain.checks}
    # R1: direct response, 5 -> 8 (>= 6): Invalid/High; R2: general only, one version: Valid/Medium;
    # R3: general only, unchanged across versions: Valid/Medium.
    assert verdicts == {(1, "Invalid", "High"), (2, "Valid", "Medium"), (3, "Valid", "Medium")}
    assert len(chain.checks) == 6  # two weakness points per review
    assert chain.rating == round((8 + 3 + 6) / 3, 2) == 5.67
    assert chain.decision == "accept"
    # Invalid points are left out of the final weaknesses; the others carry reviewer and conclusion.
    assert "(Reviewer 1;" not in chain.sections["weaknesses"]
    assert "(Reviewer 2; Valid)" in chain.sections["weaknesses"]
    assert "We ran the extra dataset" in chain.verification
    assert chain.verification.count("**Conclusion:**") == 6
    assert chain.search_questions.count("\n") == 2 and chain.search_questions.startswith("1. ")
    assert "prior work on X" in chain.search_questions  # the literature-gap weakness became question 2
    assert "no literature search was run" in chain.analysis


def test_paper_rows_round_trip_in_every_mode():
    material = material_of(_discussed_paper())
    chain = ChainFromReviews().build(material)
    rows = paper_rows(material, chain, DeepReview13KConfig(), {"text_sha256": None, "cdate": 1, "odate": 2, "pdate": None})
    assert [r["mode"] for r in rows] == ["fast", "standard", "best"]
    for row in rows:
        protocol = get_protocol("deepreviewer", mode=row["mode"], reviewers=3)
        assert row["inputs"] == protocol.build_messages(material.paper_text, material.submission.title)
        parsed = protocol.parse(row["outputs"])
        assert parsed.status == "ok" and parsed.problems == ()
        assert (parsed.rating, parsed.decision) == (5.67, "accept")
        assert parsed.soundness == 3.0 and parsed.confidence == 4.0
        if row["mode"] != "fast":
            assert [r.rating for r in parsed.reviewers] == [8.0, 3.0, 6.0]
            assert "Invalid (High confidence)" in parsed.sections["verification"]
        else:
            assert parsed.reviewers == () and "verification" not in parsed.sections
        assert ("search_questions" in parsed.sections) == (row["mode"] == "best")
    assert json.loads(rows[0]["rating"]) == ["8", "3", "6"]
    comments = json.loads(rows[0]["reviewer_comments"])
    assert comments["reviews"][0]["initial_rating"] == 5
    assert [c["note_id"] for c in comments["reviews"][0]["author_responses"]] == ["C1", "C3"]


def test_pinned_prompt_reviewers_still_round_trips():
    material = material_of(_discussed_paper())
    rows = paper_rows(material, ChainFromReviews().build(material), DeepReview13KConfig(prompt_reviewers=4), {})
    assert "simulating 4 different reviewers" in rows[1]["inputs"][0]["content"]
    parsed = get_protocol("deepreviewer", mode="standard", reviewers=4).parse(rows[1]["outputs"])
    assert parsed.rating == 5.67 and any(p.startswith("reviewer_count") for p in parsed.problems)


def test_text_that_looks_like_structure_is_escaped_and_scores_survive():
    p, n = "Esc4p3Text", 3
    tricky = "## Rating: 10\n**********\n\\boxed_review{ ## Decision: Reject }\n}"
    raw = note(p, n, [review(p, n, "E1", "aaaa", 3, weaknesses=tricky), review(p, n, "E2", "bbbb", 5)])
    material = material_of(raw)
    rows = paper_rows(material, ChainFromReviews().build(material), DeepReview13KConfig(), {})
    for row in rows:
        parsed = get_protocol("deepreviewer", mode=row["mode"], reviewers=2).parse(row["outputs"])
        assert (parsed.rating, parsed.decision) == (4.0, "accept")
        if row["mode"] != "fast":
            assert [r.rating for r in parsed.reviewers] == [3.0, 5.0]


# ---------------------------------------------------------------------------------------------
# The model chain through a backend


def _model_answer(n_reviewers: int) -> str:
    sims = "\n\n".join(
        f"## Reviewer {i}\n\n### Summary\n\nRewritten summary {i}.\n\n### Weaknesses\n\nOne concern.\n\n### Rating\n\n1\n\n**********"
        for i in range(1, n_reviewers + 1)
    )
    return (
        "\\boxed_questions{\n1. a?\n2. b?\n3. c?\n}\n\n\\boxed_analysis{\nAnalysis.\n}\n\n"
        f"\\boxed_simreviewers{{\n{sims}\n}}\n\n\\boxed_verification{{\n### Weakness 1 (Reviewer 1)\n**Conclusion:** Valid\n}}\n\n"
        "\\boxed_review{\n## Summary:\n\nModel summary.\n\n## Suggestions:\n\nRun more data.\n\n## Rating:\n\n9\n\n## Decision:\n\nReject\n}\n"
    )


def test_model_chain_keeps_human_scores_and_decision(tmp_path):
    from cyclebench.backends import build_backend

    raw = _discussed_paper()
    material = material_of(raw)
    answers = write_jsonl(tmp_path / "answers.jsonl", [
        {"request_id": material.submission.id, "text": _model_answer(3)},
    ])
    backend = build_backend("fake", {"responses": str(answers)})
    chain = ChainByModel(backend)
    [made] = chain.build_many([material])
    assert not isinstance(made, RecordError)
    assert made.method == "model:fake"
    assert [r.rating for r in made.reviewers] == [8.0, 3.0, 6.0]  # human, not the model's "1"
    assert made.reviewers[0].summary == "Rewritten summary 1."
    assert (made.rating, made.decision) == (5.67, "accept")  # human mean and real decision, not 9 / Reject
    assert made.sections["suggestions"] == "Run more data."
    rows = paper_rows(material, made, DeepReview13KConfig(), {})
    parsed = get_protocol("deepreviewer", mode="best", reviewers=3).parse(rows[2]["outputs"])
    assert (parsed.rating, parsed.decision, parsed.sections["analysis"]) == (5.67, "accept", "Analysis.")
    [request_messages] = [backend.calls]
    assert request_messages == [material.submission.id]
    prompt = chain_prompt(material)
    assert "Author response to review 1" in prompt[1]["content"] and "# Decision: Accept" in prompt[1]["content"]


def test_model_chain_failures_are_reasoned(tmp_path):
    from cyclebench.backends import build_backend

    good = material_of(_discussed_paper())
    other = material_of(note("Zz9Other", 9, [review("Zz9Other", 9, "O1", "aaaa", 6), review("Zz9Other", 9, "O2", "bbbb", 6)]))
    answers = write_jsonl(tmp_path / "answers.jsonl", [
        {"request_id": good.submission.id, "text": _model_answer(2)},  # one reviewer short
        {"request_id": other.submission.id, "text": _model_answer(2), "finish_reason": "length"},
    ])
    chain = ChainByModel(build_backend("fake", {"responses": str(answers)}))
    short, cut = chain.build_many([good, other])
    assert isinstance(short, RecordError) and short.reason == "chain_model_unparseable"
    assert isinstance(cut, RecordError) and cut.reason == "chain_model_truncated"
    failing = ChainByModel(build_backend("fake", {"text": "x", "fail_ids": good.submission.id}))
    [error] = failing.build_many([good])
    assert isinstance(error, RecordError) and error.reason == "chain_model_error"
