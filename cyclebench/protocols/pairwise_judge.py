"""Pairwise review judging: a judge model compares two reviews of one paper, aspect by aspect.

The default prompt follows the DeepReview win-rate evaluation (``evaluate/DeepReview/win_rate_evaluate.py`` of the
DeepReviewer release, Zhu et al. 2025): paper text plus review A and review B, then for each of Technical
Accuracy, Constructive Value, Analytical Depth, Communication Clarity and an overall judgment, the evidence
followed by a verdict line ``Better Review: A / B / Tie`` (the original wrote "Better Assistant"; both are read).
The wording here is cyclebench's own; the aspects, their order and the verdict shape are the original's.

The parser reads one verdict per aspect and never guesses: an aspect whose section or verdict line is absent,
whose verdict line offers several answers ("A / B / Tie" echoed back) or whose section holds two different
verdicts is ``None`` with a problem (``<aspect>.verdict_missing``, ``.verdict_ambiguous``,
``.verdict_unreadable``). A missing verdict is never a tie. Pure: no I/O, no backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Mapping

from cyclebench.protocols.base import Message, check_paper_text, paper_with_title, problem, snippet

Verdict = Literal["A", "B", "tie"]
VERDICTS: tuple[str, ...] = ("A", "B", "tie")

# (key, title) in the order the prompt asks for them; "overall" is the headline aspect.
ASPECT_TITLES: dict[str, str] = {
    "technical_accuracy": "Technical Accuracy",
    "constructive_value": "Constructive Value",
    "analytical_depth": "Analytical Depth",
    "communication_clarity": "Communication Clarity",
    "overall": "Overall Judgment",
}
ASPECTS: tuple[str, ...] = tuple(ASPECT_TITLES)
OVERALL = "overall"

_ASPECT_QUESTIONS = {
    "technical_accuracy": "Which review's claims about the paper's methods, results and correctness are accurate "
                          "and supported by the paper?",
    "constructive_value": "Which review gives the authors more actionable, specific suggestions for improving the "
                          "work?",
    "analytical_depth": "Which review engages more deeply with the paper's core ideas, assumptions and limitations, "
                        "rather than surface features?",
    "communication_clarity": "Which review is clearer, better organised and easier for the authors to act on?",
    "overall": "Taking all aspects into account, which review is more useful to the authors and the area chair?",
}

_SYSTEM = (
    "You are an expert meta-reviewer for a machine learning conference. You compare two peer reviews (Review A and "
    "Review B) of the same paper and judge which review is better. Judge the reviews, not the paper. Do not let the "
    "order in which the reviews are shown, their length or their style decide your judgment."
)


def _instructions() -> str:
    blocks = []
    for i, (key, title) in enumerate(ASPECT_TITLES.items(), 1):
        blocks.append(f"### {i}. {title}\n{_ASPECT_QUESTIONS[key]}\nEvidence: <quote or cite both reviews>\n"
                      "Better Review: <A, B or Tie>")
    return ("Compare the two reviews on each aspect below. For each aspect write its heading, one short evidence "
            "paragraph, then exactly one verdict line `Better Review: A`, `Better Review: B` or `Better Review: "
            "Tie`. Use this format:\n\n" + "\n\n".join(blocks))


def _cut(text: str, limit: int | None, what: str) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[:limit] + f"\n\n[... {what} cut at {limit} characters ...]"


@dataclass(frozen=True)
class PairwiseVerdicts:
    """What the judge said about one ordered pair: a verdict per aspect (``None`` where it could not be read),
    the evidence text per aspect, and every problem (``"<aspect>.<reason>: detail"``)."""

    verdicts: dict[str, Verdict | None]
    evidence: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """"ok" (every aspect read), "partial" (some), "failed" (none)."""
        read = sum(v is not None for v in self.verdicts.values())
        return "ok" if read == len(self.verdicts) else "partial" if read else "failed"


# An aspect heading: a line (markdown heading, bold, numbered) that is the aspect's title alone or the title and a
# colon or dash ("**Technical Accuracy**: ..."); prose such as "Overall, both reviews ..." is not a heading.
_TITLE_WORDS = {
    "technical_accuracy": r"technical\s+accuracy",
    "constructive_value": r"constructive\s+value",
    "analytical_depth": r"analytical\s+depth",
    "communication_clarity": r"communication\s+clarity",
    "overall": r"overall(?:\s+(?:judg(?:e)?ment|assessment|verdict|comparison|evaluation))?",
}
_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*(?:\d+[.)][ \t]*)?(?:\*\*|__)?[ \t]*(?P<title>"
    + "|".join(f"(?P<{k}>{v})" for k, v in _TITLE_WORDS.items())
    + r")\b[ \t]*(?:\*\*|__)?[ \t]*(?:[:\-\u2014\uff1a]|(?=\n|$))[ \t]*(?:\*\*|__)?(?P<rest>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_VERDICT_LINE = re.compile(
    r"better[ \t]+(?:assistant|review(?:er)?|response)?[ \t]*(?:\*\*|__)?[ \t]*[:\uff1a][ \t]*(?P<value>[^\n]*)",
    re.IGNORECASE,
)
_VALUE = re.compile(r"^(?:(?:review(?:er)?|assistant|response)[ \t]+)?(?P<v>a|b|tie|equal|neither|both)\b", re.I)
_DECORATION = re.compile(r"[*_`\"'\[\]()<>]")
_ALTERNATIVES = re.compile(r"\b(?:a|b|tie)\b[ \t]*(?:/|\bor\b|\||,)[ \t]*\b(?:a|b|tie)\b", re.IGNORECASE)
_TIE_WORDS = {"tie", "equal", "neither", "both"}


def read_verdict(value: str) -> tuple[Verdict | None, str | None]:
    """One verdict line's value to ``A`` / ``B`` / ``tie``, or ``(None, reason)``: ``verdict_ambiguous`` for
    offered alternatives (``A / B / Tie``), ``verdict_unreadable`` for anything else."""
    text = " ".join(_DECORATION.sub(" ", value).split())
    if not text:
        return None, problem("verdict_missing", "empty verdict line")
    if _ALTERNATIVES.search(text):
        return None, problem("verdict_ambiguous", snippet(text))
    match = _VALUE.match(text)
    if not match:
        return None, problem("verdict_unreadable", snippet(text))
    word = match.group("v").lower()
    return ("tie" if word in _TIE_WORDS else word.upper()), None  # type: ignore[return-value]


def parse_pairwise_output(text: object, aspects: tuple[str, ...] = ASPECTS) -> PairwiseVerdicts:
    """Read the verdict of each aspect from a judge's output. Never raises.

    The output is cut into sections at aspect headings (the first heading of each aspect starts its section;
    a section ends at the next aspect's heading). Within a section the verdict lines (``Better Review: X``,
    ``Better Assistant: X``) decide: all that can be read must agree, and at least one must be readable.
    """
    empty: dict[str, Verdict | None] = {a: None for a in aspects}
    if not isinstance(text, str) or not text.strip():
        return PairwiseVerdicts(empty, {}, tuple(f"{a}.{problem('empty_output')}" for a in aspects))
    starts: dict[str, tuple[int, int, str]] = {}
    for m in _HEADING.finditer(text):
        key = next(k for k in _TITLE_WORDS if m.group(k))
        if key in aspects and key not in starts:
            starts[key] = (m.start(), m.start("rest"), m.group("rest"))
    order = sorted(starts.items(), key=lambda kv: kv[1][0])
    verdicts, evidence, problems = dict(empty), {}, []
    for i, (key, (start, body_start, _)) in enumerate(order):
        end = order[i + 1][1][0] if i + 1 < len(order) else len(text)
        section = text[body_start:end]
        lines = list(_VERDICT_LINE.finditer(section))
        read: list[Verdict] = []
        reasons: list[str] = []
        for line in lines:
            verdict, reason = read_verdict(line.group("value"))
            if verdict is not None:
                read.append(verdict)
            elif reason:
                reasons.append(reason)
        evidence[key] = (section[: lines[0].start()] if lines else section).strip()
        if len(set(read)) == 1:
            verdicts[key] = read[0]
        elif len(set(read)) > 1:
            problems.append(f"{key}." + problem("verdict_ambiguous", f"conflicting verdicts {sorted(set(read))}"))
        elif reasons:
            problems.append(f"{key}.{reasons[0]}")
        else:
            problems.append(f"{key}." + problem("verdict_missing", "no 'Better Review:' line"))
    for key in aspects:
        if key not in starts:
            problems.append(f"{key}." + problem("verdict_missing", "no section"))
    return PairwiseVerdicts(verdicts, evidence, tuple(problems))


def render_pairwise_output(verdicts: Mapping[str, Verdict], evidence: Mapping[str, str] | None = None) -> str:
    """A judge output in the prompt's format, which :func:`parse_pairwise_output` reads back (fake judges)."""
    label = {"A": "A", "B": "B", "tie": "Tie"}
    blocks = []
    for i, key in enumerate(ASPECTS, 1):
        if key in verdicts:
            blocks.append(f"### {i}. {ASPECT_TITLES[key]}\nEvidence: {(evidence or {}).get(key, 'as compared')}\n"
                          f"Better Review: {label[verdicts[key]]}")
    return "\n\n".join(blocks)


class PairwiseJudgeProtocol:
    """DeepReview-style pairwise judging of two reviews (four aspects and overall; A / B / Tie with evidence).

    ``max_paper_chars`` / ``max_review_chars`` cut the paper and each review (with a marker saying so) for
    judges with a short context; None shows them whole, as the original did."""

    name: ClassVar[str] = "pairwise"
    # The original judged at temperature 0.
    default_sampling: ClassVar[Mapping[str, Any]] = {"temperature": 0.0, "max_tokens": 2048}
    aspects: ClassVar[tuple[str, ...]] = ASPECTS

    def __init__(self, *, max_paper_chars: int | None = None, max_review_chars: int | None = None,
                 sampling: Mapping[str, Any] | None = None):
        for label, value in (("max_paper_chars", max_paper_chars), ("max_review_chars", max_review_chars)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"pairwise protocol: {label} must be a positive integer, not {value!r}")
        self.max_paper_chars = max_paper_chars
        self.max_review_chars = max_review_chars
        self.sampling: dict[str, Any] = {**self.default_sampling, **(sampling or {})}

    def options(self) -> dict[str, Any]:
        return {"max_paper_chars": self.max_paper_chars, "max_review_chars": self.max_review_chars}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "options": self.options(), "sampling": dict(self.sampling),
                "aspects": list(self.aspects), "credit": "aspects and verdict format of DeepReview's "
                "evaluate/DeepReview/win_rate_evaluate.py (Zhu et al., 2025)"}

    def build_messages(self, paper_text: str, review_a: str, review_b: str, title: str | None = None) -> list[Message]:
        """System prompt, then the paper, Review A, Review B and the answer format as the user turn."""
        paper = _cut(paper_with_title(paper_text, title), self.max_paper_chars, "paper")
        reviews = []
        for label, review in (("A", review_a), ("B", review_b)):
            check_paper_text(review)  # an empty review is the caller's error (it should have been skipped)
            reviews.append(f"## Review {label}\n\n{_cut(review.strip(), self.max_review_chars, 'review')}")
        user = (f"## Paper\n\n{paper}\n\n" + "\n\n".join(reviews) + "\n\n## Your task\n\n" + _instructions())
        return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]

    def parse(self, output_text: object) -> PairwiseVerdicts:
        return parse_pairwise_output(output_text, self.aspects)

    def __repr__(self) -> str:
        return f"PairwiseJudgeProtocol({self.options()})"
