"""DeepReviewer Best mode's literature turn, the pure part: the question extractor, the answers turn, the
protocol's options and its next turn with a scripted search."""

from __future__ import annotations

import pytest

from cyclebench.protocols import get_protocol
from cyclebench.protocols.deepreviewer import (
    SearchAnswer,
    compose_answers_turn,
    extract_search_questions,
)


def _q(text: str, **kw) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found = extract_search_questions(text, **kw)
    return found.questions, tuple(p.split(": ")[0] for p in found.problems)


def test_numbered_with_nested_braces_and_continuation_lines():
    text = ("Let me search first.\n\\boxed_questions{\n1. What does SAM cost per step, given $O(n^{2})$ and "
            "$\\mathcal{L}_{\\text{SAM}}$?\n2. **Which prior work** links flat minima\n   to generalization?\n"
            "3) Are Hessian-based sharpness measures reliable?\n}\n\n\\boxed_analysis{\nx\n}")
    assert _q(text) == (("What does SAM cost per step, given $O(n^{2})$ and $\\mathcal{L}_{\\text{SAM}}$?",
                         "Which prior work links flat minima to generalization?",
                         "Are Hessian-based sharpness measures reliable?"), ())


@pytest.mark.parametrize("body", [
    "What is A?\nWhat is B?\nWhat is C?",                                # one a line (the released model)
    "- What is A?\n* What is B?\n\u2022 What is C?",                    # bullets
    "Q1: What is A?\nQ2: What is B?\nQ3: What is C?",
    "### Question 1: What is A?\n### Question 2: What is B?\n### Question 3: What is C?",
    "**1.** What is A?\n(2) What is B?\n3: What is C?",
    "Here are my three questions:\n\n1. What is A?\n\n2. What is B?\n\n3. What is C?\n",
    "Questions:\nWhat is A?\nWhat is B?\nwhat is a?\nWhat is C?",     # an intro line and a repeat
])
def test_question_shapes(body):
    assert _q("\\boxed_questions{\n" + body + "\n}") == (("What is A?", "What is B?", "What is C?"), ())


def test_truncated_block_keeps_complete_questions_and_says_why():
    questions, problems = _q("\\boxed_questions{\n1. What is A?\n2. What is B?\n3. How does the metho")
    assert questions == ("What is A?", "What is B?")
    assert problems == ("boxed_questions_unclosed", "question_cut")
    # truncated right after a complete question: all kept, the unclosed block still counted
    assert _q("\\boxed_questions{\n1. What is A?\n2. What is B?") == (("What is A?", "What is B?"), ("boxed_questions_unclosed",))


def test_missing_empty_capped_repeated():
    assert _q("\\boxed_review{\n## Rating:\n6\n}") == ((), ("boxed_questions_missing",))
    assert _q("") == ((), ("empty_output",))
    assert _q(None) == ((), ("empty_output",))  # type: ignore[arg-type]
    assert _q("\\boxed_questions{\n\n}") == ((), ("questions_empty",))
    many = "\\boxed_questions{\n" + "\n".join(f"{i}. Question {i}?" for i in range(1, 8)) + "\n}"
    questions, problems = _q(many, max_questions=3)
    assert questions == ("Question 1?", "Question 2?", "Question 3?") and problems == ("questions_capped",)
    twice = "\\boxed_questions{\nWhat is A?\n}\n\\boxed_questions{\nWhat is Z?\n}"
    assert _q(twice) == (("What is A?",), ("boxed_questions_repeated",))
    # the original's regex, r'\boxed_questions\{(.*?)\}', never matched: "\b" is a word boundary there
    import re
    assert re.search(r'\boxed_questions\{(.*?)\}', "\\boxed_questions{\nWhat is A?\n}", re.DOTALL) is None


def test_compose_answers_turn_in_the_original_layout():
    turn = compose_answers_turn([SearchAnswer("What is A?", ("T1 (2020)\nAbstract one.", "T2\nTwo.")),
                                 SearchAnswer("What is B?", (), error="server_down")], with_answers=False)
    assert turn == ("## Question 1:\nWhat is A?\n\n### Retrieved Passages:\n[1] T1 (2020)\nAbstract one.\n\n[2] T2\nTwo."
                    "\n\n**********\n\n## Question 2:\nWhat is B?\n\n### Retrieved Passages:\nNo information retrieved."
                    "\n\n**********")
    with_answers = compose_answers_turn([SearchAnswer("Q?", ("P",), answer="It is [1]."), SearchAnswer("R?", ("P",))],
                                        with_answers=True)
    assert "### Answer:\nIt is [1]." in with_answers and "### Answer:\nNo answer retrieved." in with_answers


def test_options_are_checked():
    ok = get_protocol("deepreviewer", mode="best", retriever="s2", top_k=2)
    assert ok.literature() == {"retriever": "semantic_scholar", "top_k": 2, "max_questions": 5}
    assert ok.options()["literature"]["retriever"] == "semantic_scholar"
    # without a retriever nothing changes: same options, first turn only
    plain = get_protocol("deepreviewer", mode="best")
    assert plain.options() == {"mode": "best", "reviewers": 4, "fallback_threshold": 6.0} and plain.literature() is None
    for options, message in [
        ({"mode": "standard", "retriever": "bm25", "index": "x"}, "use mode=best"),
        ({"mode": "best", "retriever": "bm25"}, "needs index"),
        ({"mode": "best", "retriever": "google"}, "unknown retriever"),
        ({"mode": "best", "index": "x"}, "need a retriever"),
        ({"mode": "best", "retriever": "s2", "index": "x"}, "not s2"),
        ({"mode": "best", "retriever": "bm25", "index": "x", "s2_url": "http://h"}, "not bm25"),
        ({"mode": "best", "retriever": "s2", "top_k": 0}, "top_k"),
        ({"mode": "best", "retriever": "s2", "top_k": True}, "top_k"),
        ({"mode": "best", "retriever": "s2", "summarizer_args": "text=x"}, "summarizer=BACKEND"),
    ]:
        with pytest.raises(ValueError, match=message):
            get_protocol("deepreviewer", **options)


FIRST = ("\\boxed_questions{\n1. What is A?\n2. What is B?\n}\n\n\\boxed_review{\n## Rating:\n\n5.0\n\n"
         "## Decision:\n\nReject\n}")


def test_next_turn_with_a_scripted_search():
    protocol = get_protocol("deepreviewer", mode="best", retriever="bm25", index="idx")
    messages = protocol.build_messages("Paper text.")
    with pytest.raises(RuntimeError, match="no literature search was attached"):
        protocol.next_turn(messages, FIRST, 2)
    asked: list[tuple[str, ...]] = []

    def search(questions):
        asked.append(tuple(questions))
        return [SearchAnswer(q, (f"Passage for {q}",) if q == "What is A?" else (), error=None) for q in questions]

    protocol.search = search
    turn = protocol.next_turn(messages, FIRST, 2)
    assert asked == [("What is A?", "What is B?")]
    assert [m["role"] for m in turn.messages] == ["system", "user", "assistant", "user"]
    assert turn.messages[2]["content"] == FIRST and "[1] Passage for What is A?" in turn.messages[3]["content"]
    assert turn.notes["literature"] == {"questions": ["What is A?", "What is B?"], "question_problems": [],
                                        "retrieved": [1, 0], "errors": [None, None], "summarized": 0,
                                        "status": "answered", "reason": None}
    assert protocol.follow_up(messages, FIRST, 2) == turn.messages
    assert protocol.next_turn(turn.messages, "final", 3).messages is None  # two turns, never more

    none_found = protocol.next_turn(messages, "\\boxed_review{\n## Rating:\n\n5.0\n}", 2)
    assert none_found.messages is None and none_found.notes["literature"]["reason"] == "no_questions"
    assert none_found.notes["literature"]["question_problems"] == ["boxed_questions_missing"]
    protocol.search = lambda qs: [SearchAnswer(q, (), error="server_down") for q in qs]
    failed = protocol.next_turn(messages, FIRST, 2)
    assert failed.messages is None and failed.notes["literature"]["reason"] == "retrieval_failed"
    protocol.search = lambda qs: [SearchAnswer(q) for q in qs]
    assert protocol.next_turn(messages, FIRST, 2).notes["literature"]["reason"] == "nothing_retrieved"


def test_parse_after_the_literature_turn_does_not_ask_for_questions_again():
    final = "\\boxed_review{\n## Rating:\n\n7.5\n\n## Decision:\n\nAccept\n}"
    with_search = get_protocol("deepreviewer", mode="best", retriever="s2", reviewers=1).parse(final)
    assert "boxed_questions_missing" not in with_search.problems and with_search.rating == 7.5
    assert "boxed_questions_missing" in get_protocol("deepreviewer", mode="best", reviewers=1).parse(final).problems
