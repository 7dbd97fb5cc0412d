"""The outline stage: part split, the offline outline from the paper's sections, the model outline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cyclebench.builders.outline import (
    OUTLINE_SYSTEM_PROMPT,
    OutlineByModel,
    OutlineFromSections,
    outline_messages,
    parse_outline_answer,
    sentences,
    split_parts,
)
from cyclebench.builders.paper_extract import PaperSection, extract_latex, extract_text_paper
from cyclebench.backends import build_backend

PAPERS = Path(__file__).resolve().parents[1] / "fixtures" / "research14k" / "papers"


def sec(heading: str, level: int = 1, text: str = "Some text.", appendix: bool = False) -> PaperSection:
    return PaperSection(heading, level, "", text, appendix)


def test_split_at_first_top_level_experiments_section():
    sections = [sec("Introduction"), sec("Background"), sec("Method"), sec("Empirical results", 2), sec("Experiments"),
                sec("Ablations", 2), sec("Conclusion"), sec("Ethics Statement"), sec("Details", 2), sec("Proofs", appendix=True)]
    parts = split_parts(sections)
    assert parts is not None and parts.rule == "experiments"
    assert parts.part1 == (0, 1, 2, 3) and parts.part2 == (4, 5, 6) and parts.experiments == (4, 5)
    assert parts.dropped_statements == 2


def test_split_falls_back_to_the_conclusion_and_else_gives_none():
    parts = split_parts([sec("Introduction"), sec("Theoretical results"), sec("Discussion")])
    assert parts is not None and (parts.rule, parts.part2, parts.experiments) == ("conclusion-only", (2,), ())
    assert split_parts([sec("Introduction"), sec("Method")]) is None
    assert split_parts([sec("Experiments"), sec("Method")]) is None  # the first section is never part 2


def test_sentences_keep_abbreviations_together():
    text = "Prior work (e.g. Guo et al. 2017) calibrates classifiers. We propose a probe! Does it work? Yes, see Fig. 2."
    assert sentences(text) == ["Prior work (e.g. Guo et al. 2017) calibrates classifiers.", "We propose a probe!",
                               "Does it work?", "Yes, see Fig. 2."]


def test_offline_outline_from_latex_sections():
    paper = extract_latex(PAPERS / "r14-good")
    parts = split_parts(paper.sections)
    result = OutlineFromSections().outline(paper, parts, paper.abstract)
    o = result.outline
    assert o.method == "from-sections-v1"
    assert o.motivation.startswith("Open-domain question answering systems retrieve passages")
    assert "In this paper we propose" not in o.motivation  # the contribution belongs to the main idea
    assert o.main_idea.startswith("We propose SparseProbe, a sparse linear probe")
    assert (o.interestingness, o.feasibility, o.novelty) == (None, None, None)
    assert [s.name for s in result.setup] == ["Datasets and Baselines", "Main Results"]
    assert result.setup[0].description.startswith("We use Natural Questions")
    assert [(r.name, r.kind) for r in result.results] == [("Table 1", "table"), ("Figure 1", "image")]
    assert "| SparseProbe | 2.0 | 2.7 |" in result.results[0].content
    assert result.results[1].description == "Reliability diagrams before and after the probe."


def test_offline_outline_fixed_scores_are_validated_and_named():
    outline = OutlineFromSections(scores=(7, 6, 8))
    assert outline.method == "from-sections-v1+fixed-scores"
    paper = extract_text_paper(PAPERS / "r14-md.md", "markdown")
    result = outline.outline(paper, split_parts(paper.sections), paper.abstract)
    assert (result.outline.interestingness, result.outline.feasibility, result.outline.novelty) == (7, 6, 8)
    assert [s.name for s in result.setup] == ["Setup"]  # "4.2 Results" holds a table and a caption, no prose
    assert [r.name for r in result.results] == ["Table 1"]
    for bad in ((7, 6), (0, 5, 5), (11, 5, 5)):
        with pytest.raises(ValueError, match="three integers"):
            OutlineFromSections(scores=bad)


GOOD_ANSWER = """## Motivation
Retrievers are over-confident.
## Main Idea
A sparse probe calibrates them.
## Interestingness
8
## Feasibility
**9**
## Novelty
6
## Experimental Setup
```json
[{"name": "NQ", "description": "ECE on Natural Questions"}]
```
## Experimental_results
```json
[{"name": "NQ", "result": {"table": "| a | b |", "description": "ECE halves"}},
 {"name": "Plot", "result": {"image": "reliability diagram", "description": "closer to diagonal"}}]
```"""


def test_model_answer_parsed():
    parsed = parse_outline_answer(GOOD_ANSWER, "model:fake")
    assert parsed.problems == ()
    o = parsed.outline
    assert (o.outline.motivation, o.outline.main_idea) == ("Retrievers are over-confident.", "A sparse probe calibrates them.")
    assert (o.outline.interestingness, o.outline.feasibility, o.outline.novelty, o.outline.method) == (8, 9, 6, "model:fake")
    assert [(r.name, r.kind, r.content) for r in o.results] == [("NQ", "table", "| a | b |"), ("Plot", "image", "reliability diagram")]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (GOOD_ANSWER.replace("## Novelty\n6", "## Novelty\n11"), "Novelty: not an integer in 1..10"),
        (GOOD_ANSWER.replace("## Main Idea\nA sparse probe calibrates them.\n", ""), "Main Idea: missing"),
        (GOOD_ANSWER.replace('[{"name": "NQ", "description": "ECE on Natural Questions"}]', "[{oops"), "Experimental Setup:"),
        (GOOD_ANSWER.replace('"table": "| a | b |", ', ""), "result needs a table or an image"),
        ("I cannot help with that.", "Motivation: missing"),
    ],
)
def test_model_answer_problems_named(answer, problem):
    parsed = parse_outline_answer(answer, "model:fake")
    assert parsed.outline is None and any(p.startswith(problem) or problem in p for p in parsed.problems)


def test_outline_by_model_through_a_backend(tmp_path):
    paper = extract_latex(PAPERS / "r14-good")
    messages = outline_messages(paper, paper.title, paper.abstract, max_chars=400)
    assert messages[0]["content"] == OUTLINE_SYSTEM_PROMPT
    assert messages[1]["content"].startswith("# Sparse Probes for Calibrated Retrieval") and "[... paper cut here ...]" in messages[1]["content"]
    responses = tmp_path / "responses.jsonl"
    responses.write_text(json.dumps({"request_id": "p1", "text": GOOD_ANSWER}) + "\n")
    backend = build_backend("fake", {"responses": str(responses), "fail_ids": "p2"})
    model = OutlineByModel(backend)
    assert model.method == "model:fake"
    ok, failed = model.outline_many([("p1", paper, paper.title, paper.abstract), ("p2", paper, paper.title, paper.abstract)])
    assert ok.outline is not None and ok.outline.outline.novelty == 6
    assert failed.outline is None and failed.problems == ("backend_error: fake_failure",)
    assert backend.calls == ["p1", "p2"]
