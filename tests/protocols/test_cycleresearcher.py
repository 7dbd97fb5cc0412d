"""CycleResearcher generation protocol: prompt, parser on hand-written outputs (complete, one-pass, truncated,
malformed JSON, missing parts), writer errors, and the training-record round trip."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyclebench.protocols.cycleresearcher import (
    SYSTEM_PROMPT,
    USER_INSTRUCTION,
    build_generation_messages,
    default_sampling,
    format_training_messages,
    parse_generation,
    parse_training_messages,
    read_json_list,
    split_at_results,
)
from cyclebench.records import (
    ExperimentResult,
    ExperimentSpec,
    GeneratedPaper,
    PaperOutline,
)

PART1 = r"""## Motivation

Attention over long documents is quadratic; retrieval-based shortcuts lose recall [smith2023].

## Main Idea

Hash keys into buckets and attend within buckets, refreshed every layer.

## Interestingness

8

## Feasibility

7/10

## Novelty

**6**

```latex
\title{Bucketed Attention for {Long} Documents}

\begin{abstract}
We propose bucketed attention.
It is fast.
\end{abstract}

\section{Introduction}
Long documents matter \cite{smith2023}.

\section{Method}
Let $h(k)$ be a hash.
```

## Experimental Setup

```json
[
  {"name": "Speed", "description": "Tokens per second on 16k inputs."},
  {"name": "Quality", "description": "Perplexity on PG-19."}
]
```
"""

RESULTS_TURN = """## Experimental_results

```json
[
  {"name": "Speed", "result": {"table": "| model | tok/s |\\n| ours | 900 |", "description": "3x faster"}},
  {"name": "Quality", "result": {"image": "ppl_curve.png", "description": "on par"}}
]
```"""

PART2 = r"""```latex
\section{Experiments}
Bucketed attention is 3x faster (Table 1).

\section{Conclusion}
It works.
```"""


def test_prompt_is_the_original_one():
    messages = build_generation_messages("Long-context attention", "@article{a, title={A}}\n\nAbstract: x")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == SYSTEM_PROMPT
    assert SYSTEM_PROMPT.startswith("You are a research assistant AI tasked with generating a scientific paper")
    assert "   - Methods/\n5. Generate experimental setup details in JSON format" in SYSTEM_PROMPT
    user = messages[1]["content"]
    assert user.startswith("Generate a research paper on the topic: Long-context attention\n\n@article{a")
    assert user.endswith("Abstract: x\n\n" + USER_INSTRUCTION)
    assert build_generation_messages("", "@misc{b}")[1]["content"] == "@misc{b}\n\n" + USER_INSTRUCTION
    with pytest.raises(ValueError):
        build_generation_messages(" ", "")
    with pytest.raises(TypeError):
        build_generation_messages("t", None)  # type: ignore[arg-type]


def test_sampling_defaults_are_the_originals():
    sampling = default_sampling()
    assert sampling == {"temperature": 0.4, "top_p": 0.95, "max_tokens": 19000, "stop": ["\\clearpage"]}
    sampling["stop"].append("x")
    assert default_sampling()["stop"] == ["\\clearpage"]


def test_complete_two_turn_output():
    paper = parse_generation(PART1, RESULTS_TURN + "\n\n" + PART2, paper_id="p1")
    assert paper.status == "ok" and paper.problems == ()
    assert paper.paper_id == "p1"
    assert paper.outline == PaperOutline(
        motivation="Attention over long documents is quadratic; retrieval-based shortcuts lose recall [smith2023].",
        main_idea="Hash keys into buckets and attend within buckets, refreshed every layer.",
        interestingness=8, feasibility=7, novelty=6)
    assert paper.title == "Bucketed Attention for {Long} Documents"
    assert paper.abstract == "We propose bucketed attention.\nIt is fast."
    assert paper.latex_body.startswith("\\section{Introduction}") and paper.latex_body.endswith("Let $h(k)$ be a hash.")
    assert paper.setup == (ExperimentSpec("Speed", "Tokens per second on 16k inputs."), ExperimentSpec("Quality", "Perplexity on PG-19."))
    assert paper.results == (ExperimentResult("Speed", "table", "| model | tok/s |\n| ours | 900 |", "3x faster"),
                             ExperimentResult("Quality", "image", "ppl_curve.png", "on par"))
    assert paper.experiments_latex == "\\section{Experiments}\nBucketed attention is 3x faster (Table 1).\n\n\\section{Conclusion}\nIt works."
    text = paper.text()
    assert text.startswith("# Bucketed Attention for {Long} Documents\n\n## Abstract\n\nWe propose")
    assert "\\section{Method}" in text and text.endswith("It works.")


def test_one_pass_output_reads_the_same_as_two_turns():
    one_pass = PART1 + "\n" + RESULTS_TURN + "\n\n" + PART2 + "\n\\clearpage\n\\section{Appendix}"
    two_turn = parse_generation(PART1, RESULTS_TURN + "\n\n" + PART2)
    single = parse_generation(one_pass)
    assert single.status == "ok" and single == two_turn
    head, rest = split_at_results(one_pass)
    assert rest.startswith("## Experimental_results") and parse_generation(head, rest) == two_turn
    assert split_at_results(PART1) is None
    # Inside a JSON block it is text; a LaTeX block never holds the protocol's headings, so there it ends the block.
    assert split_at_results("```json\n## Experimental_results\n```") is None
    assert split_at_results("```latex\nx\n## Experimental_results\n```") == ("```latex\nx", "## Experimental_results\n```")


def test_part_two_alone_without_results_turn():
    paper = parse_generation(PART1, PART2)
    assert paper.status == "partial"
    assert paper.experiments_latex.startswith("\\section{Experiments}")
    assert [p.split(":")[0] for p in paper.problems] == ["results_missing"]


def test_truncated_inside_setup_json_keeps_complete_items():
    cut = PART1[: PART1.index('{"name": "Quality"') + 12]
    paper = parse_generation(cut)
    keys = [p.split(":")[0] for p in paper.problems]
    assert "setup_json_unclosed" in keys and "setup_json_truncated" in keys
    assert paper.setup == (ExperimentSpec("Speed", "Tokens per second on 16k inputs."),)
    assert paper.title and paper.abstract and paper.status == "partial"
    # Part 2 given after a truncated part 1: the open block of part 1 does not swallow part 2.
    both = parse_generation(cut, RESULTS_TURN + "\n\n" + PART2)
    assert len(both.results) == 2 and both.experiments_latex.startswith("\\section{Experiments}")


def test_truncated_inside_latex_and_abstract():
    cut = PART1[: PART1.index("\\section{Method}") + 10]
    paper = parse_generation(cut)
    keys = [p.split(":")[0] for p in paper.problems]
    assert "latex_fence_unclosed" in keys and "setup_missing" in keys and "results_missing" in keys
    assert paper.latex_body.endswith("\\section{M")
    cut = PART1[: PART1.index("It is fast.")]
    paper = parse_generation(cut)
    assert "abstract_unclosed" in [p.split(":")[0] for p in paper.problems]
    assert paper.abstract == "We propose bucketed attention." and paper.latex_body is None
    assert paper.status == "partial"


def test_truncated_results_json_and_unclosed_final_block():
    results = RESULTS_TURN[: RESULTS_TURN.index('{"name": "Quality"') + 5]
    paper = parse_generation(PART1, results)
    keys = [p.split(":")[0] for p in paper.problems]
    assert "results_json_truncated" in keys and len(paper.results) == 1
    stopped = parse_generation(PART1, RESULTS_TURN + "\n\n```latex\n\\section{Experiments}\nGood.")
    assert stopped.experiments_latex == "\\section{Experiments}\nGood."
    assert "experiments_fence_unclosed" in [p.split(":")[0] for p in stopped.problems]


@pytest.mark.parametrize("block, expect_items, expect_problem", [
    ('[{"name": "A", "description": "x",},]', 1, None),  # trailing commas: read leniently
    ("[{'name': 'A', 'description': 'x'}]", 1, None),  # a Python literal
    ('{"name": "A", "description": "x"}', 1, None),  # one object, not a list
    ('[{"description": "no name"}, {"name": "B", "description": "y"}]', 1, "setup_item_invalid"),
    ('[1, 2]', 0, "setup_item_invalid"),
    ("not json at all", 0, "setup_json_invalid"),
    ('[{"name": "A", "description": ', 0, "setup_json_invalid"),  # truncated before any complete item
    ("", 0, "setup_json_invalid"),
])
def test_malformed_setup_json(block, expect_items, expect_problem):
    text = PART1[: PART1.index("```json")] + f"```json\n{block}\n```\n"
    paper = parse_generation(text)
    assert len(paper.setup) == expect_items
    keys = [p.split(":")[0] for p in paper.problems]
    if expect_problem:
        assert expect_problem in keys
    else:
        assert not [k for k in keys if k.startswith("setup")]


def test_malformed_results_items():
    turn = ('## Experimental_results\n\n```json\n[{"name": "A", "result": "a sentence"}, '
            '{"name": "B", "result": {"numbers": 3}}, {"name": "C", "table": [[1, 2]], "description": "flat"}, '
            '{"result": {"table": "t"}}]\n```')
    paper = parse_generation(PART1, turn + "\n\n" + PART2)
    assert paper.results == (ExperimentResult("A", "text", "a sentence"), ExperimentResult("C", "table", "[[1, 2]]", "flat"))
    assert sum(p.startswith("results_item_invalid") for p in paper.problems) == 2


def test_scores_read_leniently_and_checked():
    def with_scores(i, f, n):
        return PART1.replace("8\n\n## Feas", f"{i}\n\n## Feas").replace("7/10", f).replace("**6**", n)

    paper = parse_generation(with_scores("Score: 9", "7.5", "12"))
    assert (paper.outline.interestingness, paper.outline.feasibility, paper.outline.novelty) == (9, None, None)
    keys = [p.split(":")[0] for p in paper.problems]
    assert "feasibility_not_integer" in keys and "novelty_out_of_range" in keys
    paper = parse_generation(with_scores("high", "", "8"))
    keys = [p.split(":")[0] for p in paper.problems]
    assert "interestingness_unparseable" in keys and "feasibility_missing" in keys
    assert parse_generation(PART1.replace("## Novelty\n\n**6**", "## Novelty: 6")).outline.novelty == 6


def test_missing_sections_are_named():
    text = PART1.replace("## Motivation", "Motivation").replace("## Main Idea\n\nHash", "Hash")
    paper = parse_generation(text, RESULTS_TURN + "\n\n" + PART2)
    keys = [p.split(":")[0] for p in paper.problems]
    assert keys == ["motivation_missing", "main_idea_missing"]
    assert paper.status == "partial" and paper.outline.interestingness == 8


def test_latex_without_fence_and_fence_left_open_before_setup():
    no_fence = PART1.replace("```latex\n", "").replace("It is fast.\n\\end{abstract}", "It is fast.\n\\end{abstract}", 1)
    no_fence = no_fence.replace("Let $h(k)$ be a hash.\n```", "Let $h(k)$ be a hash.")
    paper = parse_generation(no_fence)
    assert "latex_fence_missing" in [p.split(":")[0] for p in paper.problems]
    assert paper.title == "Bucketed Attention for {Long} Documents" and paper.latex_body.endswith("be a hash.")
    open_fence = PART1.replace("Let $h(k)$ be a hash.\n```", "Let $h(k)$ be a hash.")
    paper = parse_generation(open_fence)
    assert "latex_fence_unclosed" in [p.split(":")[0] for p in paper.problems]
    assert paper.latex_body.endswith("be a hash.") and len(paper.setup) == 2


def test_results_in_second_json_block_of_setup():
    text = PART1 + "\n" + RESULTS_TURN.replace("## Experimental_results\n\n", "") + "\n\n" + PART2
    paper = parse_generation(text)
    assert len(paper.results) == 2 and paper.experiments_latex.startswith("\\section{Experiments}")
    assert "results_heading_missing" in [p.split(":")[0] for p in paper.problems]


def test_part2_without_fence():
    paper = parse_generation(PART1, RESULTS_TURN + "\n\n\\section{Experiments}\nDone.")
    assert paper.experiments_latex == "\\section{Experiments}\nDone."
    assert "experiments_fence_missing" in [p.split(":")[0] for p in paper.problems]


@pytest.mark.parametrize("part1, part2", [("", None), ("   ", ""), ("random words with no structure", None),
                                          ("## Motivation\n\nonly this", "garbage")])
def test_unreadable_outputs_fail_with_reasons(part1, part2):
    paper = parse_generation(part1, part2, paper_id="x")
    assert paper.status == "failed" and paper.problems
    assert paper.text() == ""


def test_non_text_input_is_a_failure_not_an_exception():
    assert parse_generation(None).status == "failed"  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(), st.one_of(st.none(), st.text()))
def test_parser_never_raises(part1, part2):
    paper = parse_generation(part1, part2)
    assert paper.status in ("ok", "partial", "failed")
    assert paper.status == "ok" or paper.problems


def test_read_json_list_salvage_reports_count():
    items, why, salvaged = read_json_list('[{"a": 1}, {"b": 2}, {"c": ')
    assert items == [{"a": 1}, {"b": 2}] and salvaged and "kept 2" in why


# ---------------------------------------------------------------------------------------------
# Writer and round trip

_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="`#\r\x85\u2028\u2029") | st.just("\n")
_text = st.text(_ALPHABET, min_size=1, max_size=60).map(str.strip).filter(lambda s: s and "\\clearpage" not in s and "\\end{abstract}" not in s)
_title = st.text(st.characters(codec="ascii", categories=("L", "N", "Zs")), min_size=1, max_size=40).map(lambda s: " ".join(s.split())).filter(bool)
_json_text = st.text(max_size=30).map(str.strip)
_specs = st.lists(st.builds(ExperimentSpec, _json_text.filter(bool), _json_text), max_size=3)
_results = st.lists(st.builds(ExperimentResult, _json_text.filter(bool), st.sampled_from(["table", "image", "text"]),
                              _json_text, _json_text), max_size=3)
_score = st.none() | st.integers(0, 10)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text, _text, _score, _score, _score, _title, _text, _text, _text, _specs, _results)
def test_training_record_round_trip(motivation, idea, i, f, n, title, abstract, body, experiments, setup, results):
    outline = PaperOutline(motivation, idea, i, f, n, method="from-sections-v1")
    paper = GeneratedPaper("p", "ok", title=title, abstract=abstract, latex_body=body, experiments_latex=experiments,
                           setup=tuple(setup), results=tuple(results))
    messages = format_training_messages("a topic", "@article{k, title={T}}", outline, paper)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert messages[3]["content"].startswith("## Experimental_results\n\n```json\n")
    back = parse_training_messages(messages, "p")
    assert back.outline == PaperOutline(motivation, idea, i, f, n)
    assert (back.title, back.abstract, back.latex_body, back.experiments_latex) == (title, abstract, body, experiments)
    assert back.setup == tuple(setup) and back.results == tuple(results)


def test_round_trip_of_the_hand_written_paper():
    paper = parse_generation(PART1, RESULTS_TURN + "\n\n" + PART2)
    messages = format_training_messages("topic", "@misc{x}", paper.outline, paper)
    assert parse_training_messages(messages) == paper


@pytest.mark.parametrize("change, message", [
    ({"title": "Unbalanced {brace"}, "unbalanced braces"),
    ({"abstract": "has ``` inside"}, "```"),
    ({"latex_body": "fine\n## Novelty\nnot fine"}, "heading"),
    ({"abstract": None}, "paper.abstract is missing"),
    ({"experiments_latex": "a\n\\clearpage\nb"}, "clearpage"),
])
def test_writer_refuses_what_would_be_misread(change, message):
    base = parse_generation(PART1, RESULTS_TURN + "\n\n" + PART2)
    fields = {"title": base.title, "abstract": base.abstract, "latex_body": base.latex_body,
              "experiments_latex": base.experiments_latex, **change}
    paper = GeneratedPaper("p", "ok", title=fields["title"], abstract=fields["abstract"], latex_body=fields["latex_body"],
                           experiments_latex=fields["experiments_latex"])
    with pytest.raises(ValueError, match=message):
        format_training_messages("t", "b", base.outline, paper)
    with pytest.raises(ValueError, match="integer in 0..10"):
        format_training_messages("t", "b", PaperOutline("m", "i", 11), base)
    with pytest.raises(ValueError, match="5 turns"):
        parse_training_messages([{"role": "user", "content": "x"}])
