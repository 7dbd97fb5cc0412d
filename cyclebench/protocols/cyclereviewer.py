"""CycleReviewer (WestlakeNLP/CycleReviewer-ML-Llama3.1-{8B,70B}, CycleReviewer-ML-Pro-123B).

The model is given a fixed system prompt and the paper as the user turn, and writes four simulated reviews,
a meta review and a decision. Two dialects, both read by :func:`parse_cyclereviewer_output` and written by
:func:`format_cyclereviewer_output` (training targets):

* Llama (8B/70B): reviews separated by a ``**********`` line, sections ``## Summary``, ``## Soundness``,
  ``## Presentation``, ``## Contribution``, ``## Strengths``, ``## Weaknesses``, ``## Questions``,
  ``## Flag For Ethics Review``, ``## Rating``, ``## Confidence``; then ``## Meta Review`` and
  ``## Paper Decision``.
* 123B: each review opens with ``## Reviewer`` and has ``### Summary`` ... subsections (real outputs also
  keep the ``**********`` separators); the meta review may hold ``### justification_for_why_not_higher_score``
  and ``### justification_for_why_not_lower_score``.

Aggregates, unlike the original parser: the rating is the mean of the simulated ratings *that could be read*
(a missing one is reported, not counted as 0; "10: ..." is 10, not 1); the summary of each review is kept;
the decision follows :func:`~cyclebench.protocols.base.read_decision`; an output that cannot be read comes back
as ``status="failed"`` with its reasons, not dropped.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from cyclebench.protocols.base import (
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
    problem,
    read_decision,
    read_simulated_review,
    render_form_score,
    section_texts,
    split_reviewers,
    status_for,
)
from cyclebench.records import ParsedReview, SimulatedReview

# The system prompt of the original package, kept as the models were trained with it (its odd indentation
# included); only the number of review opinions is a parameter.
_SYSTEM_PROMPT = (
    "You are an expert academic reviewer tasked with providing a thorough and balanced evaluation of research "
    "papers. For each paper submitted, conduct a comprehensive review addressing the following aspects:\n"
    "    \n"
    "            1. Summary: Briefly outline main points and objectives.\n"
    "            2. Soundness: Assess methodology and logical consistency.\n"
    "            3. Presentation: Evaluate clarity, organization, and visual aids.\n"
    "            4. Contribution: Analyze significance and novelty in the field.\n"
    "            5. Strengths: Identify the paper's strongest aspects.\n"
    "            6. Weaknesses: Point out areas for improvement.\n"
    "            7. Questions: Pose questions for the authors.\n"
    "            8. Rating: Score 1-10, justify your rating.\n"
    "            9. Meta Review: Provide overall assessment and recommendation (Accept/Reject).\n"
    "    \n"
    "            Maintain objectivity and provide specific examples from the paper to support your evaluation.\n"
    "    \n"
    "            You need to fill out **{reviewers}** review opinions."
)

_SECTION_NAMES: dict[str, str] = {
    **REVIEW_SECTION_NAMES,
    "meta review": "meta_review",
    "metareview": "meta_review",
    "paper decision": "paper_decision",
    "final decision": "paper_decision",
    "justification for why not higher score": "justification_for_why_not_higher_score",
    "justification for why not lower score": "justification_for_why_not_lower_score",
}
_META_KEYS = ("meta_review", "paper_decision")
# Text sections a complete simulated review has; a missing one is named in the problems (missing scores
# are named by the score reader).
_TEXT_SECTIONS = ("summary", "strengths", "weaknesses", "questions")


def system_prompt(reviewers: int = 4) -> str:
    return _SYSTEM_PROMPT.format(reviewers=reviewers)


def build_cyclereviewer_messages(paper_text: str, title: str | None = None, *, reviewers: int = 4) -> list[Message]:
    """System prompt + the paper as the user turn (no truncation: the original sent the whole text)."""
    return [
        {"role": "system", "content": system_prompt(reviewers)},
        {"role": "user", "content": paper_with_title(paper_text, title)},
    ]


def parse_cyclereviewer_output(text: object, *, expected_reviewers: int | None = 4) -> ParsedReview:
    """Read a CycleReviewer output (either dialect). Never raises.

    ``rating`` and the aspect scores are means over the simulated reviews whose score was read; reviews
    whose rating failed are counted in a ``reviewer_ratings_failed`` problem. ``decision`` is read from the
    first ``## Paper Decision`` section with ``decision_rule="text"``. ``meta_review`` is the meta review text
    (without its justification subsections, which go to ``sections``).
    """
    if not isinstance(text, str) or not text.strip():
        return failed(problem("empty_output"))
    headings = find_headings(text, _SECTION_NAMES)
    contents = {h.start: c for h, c in section_texts(text, headings)}
    meta_heads = [h for h in headings if h.key in _META_KEYS]
    meta_start = meta_heads[0].start if meta_heads else len(text)
    chunks = split_reviewers(text, headings, REVIEW_SECTION_KEYS, end=meta_start)
    problems: list[str] = []

    reviewers = []
    for i, chunk in enumerate(chunks, 1):
        review, review_problems = read_simulated_review(chunk.sections, f"reviewer_{i}")
        reviewers.append(review)
        problems.extend(review_problems)
        missing = [k for k in _TEXT_SECTIONS if not chunk.sections.get(k)]
        if missing:
            problems.append(problem(f"reviewer_{i}.sections_missing", ", ".join(missing)))
    if expected_reviewers is not None and chunks and len(chunks) != expected_reviewers:
        problems.append(problem("reviewer_count", f"{len(chunks)} simulated reviews, expected {expected_reviewers}"))

    scores = aggregate_reviewers(reviewers)
    read = sum(r.rating is not None for r in reviewers)
    if not reviewers:
        problems.append(problem("rating_missing", "no simulated review found"))
    elif read == 0:
        problems.append(problem("rating_missing", f"none of {len(reviewers)} simulated ratings could be read"))
    elif read < len(reviewers):
        problems.append(
            problem("reviewer_ratings_failed", f"{len(reviewers) - read} of {len(reviewers)} simulated ratings unreadable; rating is the mean of {read}")
        )

    sections: dict[str, str] = {}
    meta_review = None
    decision = None
    decision_heads = [h for h in headings if h.key == "paper_decision" and h.start >= meta_start]
    review_heads = [h for h in headings if h.key == "meta_review"]
    if review_heads:
        meta_review = contents[review_heads[0].start] or None
    for h in headings:
        if h.key.startswith("justification_") and h.start >= meta_start and h.key not in sections and contents[h.start]:
            sections[h.key] = contents[h.start]
    if decision_heads:
        raw = contents[decision_heads[0].start]
        if raw:
            sections["paper_decision"] = raw
        reading = read_decision(raw)
        decision = reading.decision
        if reading.problem:
            problems.append(reading.problem)
        if len(decision_heads) > 1:
            problems.append(problem("paper_decision_repeated", f"{len(decision_heads)} sections; the first is read"))
    else:
        problems.append(problem("decision_missing", "no Paper Decision section"))
        if meta_review is not None:
            problems.append(problem("truncated", "output ends after the meta review, before the Paper Decision"))
        elif chunks and (not chunks[-1].closed or "rating" not in chunks[-1].sections):
            problems.append(problem("truncated", f"output ends inside simulated review {len(chunks)}"))
        elif chunks:
            problems.append(problem("truncated", f"output ends after simulated review {len(chunks)}, before the meta review"))

    if not reviewers and not decision_heads and meta_review is None:
        return failed(problem("no_review_found", "none of the expected headings (Summary, Rating, Meta Review, Paper Decision)"), *problems)

    return ParsedReview(
        status=status_for(scores["rating"], decision),
        problems=tuple(problems),
        reviewers=tuple(reviewers),
        rating=scores["rating"],
        soundness=scores["soundness"],
        presentation=scores["presentation"],
        contribution=scores["contribution"],
        confidence=scores["confidence"],
        decision=decision,
        decision_rule="text" if decision is not None else None,
        meta_review=meta_review,
        sections=sections,
    )


# ---------------------------------------------------------------------------------------------
# Writer

_REVIEW_ORDER = (
    ("summary", "Summary"),
    ("soundness", "Soundness"),
    ("presentation", "Presentation"),
    ("contribution", "Contribution"),
    ("strengths", "Strengths"),
    ("weaknesses", "Weaknesses"),
    ("questions", "Questions"),
    ("flag_for_ethics_review", "Flag For Ethics Review"),
    ("rating", "Rating"),
    ("confidence", "Confidence"),
)
_SCORE_KEYS = frozenset({"soundness", "presentation", "contribution", "rating", "confidence"})
_REVIEW_KEYS = frozenset(k for k, _title in _REVIEW_ORDER)
SEPARATOR = "**********"


def _text(value: Any, where: str, escape: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{where} must be a string or a number, not {value!r}")
    if isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a string, not {value!r}")
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, not {type(value).__name__}")
    value = value.strip()
    if not value:
        return None
    if escape:
        return escape_conflicts(value, _SECTION_NAMES).strip()
    bad = conflicting_lines(value, _SECTION_NAMES)
    if bad:
        raise ValueError(f"{where} has a line that reads as a heading or separator: {bad[0]!r}")
    return value


def _score(value: Any, key: str, where: str, escape: bool) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{where} is not a finite number: {value!r}")
        return render_form_score(key, float(value))
    return _text(value, where, escape)  # a score as the form wrote it: "6: marginally above ...", "3 good"


def format_cyclereviewer_output(
    reviews: Sequence[SimulatedReview | Mapping[str, Any]],
    meta_review: str | None = None,
    decision: str | None = None,
    *,
    dialect: str = "llama",
    justification_for_why_not_higher_score: str | None = None,
    justification_for_why_not_lower_score: str | None = None,
    escape: bool = True,
) -> str:
    """Write reviews, a meta review and a decision as a CycleReviewer answer (a training target).

    ``reviews`` are :class:`SimulatedReview` or mappings with the keys ``summary``, ``soundness``,
    ``presentation``, ``contribution``, ``strengths``, ``weaknesses``, ``questions``,
    ``flag_for_ethics_review``, ``rating``, ``confidence``. A score is written as given when it is a string
    (the form's own ``"6: marginally above the acceptance threshold"``, ``"3 good"``) and with its form label
    when it is a number; ``None`` or empty leaves the section out. ``decision`` is written as given
    ("Accept", "Reject", "Accept (poster)"). ``dialect`` is ``"llama"`` (``## Summary`` sections) or
    ``"123b"`` (``## Reviewer`` then ``### Summary``); reviews are separated by ``**********`` in both.

    :func:`parse_cyclereviewer_output` reads back the same texts (stripped) and scores. Human review texts
    often hold markdown headings ("## Strengths" inside a main review): with ``escape`` (the default) a
    text line that would read as a section heading or a separator gets a backslash before its ``#`` or
    ``*`` (Markdown's escape); with ``escape=False`` it raises ``ValueError``. A review with nothing to
    write, or an unknown key, raises ``ValueError``.
    """
    if dialect not in ("llama", "123b"):
        raise ValueError(f"dialect must be 'llama' or '123b', not {dialect!r}")
    heading = "##" if dialect == "llama" else "###"
    blocks: list[str] = []
    for i, review in enumerate(reviews):
        where = f"reviews[{i}]"
        if isinstance(review, SimulatedReview):
            values = {k: getattr(review, k) for k in _REVIEW_KEYS if hasattr(review, k)}
        elif isinstance(review, Mapping):
            unknown = sorted(str(k) for k in review if k not in _REVIEW_KEYS)
            if unknown:
                raise ValueError(f"{where} has keys the review form does not have: {unknown}")
            values = dict(review)
        else:
            raise ValueError(f"{where} must be a SimulatedReview or a mapping, not {type(review).__name__}")
        parts = []
        for key, title in _REVIEW_ORDER:
            value = values.get(key)
            body = _score(value, key, f"{where}.{key}", escape) if key in _SCORE_KEYS else _text(value, f"{where}.{key}", escape)
            if body is not None:
                parts.append(f"{heading} {title}\n\n{body}")
        if not parts:
            raise ValueError(f"{where} has nothing to write")
        if dialect == "123b":
            parts.insert(0, "## Reviewer")
        blocks.append("\n\n".join(parts))
    meta = _text(meta_review, "meta_review", escape)
    if meta is not None:
        meta_parts = [f"## Meta Review\n\n{meta}"]
        for key, value in (
            ("justification_for_why_not_higher_score", justification_for_why_not_higher_score),
            ("justification_for_why_not_lower_score", justification_for_why_not_lower_score),
        ):
            body = _text(value, key, escape)
            if body is not None:
                meta_parts.append(f"### {key}\n\n{body}")
        blocks.append("\n\n".join(meta_parts))
    elif justification_for_why_not_higher_score or justification_for_why_not_lower_score:
        raise ValueError("justifications belong to a meta review; meta_review is missing")
    verdict = _text(decision, "decision", escape)
    if verdict is not None:
        blocks.append(f"## Paper Decision\n\n{verdict}")
    return f"\n\n{SEPARATOR}\n\n".join(blocks)


class CycleReviewerProtocol(ReviewProtocol):
    """CycleReviewer: four simulated reviews, a meta review and a decision.

    Generation settings of the original: temperature 0.4, top_p 0.95, max_tokens 7000, served with
    max_model_len 50000 and no input truncation.
    """

    name = "cyclereviewer"
    default_sampling: Mapping[str, Any] = {"temperature": 0.4, "top_p": 0.95, "max_tokens": 7000}
    max_model_len = 50000

    def __init__(self, *, reviewers: int = 4, sampling: Mapping[str, Any] | None = None):
        super().__init__(sampling=sampling)
        if not isinstance(reviewers, int) or isinstance(reviewers, bool) or reviewers < 1:
            raise ValueError(f"reviewers must be a positive integer, not {reviewers!r}")
        self.reviewers = reviewers

    def options(self) -> dict[str, Any]:
        return {"reviewers": self.reviewers}

    def build_messages(self, paper_text: str, title: str | None = None) -> list[Message]:
        return build_cyclereviewer_messages(paper_text, title, reviewers=self.reviewers)

    def parse(self, output_text: str) -> ParsedReview:
        return parse_cyclereviewer_output(output_text, expected_reviewers=self.reviewers)

    def render(self, review: ParsedReview) -> str:
        reviewers = list(review.reviewers) or [
            SimulatedReview(rating=review.rating, soundness=review.soundness, presentation=review.presentation,
                            contribution=review.contribution, confidence=review.confidence)
        ]
        decision = None if review.decision is None else review.decision.capitalize()
        return format_cyclereviewer_output(reviewers, review.meta_review, decision)
