"""DeepReviewer (WestlakeNLP/DeepReviewer-7B, -14B): multi-reviewer review with self-verification.

Modes (the system prompt's mode sentence): **fast** writes the final review at once; **standard** simulates
R reviewers (default 4) and self-verifies their weaknesses; **best** also asks three questions for a
literature search first. The output is prose with ``\\boxed_name{...}`` blocks, in order:

``\\boxed_questions{...}`` (best), ``\\boxed_analysis{...}`` (best), ``\\boxed_simreviewers{ ## Reviewer i /
### Summary ... ### Rating ... ### Confidence ... }`` (reviewers separated by ``**********``),
``\\boxed_verification{...}`` and ``\\boxed_review{ ## Summary: ... ## Soundness: 3.25 ... ## Rating: 6.5 ...
## Confidence: 3.75 ... ## Decision: Accept }``. Final scores are fractional (averages).

Blocks are cut out by :func:`find_boxed_blocks`, which survives what real outputs contain: braces inside the
text (LaTeX ``L^{SAM}_{\\mathcal{S}}``, stray ``}`` in quoted evidence, JSON that the model did not close) and
truncation (an unclosed block at the end is read to the end and flagged).

:func:`format_deepreviewer_output` writes the same format from a ParsedReview-like value, so that training
targets built by a dataset builder read back through :func:`parse_deepreviewer_output` unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from cyclebench.protocols.base import (
    ASPECT_RANGE,
    CONFIDENCE_RANGE,
    RATING_RANGE,
    FollowUp,
    REVIEW_SECTION_KEYS,
    REVIEW_SECTION_NAMES,
    Message,
    ReviewProtocol,
    aggregate_reviewers,
    conflicting_lines,
    escape_conflicts,
    failed,
    find_headings,
    paper_with_title,
    parse_score,
    problem,
    read_decision,
    read_simulated_review,
    render_form_score,
    section_texts,
    snippet,
    split_reviewers,
    status_for,
)
from cyclebench.records import ParsedReview, SimulatedReview

MODES = ("fast", "standard", "best")

# System prompts of the original package. The simulated-reviewer sentence is appended without a space,
# as the original code does; the models were trained on these strings.
_BASE_PROMPT = (
    "You are an expert academic reviewer tasked with providing a thorough and balanced evaluation of research papers."
)
_SIMREVIEWER_PROMPT = (
    "When you simulate different reviewers, write the sections in this order: Summary, Soundness, Presentation, "
    "Contribution, Strengths, Weaknesses, Suggestions, Questions, Rating and Confidence."
)
_MODE_PROMPTS = {
    "fast": " Your thinking mode is Fast Mode. In this mode, you should quickly provide the review results.",
    "standard": (
        " Your thinking mode is Standard Mode. In this mode, you should review by simulating {reviewers} different "
        "reviewers, and use self-verification to double-check any paper deficiencies identified. Finally, provide "
        "complete review results."
    ),
    "best": (
        " Your thinking mode is Best Mode. In this mode, you should aim to provide the most reliable review results "
        "by conducting a thorough analysis of the paper. I allow you to use search tools to obtain background "
        "knowledge about the paper - please provide three different questions. I will help you with the search. "
        "After you complete your thinking, you should review by simulating {reviewers} different reviewers, and use "
        "self-verification to double-check any paper deficiencies identified. Finally, provide complete review results."
    ),
}

# Sections of the final review, in the order the model writes them: (key, heading title).
_REVIEW_SECTIONS = (
    ("summary", "Summary"),
    ("soundness", "Soundness"),
    ("presentation", "Presentation"),
    ("contribution", "Contribution"),
    ("strengths", "Strengths"),
    ("weaknesses", "Weaknesses"),
    ("suggestions", "Suggestions"),
    ("questions", "Questions"),
    ("rating", "Rating"),
    ("confidence", "Confidence"),
    ("decision", "Decision"),
)
_REVIEW_NAMES = {
    **{title.lower(): key for key, title in _REVIEW_SECTIONS},
    "strength": "strengths",
    "weakness": "weaknesses",
    "overall rating": "rating",
    "final decision": "decision",
    "paper decision": "decision",
}
_REVIEW_TEXT_KEYS = ("summary", "strengths", "weaknesses", "suggestions", "questions")
# Blocks whose body is kept verbatim in ``sections``: block name -> section key.
_VERBATIM_BLOCKS = {"questions": "search_questions", "analysis": "analysis", "verification": "verification"}
_SECTION_KEYS = frozenset(_REVIEW_TEXT_KEYS) | frozenset(_VERBATIM_BLOCKS.values())
_SCORES = (
    ("rating", RATING_RANGE),
    ("soundness", ASPECT_RANGE),
    ("presentation", ASPECT_RANGE),
    ("contribution", ASPECT_RANGE),
    ("confidence", CONFIDENCE_RANGE),
)


def normalise_mode(mode: str) -> str:
    """``"fast"``, ``"Fast Mode"``, ``"STANDARD"`` ... -> one of :data:`MODES`."""
    if not isinstance(mode, str):
        raise TypeError(f"mode must be a string, not {type(mode).__name__}")
    key = mode.strip().lower()
    key = key[: -len(" mode")] if key.endswith(" mode") else key
    if key not in MODES:
        raise ValueError(f"unknown DeepReviewer mode {mode!r}; choices: {', '.join(MODES)}")
    return key


def system_prompt(mode: str = "standard", reviewers: int = 4) -> str:
    mode = normalise_mode(mode)
    prompt = _BASE_PROMPT + _MODE_PROMPTS[mode].format(reviewers=reviewers)
    return prompt if mode == "fast" else prompt + _SIMREVIEWER_PROMPT


def build_deepreviewer_messages(
    paper_text: str, title: str | None = None, *, mode: str = "standard", reviewers: int = 4
) -> list[Message]:
    return [
        {"role": "system", "content": system_prompt(mode, reviewers)},
        {"role": "user", "content": paper_with_title(paper_text, title)},
    ]


# ---------------------------------------------------------------------------------------------
# Blocks


@dataclass(frozen=True, slots=True)
class BoxedBlock:
    name: str  # "review", "simreviewers", ...
    body: str
    start: int  # offset of the backslash of ``\boxed_name{``
    end: int  # offset just after the closing brace (the end of the text when unclosed)
    closed: bool
    # How the end was found: "brace" (balanced braces), "line" (the last line holding only "}" before the
    # next block: braces inside the text did not balance), or "" when unclosed.
    closed_by: str


_BOXED_START = re.compile(r"\\boxed_([A-Za-z]+)[ \t]*\{")
_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)
_CLOSE_LINE = re.compile(r"^[ \t]*\}[ \t]*$", re.MULTILINE)


def _balanced_close(text: str, start: int, stop: int) -> int | None:
    depth = 1
    for m in _BRACE_TOKEN.finditer(text, start, stop):
        token = m.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return m.start()
    return None


def find_boxed_blocks(text: str) -> list[BoxedBlock]:
    """Every ``\\boxed_name{...}`` block of an output, in order.

    A block's region runs to the next ``\\boxed_`` marker (or the end). Inside it, the closing brace is
    the one that balances the opening brace (backslash-escaped braces do not count), unless a line holding
    only ``}`` comes later in the region: then that last line closes the block (a stray ``}`` in quoted
    text closed the count too early). With neither, the block is unclosed and runs to the region's end.
    """
    starts = list(_BOXED_START.finditer(text))
    blocks: list[BoxedBlock] = []
    for i, m in enumerate(starts):
        body_start = m.end()
        region_end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        brace = _balanced_close(text, body_start, region_end)
        lines = list(_CLOSE_LINE.finditer(text, body_start, region_end))
        line_brace = lines[-1].start() + lines[-1].group(0).index("}") if lines else None
        if line_brace is not None and (brace is None or line_brace > brace):
            close, how = line_brace, "line"
        elif brace is not None:
            close, how = brace, "brace"
        else:
            close, how = None, ""
        if close is None:
            blocks.append(BoxedBlock(m.group(1).lower(), text[body_start:region_end], m.start(), region_end, False, ""))
        else:
            blocks.append(BoxedBlock(m.group(1).lower(), text[body_start:close], m.start(), close + 1, True, how))
    return blocks


# "## Summary: ... ## Soundness: 3.25 ..." written on one line: put each known heading on its own line.
_INLINE_HEADING = re.compile(
    r"(?<=\S)[ \t]+(?=#{2,3}[ \t]*(?:" + "|".join(title for _key, title in _REVIEW_SECTIONS) + r")[ \t]*:)",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------
# Parser


def parse_deepreviewer_output(
    text: object,
    *,
    mode: str | None = None,
    expected_reviewers: int | None = None,
    fallback_threshold: float | None = 6.0,
) -> ParsedReview:
    """Read a DeepReviewer output. Never raises.

    Scores and decision come from ``\\boxed_review`` (``decision_rule="text"``). Where it has no rating, the
    rating is the mean of the simulated reviewers' ratings (problem ``rating_from_simreviewers``). Where
    ``\\boxed_review`` is missing or holds neither rating nor decision, the decision is
    ``mean rating >= fallback_threshold`` with ``decision_rule="fallback:simreviewers_mean>=T"`` (problem
    ``decision_from_threshold``); with ``fallback_threshold=None`` it stays ``None``. With ``mode`` given,
    blocks that mode must write and did not are named (``boxed_simreviewers_missing`` ...).

    ``sections`` holds the final review's texts (summary, strengths, weaknesses, suggestions, questions)
    and the verbatim bodies of ``\\boxed_questions`` (as ``search_questions``), ``\\boxed_analysis`` and
    ``\\boxed_verification``; ``meta_review`` is the whole ``\\boxed_review`` body.
    """
    if not isinstance(text, str) or not text.strip():
        return failed(problem("empty_output"))
    mode = normalise_mode(mode) if mode is not None else None
    blocks = find_boxed_blocks(text)
    by_name: dict[str, list[BoxedBlock]] = {}
    for b in blocks:
        by_name.setdefault(b.name, []).append(b)
    problems: list[str] = []
    sections: dict[str, str] = {}

    def note_unclosed(b: BoxedBlock) -> None:
        if not b.closed:
            where = "output ends inside the block (truncated)" if b.end == len(text) else "next block starts before it closes"
            problems.append(problem(f"boxed_{b.name}_unclosed", where))

    for name, key in _VERBATIM_BLOCKS.items():
        if name in by_name:
            b = by_name[name][0]
            note_unclosed(b)
            if b.body.strip():
                sections[key] = b.body.strip()

    reviewers: list[SimulatedReview] = []
    if "simreviewers" in by_name:
        b = by_name["simreviewers"][0]
        note_unclosed(b)
        heads = find_headings(b.body, REVIEW_SECTION_NAMES)
        chunks = split_reviewers(b.body, heads, REVIEW_SECTION_KEYS)
        for i, chunk in enumerate(chunks, 1):
            review, review_problems = read_simulated_review(chunk.sections, f"reviewer_{i}")
            reviewers.append(review)
            problems.extend(review_problems)
        if not chunks:
            problems.append(problem("simreviewers_empty", "no reviewer sections in \\boxed_simreviewers"))
        elif expected_reviewers is not None and len(chunks) != expected_reviewers:
            problems.append(problem("reviewer_count", f"{len(chunks)} simulated reviews, expected {expected_reviewers}"))
    elif mode in ("standard", "best"):
        problems.append(problem("boxed_simreviewers_missing"))
    if mode == "best" and "questions" not in by_name:
        problems.append(problem("boxed_questions_missing"))

    values: dict[str, float | None] = {key: None for key, _range in _SCORES}
    decision = None
    decision_rule = None
    meta_review = None
    review_usable = False
    if "review" in by_name:
        found = by_name["review"]
        b = found[-1]
        if len(found) > 1:
            problems.append(problem("boxed_review_repeated", f"{len(found)} blocks; the last is read"))
        note_unclosed(b)
        body = _INLINE_HEADING.sub("\n", b.body)
        meta_review = b.body.strip() or None
        contents: dict[str, str] = {}
        for head, content in section_texts(body, find_headings(body, _REVIEW_NAMES, reviewer=False)):
            contents.setdefault(head.key, content)
        for key, (lo, hi) in _SCORES:
            reading = parse_score(contents.get(key), lo, hi, field=key)
            values[key] = reading.value
            if reading.problem:
                problems.append(reading.problem)
        reading = read_decision(contents.get("decision"))
        decision = reading.decision
        if reading.problem:
            problems.append(reading.problem)
        else:
            decision_rule = "text"
        for key in _REVIEW_TEXT_KEYS:
            if contents.get(key):
                sections[key] = contents[key]
        review_usable = values["rating"] is not None or decision is not None
    else:
        problems.append(problem("boxed_review_missing", "no \\boxed_review block"))

    means = aggregate_reviewers(reviewers)
    filled = [key for key, _range in _SCORES if values[key] is None and means[key] is not None]
    for key in filled:
        values[key] = means[key]
    if "rating" in filled:
        read = sum(r.rating is not None for r in reviewers)
        problems.append(problem("rating_from_simreviewers", f"rating is the mean of {read} simulated reviewer ratings"))
    if any(key != "rating" for key in filled):
        problems.append(problem("scores_from_simreviewers", ", ".join(key for key in filled if key != "rating")))
    if decision is None and not review_usable and fallback_threshold is not None and values["rating"] is not None and "rating" in filled:
        decision = "accept" if values["rating"] >= fallback_threshold else "reject"
        decision_rule = f"fallback:simreviewers_mean>={fallback_threshold:g}"
        problems.append(problem("decision_from_threshold", f"no usable \\boxed_review; {decision_rule}"))

    if not blocks:
        return failed(problem("no_boxed_blocks", "no \\boxed_review or other \\boxed_ block"), *problems)
    return ParsedReview(
        status=status_for(values["rating"], decision),
        problems=tuple(problems),
        reviewers=tuple(reviewers),
        rating=values["rating"],
        soundness=values["soundness"],
        presentation=values["presentation"],
        contribution=values["contribution"],
        confidence=values["confidence"],
        decision=decision,
        decision_rule=decision_rule,
        meta_review=meta_review,
        sections=sections,
    )


# ---------------------------------------------------------------------------------------------
# Best mode's literature turn: the questions of the first answer, the answers turn


@dataclass(frozen=True, slots=True)
class SearchQuestions:
    """The literature-search questions of a Best-mode answer and what was wrong reading them (problem
    strings as the parser writes them: ``boxed_questions_missing``, ``boxed_questions_unclosed: ...``)."""

    questions: tuple[str, ...]
    problems: tuple[str, ...] = ()


# An item marker: "1.", "1)", "(1)", "1:", "Q1:", "Question 1:", "-", "*", "+", a bullet; then the question.
_ITEM_MARK = re.compile(
    r"^(?:(?:question|q)\s*\d{1,3}\s*[:.)\-]|\(?\d{1,3}[.):]|\(\d{1,3}\)|[-*+\u2022\u25cf\u25aa])\s+", re.I)
# A question longer than this (a small model's repetition loop) is cut at a word: it goes to every search
# and back into the answers turn.
MAX_QUESTION_CHARS = 1000
_HEADING_MARKS = re.compile(r"^#{1,6}\s*")
_EMPHASIS = re.compile(r"\*\*|__")


def _clean_question(text: str) -> str:
    text = _EMPHASIS.sub("", text)
    return " ".join(text.split()).strip(" \t*_`")


def _cut_question(text: str) -> str:
    cut = text[:MAX_QUESTION_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut[MAX_QUESTION_CHARS // 2:] else cut


def extract_search_questions(text: object, *, max_questions: int = 5) -> SearchQuestions:
    """Read the questions of ``\\boxed_questions{...}``; never raises.

    The block is cut out by :func:`find_boxed_blocks` (braces inside a question, ``$O(n^{2})$``, do not end
    it). Inside it, questions are numbered (``1.``, ``1)``, ``(1)``, ``Q1:``, ``Question 1:``, also as a
    markdown heading) or bulleted items, an item running on over the lines that follow it; with no marker at
    all, each line is a question (the released model writes one a line). Lines before the first item and
    lines ending in ``:`` without a ``?`` (an introduction) are not questions; ``**`` is dropped; repeats
    (case ignored) are kept once; at most ``max_questions`` are kept (``questions_capped``); a question over
    ``MAX_QUESTION_CHARS`` is cut at a word (``question_long``). An output that
    ends inside the block (truncated) is read, and its last item is kept only if it ends in ``?`` or ``.``
    (``question_cut`` otherwise).
    """
    if not isinstance(text, str) or not text.strip():
        return SearchQuestions((), (problem("empty_output"),))
    blocks = [b for b in find_boxed_blocks(text) if b.name == "questions"]
    if not blocks:
        return SearchQuestions((), (problem("boxed_questions_missing"),))
    problems: list[str] = []
    block = blocks[0]
    if len(blocks) > 1:
        problems.append(problem("boxed_questions_repeated", f"{len(blocks)} blocks; the first is read"))
    truncated = not block.closed and block.end == len(text)
    if not block.closed:
        problems.append(problem("boxed_questions_unclosed", "output ends inside the block (truncated)" if truncated
                                else "next block starts before it closes"))
    lines = [_HEADING_MARKS.sub("", _EMPHASIS.sub("", line).strip()).strip() for line in block.body.split("\n")]
    lines = [line for line in lines if line and line != "}"]
    marked = [bool(_ITEM_MARK.match(line)) for line in lines]
    items: list[str] = []
    if any(marked):
        current: list[str] | None = None
        for line, is_item in zip(lines, marked):
            if is_item:
                if current is not None:
                    items.append(" ".join(current))
                current = [_ITEM_MARK.sub("", line, count=1)]
            elif current is not None:
                current.append(line)
        if current is not None:
            items.append(" ".join(current))
    else:
        items = list(lines)
    questions = [_clean_question(q) for q in items]
    questions = [q for q in questions if q and not (q.endswith(":") and "?" not in q)]
    if truncated and questions and not questions[-1].endswith(("?", ".", "?)")):
        problems.append(problem("question_cut", f"last question {snippet(questions[-1])} is incomplete"))
        questions.pop()
    long = [i for i, q in enumerate(questions, 1) if len(q) > MAX_QUESTION_CHARS]
    if long:
        problems.append(problem("question_long", f"question(s) {', '.join(map(str, long[:5]))} over "
                                f"{MAX_QUESTION_CHARS} characters, cut"))
        questions = [_cut_question(q) if len(q) > MAX_QUESTION_CHARS else q for q in questions]
    unique: dict[str, str] = {}
    for q in questions:
        unique.setdefault(q.lower(), q)
    kept = list(unique.values())
    if len(kept) > max_questions:
        problems.append(problem("questions_capped", f"{len(kept)} questions, the first {max_questions} kept"))
        kept = kept[:max_questions]
    if not kept:
        problems.append(problem("questions_empty", "no question in \\boxed_questions"))
    return SearchQuestions(tuple(kept), tuple(problems))


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    """What the literature search found for one question: passages as the prompt shows them (title (year),
    abstract), a summariser's answer when one is used, and the retrieval error when the search failed."""

    question: str
    passages: tuple[str, ...] = ()
    answer: str | None = None
    error: str | None = None


# The literature search the run layer attaches: questions -> one SearchAnswer per question, in order.
SearchFn = Callable[[Sequence[str]], Sequence[SearchAnswer]]


def compose_answers_turn(answers: Sequence[SearchAnswer], *, with_answers: bool) -> str:
    """The user turn the original sends after the first answer: per question ``## Question i:``, the
    retrieved passages and (with a summariser) the answer, closed by ``**********``. The original's answer
    heading named its OpenScholar service; this one is ``### Answer:``, since the answer comes from whatever
    summariser model was configured."""
    parts: list[str] = []
    for i, a in enumerate(answers, 1):
        parts.append(f"## Question {i}:\n{a.question}")
        if a.passages:
            shown = "\n\n".join(f"[{j}] {p.strip()}" for j, p in enumerate(a.passages, 1))
            parts.append(f"### Retrieved Passages:\n{shown}")
        else:
            parts.append("### Retrieved Passages:\nNo information retrieved.")
        if with_answers:
            parts.append(f"### Answer:\n{a.answer.strip() if a.answer and a.answer.strip() else 'No answer retrieved.'}")
        parts.append("**********")
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Writer

_REVIEWER_SECTIONS = (
    ("summary", "Summary"),
    ("soundness", "Soundness"),
    ("presentation", "Presentation"),
    ("contribution", "Contribution"),
    ("strengths", "Strengths"),
    ("weaknesses", "Weaknesses"),
    ("questions", "Questions"),
    ("rating", "Rating"),
    ("confidence", "Confidence"),
)
_SCORE_RANGES = dict(_SCORES)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _check_score(key: str, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}{key} must be a number, not {value!r}")
    value = float(value)
    lo, hi = _SCORE_RANGES[key]
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"{where}{key}={value!r} is outside [{lo:g}, {hi:g}]")
    return value


def _final_score(value: float) -> str:
    return repr(value)  # "6.5", "3.0", "2.75": the shortest string that reads back to the same float


def _escape_text(text: str, names: Mapping[str, str]) -> str:
    text = text.replace("\\boxed_", "\\boxed\\_")
    text = _INLINE_HEADING.sub(lambda m: m.group(0) + "\\", text)
    return escape_conflicts(text, names)


def _check_text(text: Any, where: str, *, reviewer: bool, strict: bool, escape: bool) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"{where} must be a string, not {type(text).__name__}")
    text = text.strip()
    if not text:
        return None
    names = REVIEW_SECTION_NAMES if reviewer else _REVIEW_NAMES
    if escape:
        return _escape_text(text, names).strip()
    if strict:
        if "\\boxed_" in text:
            raise ValueError(f"{where} contains '\\boxed_', which would open a block")
        if conflicting_lines(text, names) or _INLINE_HEADING.search(text):
            raise ValueError(f"{where} contains a line that reads as a section heading or a separator")
    return text


def _check_block_text(text: Any, where: str, *, strict: bool, escape: bool) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"{where} must be a string, not {type(text).__name__}")
    text = text.strip()
    if escape:
        text = text.replace("\\boxed_", "\\boxed\\_")
    elif strict and "\\boxed_" in text:
        raise ValueError(f"{where} contains '\\boxed_', which would open a block")
    return text or None


def format_deepreviewer_output(
    review: ParsedReview | Mapping[str, Any], *, preamble: str | None = None, strict: bool = True, escape: bool = False
) -> str:
    """Write a review in DeepReviewer's output format (a training target).

    ``review`` is a :class:`ParsedReview` or a mapping with its field names: ``rating``, ``soundness``,
    ``presentation``, ``contribution``, ``confidence`` (numbers), ``decision`` ("accept"/"reject"),
    ``reviewers`` (SimulatedReview or mappings) and ``sections`` (``summary``, ``strengths``,
    ``weaknesses``, ``suggestions``, ``questions``, and the verbatim blocks ``search_questions``,
    ``analysis``, ``verification``). Blocks are written in the model's order; absent fields are left out.
    ``preamble`` is prose put before the first block.

    What :func:`parse_deepreviewer_output` reads back equals the input (texts stripped, scores as floats).
    With ``strict`` (the default) a value that could not read back so raises ``ValueError``: a text holding
    ``\\boxed_``, a ``*****`` line or a line that reads as a section heading, a score off its scale, a
    decision other than accept/reject, an unknown section key, a simulated reviewer with nothing in it.
    With ``escape``, such text lines are escaped instead (a backslash before the ``#`` or ``*``, ``\\boxed\\_``),
    and what reads back differs from the input by those backslashes.
    """
    sections = _get(review, "sections") or {}
    if not isinstance(sections, Mapping):
        raise ValueError("sections must be a mapping")
    unknown = sorted(set(sections) - _SECTION_KEYS)
    if unknown and strict:
        raise ValueError(f"sections {unknown} have no place in the DeepReviewer format")
    parts: list[str] = []
    if preamble is not None and preamble.strip():
        parts.append(_check_block_text(preamble, "preamble", strict=strict, escape=escape) or "")

    for name, key in (("questions", "search_questions"), ("analysis", "analysis")):
        body = _check_block_text(sections.get(key), f"sections[{key!r}]", strict=strict, escape=escape)
        if body:
            parts.append(f"\\boxed_{name}{{\n{body}\n}}")

    reviewers: Sequence[Any] = _get(review, "reviewers") or ()
    if reviewers:
        rendered = []
        for i, r in enumerate(reviewers, 1):
            where = f"reviewers[{i - 1}]."
            lines = [f"## Reviewer {i}"]
            for key, title in _REVIEWER_SECTIONS:
                value = _get(r, key)
                if value is None:
                    continue
                if key in _SCORE_RANGES:
                    body = render_form_score(key, _check_score(key, value, where))
                else:
                    body = _check_text(value, f"{where}{key}", reviewer=True, strict=strict, escape=escape)
                    if body is None:
                        continue
                lines.append(f"### {title}\n\n{body}")
            if len(lines) == 1 and strict:
                raise ValueError(f"reviewers[{i - 1}] has nothing to write; it would not read back")
            rendered.append("\n\n".join(lines) + "\n\n**********")
        parts.append("\\boxed_simreviewers{\n" + "\n\n".join(rendered) + "\n\n}")

    body = _check_block_text(sections.get("verification"), "sections['verification']", strict=strict, escape=escape)
    if body:
        parts.append(f"\\boxed_verification{{\n{body}\n}}")

    final: list[str] = []
    for key, title in _REVIEW_SECTIONS:
        if key == "decision":
            value = _get(review, "decision")
            if value is None:
                continue
            label = str(value).strip().lower()
            if label not in ("accept", "reject"):
                raise ValueError(f"decision must be 'accept' or 'reject', not {value!r}")
            body = label.capitalize()
        elif key in _SCORE_RANGES:
            value = _get(review, key)
            if value is None:
                continue
            body = _final_score(_check_score(key, value, ""))
        else:
            body = _check_text(sections.get(key), f"sections[{key!r}]", reviewer=False, strict=strict, escape=escape)
            if body is None:
                continue
        final.append(f"## {title}:\n\n{body}")
    if final:
        parts.append("\\boxed_review{\n" + "\n\n\n".join(final) + "\n}")
    return "\n\n".join(parts) + "\n"


RETRIEVERS = ("bm25", "semantic_scholar")
_RETRIEVER_ALIASES = {"bm25": "bm25", "s2": "semantic_scholar", "semanticscholar": "semantic_scholar",
                      "semantic_scholar": "semantic_scholar"}


def _positive_int(name: str, value: Any, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ValueError(f"{name} must be an integer in [1, {most}], not {value!r}")
    return value


def _text_option(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty text, not {value!r}")
    return value.strip()


class DeepReviewerProtocol(ReviewProtocol):
    """DeepReviewer in one of its modes (fast / standard / best).

    Sampling as in the original: temperature 0.4, top_p 0.95, served with max_model_len 90000. The
    ``max_tokens`` defaults (fast 8192, standard 16384, best 24576) are ours: about twice the published
    typical output length of each mode (~3,000 / ~8,000 / ~14,500 tokens), so long reviews are not cut.

    Best mode's literature turn (``retriever=bm25,index=PATH`` or ``retriever=s2``; ``top_k`` passages a
    question, optionally answered by a ``summarizer`` backend): as in the original, the first answer's
    ``\\boxed_questions`` go to a search, and the conversation continues with that answer and a user turn of
    the retrieved passages (:func:`compose_answers_turn`); the second answer is the review. No question, or
    nothing retrieved, keeps the first answer as the review (the reason is noted). The run layer attaches the
    search as ``search`` (:mod:`cyclebench.literature`); this class only names it. Without a retriever, Best
    mode is its first turn alone, as before.
    """

    name = "deepreviewer"
    default_sampling: Mapping[str, Any] = {"temperature": 0.4, "top_p": 0.95}
    max_model_len = 90000
    _MAX_TOKENS = {"fast": 8192, "standard": 16384, "best": 24576}

    def __init__(
        self,
        *,
        mode: str = "standard",
        reviewers: int = 4,
        fallback_threshold: float | None = 6.0,
        sampling: Mapping[str, Any] | None = None,
        retriever: str | None = None,
        index: str | None = None,
        top_k: int = 3,
        max_questions: int = 5,
        summarizer: str | None = None,
        summarizer_args: str | None = None,
        s2_url: str | None = None,
        s2_key_env: str | None = None,
    ):
        self.mode = normalise_mode(mode)
        if not isinstance(reviewers, int) or isinstance(reviewers, bool) or reviewers < 1:
            raise ValueError(f"reviewers must be a positive integer, not {reviewers!r}")
        self.reviewers = reviewers
        self.fallback_threshold = fallback_threshold
        super().__init__(sampling={"max_tokens": self._MAX_TOKENS[self.mode], **(sampling or {})})
        self.retriever = self._check_literature(retriever, index, summarizer, summarizer_args, s2_url, s2_key_env)
        self.index = None if index is None else str(index)
        self.top_k = _positive_int("top_k", top_k, 50)
        self.max_questions = _positive_int("max_questions", max_questions, 20)
        self.summarizer = _text_option("summarizer", summarizer)
        self.summarizer_args = _text_option("summarizer_args", summarizer_args)
        self.s2_url = _text_option("s2_url", s2_url)
        self.s2_key_env = _text_option("s2_key_env", s2_key_env)
        self.search: SearchFn | None = None  # attached by the run layer when a run opens the protocol

    def _check_literature(self, retriever: Any, index: Any, summarizer: Any, summarizer_args: Any, s2_url: Any,
                          s2_key_env: Any) -> str | None:
        if retriever is None:
            given = [n for n, v in (("index", index), ("summarizer", summarizer), ("summarizer_args", summarizer_args),
                                    ("s2_url", s2_url), ("s2_key_env", s2_key_env)) if v is not None]
            if given:
                raise ValueError(f"{', '.join(given)} need a retriever (retriever=bm25 or retriever=s2, with mode=best)")
            return None
        name = _RETRIEVER_ALIASES.get(str(retriever).strip().lower().replace("-", "_"))
        if name is None:
            raise ValueError(f"unknown retriever {retriever!r}; choices: bm25, s2 (Semantic Scholar)")
        if self.mode != "best":
            raise ValueError(f"retriever={retriever} is Best mode's literature turn; use mode=best (not {self.mode})")
        if name == "bm25" and (index is None or not str(index).strip()):
            raise ValueError("retriever=bm25 needs index=PATH (an index folder or a JSONL of abstracts)")
        if name == "bm25" and (s2_url is not None or s2_key_env is not None):
            raise ValueError("s2_url and s2_key_env are options of retriever=s2, not bm25")
        if name == "semantic_scholar" and index is not None:
            raise ValueError("index is an option of retriever=bm25, not s2")
        if summarizer_args is not None and summarizer is None:
            raise ValueError("summarizer_args need a summarizer=BACKEND")
        return name

    def literature(self) -> dict[str, Any] | None:
        """The literature turn's settings (None without a retriever): what the run layer opens."""
        if self.retriever is None:
            return None
        out: dict[str, Any] = {"retriever": self.retriever, "top_k": self.top_k, "max_questions": self.max_questions}
        if self.index is not None:
            out["index"] = self.index
        for key in ("summarizer", "summarizer_args", "s2_url", "s2_key_env"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "reviewers": self.reviewers, "fallback_threshold": self.fallback_threshold}
        literature = self.literature()
        if literature is not None:
            out["literature"] = literature
        return out

    def build_messages(self, paper_text: str, title: str | None = None) -> list[Message]:
        return build_deepreviewer_messages(paper_text, title, mode=self.mode, reviewers=self.reviewers)

    def next_turn(self, messages: Sequence[Message], answer: str, next_round: int) -> FollowUp:
        """Round 2 of Best mode with a retriever: the answers turn, or None with the reason in the notes."""
        if self.retriever is None or next_round != 2:
            return FollowUp(None)
        if self.search is None:
            raise RuntimeError("DeepReviewer Best mode has a retriever but no literature search was attached "
                               "(cyclebench.literature.attach_literature)")
        found = extract_search_questions(answer, max_questions=self.max_questions)
        note: dict[str, Any] = {"questions": list(found.questions), "question_problems": list(found.problems)}
        if not found.questions:
            return FollowUp(None, {"literature": {**note, "status": "fell_back", "reason": "no_questions"}})
        answers = list(self.search(found.questions))
        if len(answers) != len(found.questions):
            raise RuntimeError(f"literature search answered {len(answers)} of {len(found.questions)} questions")
        note.update(retrieved=[len(a.passages) for a in answers], errors=[a.error for a in answers],
                    summarized=sum(a.answer is not None for a in answers))
        if not any(a.passages for a in answers):
            reason = "retrieval_failed" if any(a.error for a in answers) else "nothing_retrieved"
            return FollowUp(None, {"literature": {**note, "status": "fell_back", "reason": reason}})
        turn = compose_answers_turn(answers, with_answers=self.summarizer is not None)
        return FollowUp([*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": turn}],
                        {"literature": {**note, "status": "answered", "reason": None}})

    def follow_up(self, messages: Sequence[Message], answer: str, next_round: int) -> list[Message] | None:
        return self.next_turn(messages, answer, next_round).messages

    def parse(self, output_text: str) -> ParsedReview:
        # With the literature turn, the questions are read (and their problems noted) from the first answer;
        # the review after the answers turn need not repeat them.
        return parse_deepreviewer_output(
            output_text,
            mode="standard" if self.retriever is not None else self.mode,
            expected_reviewers=self.reviewers if self.mode != "fast" else None,
            fallback_threshold=self.fallback_threshold,
        )

    def render(self, review: ParsedReview) -> str:
        return format_deepreviewer_output(review, escape=True, strict=False)
