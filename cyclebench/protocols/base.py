"""Review protocols: how a review model is prompted, and how its output is read back.

A protocol is a pair of pure functions: ``build_messages`` (paper text -> chat messages) and ``parse``
(model output -> :class:`~cyclebench.records.ParsedReview`). No I/O, no model imports: a backend sends the
messages, the protocol reads what came back.

Parsers never raise on a string. What cannot be read becomes a *problem*: a string ``"key"`` or
``"key: detail"`` whose key (the part before the first ``": "``) is stable, so an evaluation can count
failures by reason (``rating_missing``, ``rating_out_of_range``, ``decision_unclear``, ``truncated`` ...).
A missing score is ``None`` with a problem, never 0.

Shared here: the base class and registry, score reading (:func:`parse_score`), decision reading
(:func:`read_decision`), and the markdown helpers the CycleReviewer and DeepReviewer parsers both use.
"""

from __future__ import annotations

import bisect
import importlib
import inspect
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Iterable, Literal, Mapping, NamedTuple, Sequence

from cyclebench.records import ParsedReview, ParseStatus, SimulatedReview

Message = dict[str, str]
Decision = Literal["accept", "reject"]

# ---------------------------------------------------------------------------------------------
# Registry


_PROTOCOLS: dict[str, str] = {
    "cyclereviewer": "cyclebench.protocols.cyclereviewer:CycleReviewerProtocol",
    "deepreviewer": "cyclebench.protocols.deepreviewer:DeepReviewerProtocol",
    "aiscientist": "cyclebench.protocols.aiscientist:AIScientistProtocol",
}


# Pairwise judging protocols (two reviews of one paper -> a verdict per aspect): not review protocols, so
# `evaluate model` never takes one; `evaluate pairwise` builds them with :func:`get_pairwise_protocol`.
_PAIRWISE_PROTOCOLS: dict[str, str] = {
    "pairwise": "cyclebench.protocols.pairwise_judge:PairwiseJudgeProtocol",
}


def get_pairwise_protocol(name: str, **options: Any) -> Any:
    """Build a pairwise judging protocol by name (``"pairwise"``); unknown names and options raise."""
    target = _PAIRWISE_PROTOCOLS.get(_normalise_name(name)) if isinstance(name, str) else None
    if target is None:
        raise KeyError(f"unknown pairwise protocol {name!r}; choices: {', '.join(_PAIRWISE_PROTOCOLS)}")
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    unknown = sorted(set(options) - set(protocol_options(cls)))
    if unknown:
        raise ValueError(f"pairwise protocol {name}: unknown option(s) {', '.join(unknown)}; "
                         f"known: {', '.join(protocol_options(cls))}")
    return cls(**options)


def _normalise_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def available_protocols() -> tuple[str, ...]:
    """Names :func:`get_protocol` accepts."""
    return tuple(_PROTOCOLS)


def available_pairwise_protocols() -> tuple[str, ...]:
    """Names :func:`get_pairwise_protocol` accepts."""
    return tuple(_PAIRWISE_PROTOCOLS)


def protocol_spec(name: str) -> str:
    """Where a registered review or pairwise protocol lives (``"module:Class"``), without importing it: what
    a catalogue reads to describe it."""
    key = _normalise_name(name)
    target = _PROTOCOLS.get(key) or _PAIRWISE_PROTOCOLS.get(key)
    if target is None:
        raise KeyError(f"unknown protocol {name!r}; choices: {', '.join([*_PROTOCOLS, *_PAIRWISE_PROTOCOLS])}")
    return target


def get_protocol(name: str, **options: Any) -> "ReviewProtocol":
    """Build a protocol by name (``"cyclereviewer"``, ``"deepreviewer"``, ``"aiscientist"``).

    The module is imported only when asked for. ``options`` go to the protocol's constructor
    (e.g. ``get_protocol("deepreviewer", mode="best", reviewers=4)``); an unknown option raises
    ``ValueError`` naming the known ones. Case, spaces, ``-`` and ``_`` in the name are ignored (``"AI-Scientist"`` works).
    """
    if not isinstance(name, str):
        raise TypeError(f"protocol name must be a string, not {type(name).__name__}")
    target = _PROTOCOLS.get(_normalise_name(name))
    if target is None:
        raise KeyError(f"unknown review protocol {name!r}; choices: {', '.join(_PROTOCOLS)}")
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    known = protocol_options(cls)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"protocol {_normalise_name(name)}: unknown option(s) {', '.join(unknown)} "
                         f"(--protocol-args); known: {', '.join(known)}")
    return cls(**options)


def protocol_options(cls: type) -> tuple[str, ...]:
    """The keyword options a protocol class takes (its constructor's named parameters), sorted."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    return tuple(sorted(p.name for p in parameters
                        if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)))


@dataclass(frozen=True)
class FollowUp:
    """The next request of a multi-turn review (``messages``; None: the review is done) and ``notes``, a
    JSON-able mapping of what happened deciding it (``{"literature": {...}}``), merged into the paper's notes."""

    messages: list[Message] | None
    notes: Mapping[str, Any] = field(default_factory=dict)


class ReviewProtocol(ABC):
    """One way of asking a model for a review and reading the answer.

    Subclasses set ``name`` and ``default_sampling`` and implement :meth:`build_messages` and
    :meth:`parse`. ``sampling`` holds the generation settings the original system used
    (temperature, top_p, max_tokens); a backend may override them, and a run records what it used.
    """

    name: ClassVar[str] = ""
    default_sampling: ClassVar[Mapping[str, Any]] = {}
    # Context window the original served the model with (None where it is not the protocol's concern).
    max_model_len: ClassVar[int | None] = None

    def __init__(self, *, sampling: Mapping[str, Any] | None = None):
        merged = dict(self.default_sampling)
        if sampling:
            merged.update(sampling)
        self.sampling: dict[str, Any] = merged

    # The options a protocol was built with, for a run's header. Subclasses extend.
    def options(self) -> dict[str, Any]:
        return {}

    def describe(self) -> dict[str, Any]:
        """Name, options and sampling settings: what a results header records about the protocol."""
        return {"name": self.name, "options": self.options(), "sampling": dict(self.sampling)}

    @abstractmethod
    def build_messages(self, paper_text: str, title: str | None = None) -> list[Message]:
        """The chat messages that ask the model to review this paper."""

    @abstractmethod
    def parse(self, output_text: str) -> ParsedReview:
        """What the model's output says; never raises on a string (problems name what failed)."""

    def follow_up(self, messages: Sequence[Message], answer: str, next_round: int) -> list[Message] | None:
        """The messages of request ``next_round`` (2, 3, ...) of a multi-turn review, given the conversation
        so far and its last answer; None when the review is done. One-turn protocols are done at once; the
        judge (:mod:`cyclebench.judge`) drives the rounds."""
        return None

    def next_turn(self, messages: Sequence[Message], answer: str, next_round: int) -> "FollowUp":
        """:meth:`follow_up` with what the protocol noted deciding it (the judge records the notes in the
        paper's prediction). The default notes nothing; DeepReviewer Best mode notes its literature turn."""
        return FollowUp(self.follow_up(messages, answer, next_round))

    @abstractmethod
    def render(self, review: ParsedReview) -> str:
        """Write ``review`` in this protocol's output format, so that ``parse(render(r))`` reads back its
        rating, aspects and decision. CPU baselines answer through it; builders write targets with it."""

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"


def check_paper_text(paper_text: object) -> str:
    """A prompt needs a non-empty paper: anything else is a caller error, raised at once."""
    if not isinstance(paper_text, str):
        raise TypeError(f"paper_text must be a string, not {type(paper_text).__name__}")
    if not paper_text.strip():
        raise ValueError("paper_text is empty")
    return paper_text


def paper_with_title(paper_text: str, title: str | None) -> str:
    """The paper text with ``# title`` in front, unless the title already opens the text.

    The original models were given the paper text alone (which begins with its title); a title is only
    added when the text does not already show it in its first 1,000 characters (case and spacing ignored).
    """
    paper_text = check_paper_text(paper_text)
    if title is None or not str(title).strip():
        return paper_text
    title = " ".join(str(title).split())
    head = " ".join(paper_text[:1000].split()).lower()
    if title.lower() in head:
        return paper_text
    return f"# {title}\n\n{paper_text}"


# ---------------------------------------------------------------------------------------------
# Problems and status


def problem(key: str, detail: str = "") -> str:
    return f"{key}: {detail}" if detail else key


def status_for(rating: float | None, decision: str | None) -> ParseStatus:
    """"ok" when rating and decision were both read, "partial" when one was, "failed" otherwise."""
    have = (rating is not None) + (decision is not None)
    return "ok" if have == 2 else "partial" if have == 1 else "failed"


def failed(*problems: str, **fields: Any) -> ParsedReview:
    return ParsedReview(status="failed", problems=tuple(problems), **fields)


def snippet(text: object, limit: int = 40) -> str:
    """A short, single-line ``repr`` of a value for a problem detail."""
    s = text if isinstance(text, str) else repr(text)
    s = " ".join(s.split())
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return repr(s)


# ---------------------------------------------------------------------------------------------
# Scores


class ScoreReading(NamedTuple):
    value: float | None
    problem: str | None  # None when the value was read


# Decoration a model puts before a number: spaces, markdown emphasis, quotes, brackets, a bullet.
_SCORE_LEAD = re.compile(r"^[\s*_`'\"\[(>#]*(?:[-\u2022]\s+)?[\s*_`'\"\[(]*")
# A number that is not part of a longer token: "10:" is 10, "3 good" is 3, "3.25" is 3.25, "6." is 6,
# "12abc" and "3.25x" are not numbers.
_LEADING_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?![0-9A-Za-z_]|\.[0-9])")


def parse_score(raw: object, lo: float, hi: float, *, field: str = "score") -> ScoreReading:
    """Read the leading number of a score and check it lies in ``[lo, hi]``.

    Strings are read from their *leading number*, so ``"10: strong accept"`` is 10 (never 1),
    ``"6: marginally above ..."`` is 6, ``"3 good"`` is 3, ``"3.25"`` is 3.25, ``"**8**"`` is 8 and
    ``"6.5/10"`` is 6.5. Ints and floats are taken as they are; booleans, NaN and infinities are not
    scores. The problem keys are ``{field}_missing``, ``{field}_unparseable`` and
    ``{field}_out_of_range``.
    """
    if raw is None:
        return ScoreReading(None, problem(f"{field}_missing"))
    if isinstance(raw, bool):
        return ScoreReading(None, problem(f"{field}_unparseable", f"boolean {raw}"))
    if isinstance(raw, (int, float)):
        try:
            value = float(raw)
        except (OverflowError, ValueError):
            return ScoreReading(None, problem(f"{field}_unparseable", snippet(raw)))
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            return ScoreReading(None, problem(f"{field}_missing", "empty"))
        rest = text[_SCORE_LEAD.match(text).end() :]
        match = _LEADING_NUMBER.match(rest)
        if not match:
            return ScoreReading(None, problem(f"{field}_unparseable", snippet(text)))
        value = float(match.group(0))
    else:
        return ScoreReading(None, problem(f"{field}_unparseable", f"{type(raw).__name__} {snippet(raw)}"))
    if not math.isfinite(value):
        return ScoreReading(None, problem(f"{field}_unparseable", snippet(raw)))
    if not lo <= value <= hi:
        return ScoreReading(None, problem(f"{field}_out_of_range", f"{value:g} not in [{lo:g}, {hi:g}]"))
    return ScoreReading(value, None)


def mean_or_none(values: Iterable[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return sum(got) / len(got) if got else None


# Scales of the CycleReviewer / DeepReviewer review form. Ratings may be 0: ICLR 2026 rates on 0/2/4/6/8/10,
# and review targets built from it carry those ratings.
RATING_RANGE = (0.0, 10.0)
ASPECT_RANGE = (1.0, 4.0)
CONFIDENCE_RANGE = (1.0, 5.0)


# ---------------------------------------------------------------------------------------------
# Decisions


class DecisionReading(NamedTuple):
    decision: Decision | None
    problem: str | None


_VERDICT = re.compile(
    r"(?P<neg>(?:\b(?:not|never|cannot|no)\b|n't\b)(?:\s+\w+){0,2}?\s+)?"
    r"\b(?P<word>accept(?:s|ed|ing|able|ance)?|reject(?:s|ed|ing|ion)?)\b",
    re.IGNORECASE,
)
_ALTERNATIVES = re.compile(r"\baccept\w*\s*(?:/|\bor\b|\|)\s*reject\w*|\breject\w*\s*(?:/|\bor\b|\|)\s*accept\w*", re.I)
_MARKDOWN_DECORATION = re.compile(r"[*_`#>]+")


def read_decision(text: object, *, field: str = "decision") -> DecisionReading:
    """Read Accept / Reject from a decision text.

    The rule, precisely:

    1. Markdown decoration (``* _ ` # >``) is removed. The decision is read from the first non-empty line;
       if that line names no verdict, from the whole text.
    2. Verdict words are whole words ``accept``, ``accepts``, ``accepted``, ``accepting``, ``acceptable``,
       ``acceptance`` and ``reject``, ``rejects``, ``rejected``, ``rejecting``, ``rejection`` (so
       "unacceptable" is not one).
    3. An accept word up to three words after a negation (not, never, no, cannot, can't, won't, n't)
       counts as reject: "should not be accepted" is reject.
    4. A line offering both as alternatives ("Accept/Reject", "Accept or Reject") is ambiguous:
       ``None`` with ``{field}_ambiguous``.
    5. Otherwise the leftmost verdict decides: "Accept (poster)" is accept, "Reject (not selected for
       publication)" is reject.

    No verdict word at all gives ``None`` with ``{field}_unclear``; no text, ``{field}_missing``.
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        return DecisionReading(None, problem(f"{field}_missing"))
    if not isinstance(text, str):
        return DecisionReading(None, problem(f"{field}_unclear", f"{type(text).__name__} {snippet(text)}"))
    clean = _MARKDOWN_DECORATION.sub(" ", text)
    lines = [line.strip() for line in clean.splitlines() if line.strip()]
    if not lines:
        return DecisionReading(None, problem(f"{field}_missing"))
    for candidate in (lines[0], " ".join(lines)):
        if _ALTERNATIVES.search(candidate):
            return DecisionReading(None, problem(f"{field}_ambiguous", snippet(candidate)))
        match = _VERDICT.search(candidate)
        if match:
            word = match.group("word").lower()
            if word.startswith("reject") or match.group("neg"):
                return DecisionReading("reject", None)
            return DecisionReading("accept", None)
    return DecisionReading(None, problem(f"{field}_unclear", snippet(lines[0])))


# ---------------------------------------------------------------------------------------------
# Markdown sections (CycleReviewer, DeepReviewer)


@dataclass(frozen=True, slots=True)
class Heading:
    """A markdown heading line whose title is one of the names a parser knows."""

    key: str  # canonical name, e.g. "rating", "reviewer", "meta_review"
    start: int  # offset of the heading line
    end: int  # offset just after the heading line
    inline: str  # text after "Name:" on the heading line ("## Rating: 6.5" -> "6.5")
    label: str = ""  # what follows "Reviewer" ("## Reviewer 2" -> "2")


_HEADING_LINE = re.compile(r"^[ \t]{0,3}(#{1,6})([^\n]*)$", re.MULTILINE)
_REVIEWER_TITLE = re.compile(r"^\**\s*reviewer\b\s*#?\s*(?P<label>[A-Za-z0-9]{0,8})\s*\**\s*:?\s*\**$", re.I)
SEPARATOR_LINE = re.compile(r"^[ \t]*\*{5,}[ \t]*$", re.MULTILINE)


@lru_cache(maxsize=32)
def _title_pattern(aliases: tuple[str, ...]) -> re.Pattern[str]:
    # Longest alias first, so "meta review" wins over a shorter alias it starts with.
    parts = sorted(aliases, key=len, reverse=True)
    alts = "|".join(r"[\s_\-]+".join(re.escape(w) for w in alias.split()) for alias in parts)
    return re.compile(
        rf"^\**\s*(?P<alias>{alts})\s*\**\s*(?:(?::|\s-)(?P<inline>.*)|\s+(?P<num>[0-9].*))?$",
        re.IGNORECASE,
    )


def _alias_key(alias: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", alias.lower()))


def find_headings(text: str, names: Mapping[str, str], *, reviewer: bool = True) -> list[Heading]:
    """Headings (``#`` to ``######``, any case) whose title is one of ``names`` (alias -> key).

    A heading may carry its value inline (``## Rating: 6.5``, ``## **Decision:** Accept``, ``## Rating 6``).
    With ``reviewer`` true, ``## Reviewer``, ``## Reviewer 2``, ``## Reviewer #B`` are found as key
    ``"reviewer"``. Headings with other titles (``#### comment``) are not returned: they stay part of
    the section they sit in.
    """
    lookup = {_alias_key(a): k for a, k in names.items()}
    pattern = _title_pattern(tuple(lookup))
    found: list[Heading] = []
    for m in _HEADING_LINE.finditer(text):
        title = m.group(2).strip()
        if reviewer:
            r = _REVIEWER_TITLE.match(title)
            if r:
                found.append(Heading("reviewer", m.start(), m.end(), "", r.group("label")))
                continue
        t = pattern.match(title)
        if t:
            key = lookup[_alias_key(t.group("alias"))]
            inline = (t.group("inline") or t.group("num") or "").strip()
            if inline.startswith("*"):  # "**Rating:** 6", "## Decision: **Accept**"
                inline = inline.strip("*").strip()
            found.append(Heading(key, m.start(), m.end(), inline))
    return found


def conflicting_lines(text: str, names: Mapping[str, str]) -> list[str]:
    """Lines of ``text`` a parser would take for structure: a known heading (or ``## Reviewer``) or a
    ``*****`` separator. A writer must not put them inside a section's text."""
    out = []
    for line in text.split("\n"):
        if SEPARATOR_LINE.fullmatch(line) or (_HEADING_LINE.fullmatch(line) and find_headings(line, names)):
            out.append(line)
    return out


def escape_conflicts(text: str, names: Mapping[str, str]) -> str:
    """``text`` with each conflicting line (see :func:`conflicting_lines`) escaped by a backslash before
    its first ``#`` or ``*``, Markdown's own escape: ``## Rating`` -> ``\\## Rating``, ``*****`` -> ``\\*****``."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if SEPARATOR_LINE.fullmatch(line) or (_HEADING_LINE.fullmatch(line) and find_headings(line, names)):
            stripped = line.lstrip(" \t")
            lines[i] = line[: len(line) - len(stripped)] + "\\" + stripped
    return "\n".join(lines)


def tidy(text: str) -> str:
    """Section content without surrounding blank lines or trailing ``**********`` separators."""
    # Split on "\n" only (not str.splitlines), so other line-break characters in a text survive as written.
    lines = text.strip().split("\n")
    while lines and (not lines[-1].strip() or SEPARATOR_LINE.fullmatch(lines[-1])):
        lines.pop()
    while lines and (not lines[0].strip() or SEPARATOR_LINE.fullmatch(lines[0])):
        lines.pop(0)
    return "\n".join(lines).strip()


def section_texts(text: str, headings: Sequence[Heading], *, cut_at_separators: bool = True) -> list[tuple[Heading, str]]:
    """Each heading with its content: from the end of its line to the next heading (or separator line)."""
    cuts = {h.start for h in headings}
    if cut_at_separators:
        cuts.update(m.start() for m in SEPARATOR_LINE.finditer(text))
    ordered = sorted(cuts) + [len(text)]
    out: list[tuple[Heading, str]] = []
    for h in headings:
        nxt = ordered[bisect.bisect_right(ordered, h.start)]
        body = text[h.end : max(nxt, h.end)]
        out.append((h, tidy(h.inline + "\n" + body if h.inline else body)))
    return out


@dataclass(slots=True)
class ReviewerChunk:
    """The sections of one simulated reviewer, in order."""

    sections: dict[str, str]
    start: int
    label: str = ""
    # Followed by a separator line, another reviewer, or the meta part; false for the last reviewer of
    # an output that stops inside it.
    closed: bool = False


def split_reviewers(
    text: str, headings: Sequence[Heading], section_keys: Iterable[str], end: int | None = None
) -> list[ReviewerChunk]:
    """Group the sections found in ``text[:end]`` into simulated reviewers.

    A new reviewer starts at a ``Reviewer`` heading, after a ``**********`` separator line (the Llama
    CycleReviewer dialect), or when a section name repeats (a model that forgot the separator).
    Stretches with no known section (prose before the first review, doubled separators) are skipped.
    """
    end = len(text) if end is None else end
    keys = set(section_keys)
    heads = [h for h in headings if h.start < end]
    contents = {h.start: c for h, c in section_texts(text[:end], heads)}
    events: list[tuple[int, str, Heading | None]] = [(m.start(), "sep", None) for m in SEPARATOR_LINE.finditer(text, 0, end)]
    for h in heads:
        if h.key == "reviewer":
            events.append((h.start, "reviewer", h))
        elif h.key in keys:
            events.append((h.start, "section", h))
    events.sort(key=lambda e: e[0])

    chunks: list[ReviewerChunk] = []
    current: ReviewerChunk | None = None
    label = ""
    for pos, kind, head in events:
        if kind != "section":
            if current is not None and current.sections:
                current.closed = True
                chunks.append(current)
            current = None
            label = head.label if head is not None else ""
            continue
        assert head is not None
        if current is not None and head.key in current.sections:
            current.closed = True
            chunks.append(current)
            current = None
        if current is None:
            current, label = ReviewerChunk({}, pos, label), ""
        current.sections[head.key] = contents[head.start]
    if current is not None and current.sections:
        current.closed = end < len(text)
        chunks.append(current)
    return chunks


REVIEW_SECTION_NAMES: dict[str, str] = {
    "summary": "summary",
    "soundness": "soundness",
    "presentation": "presentation",
    "contribution": "contribution",
    "strengths": "strengths",
    "strength": "strengths",
    "weaknesses": "weaknesses",
    "weakness": "weaknesses",
    "suggestions": "suggestions",
    "questions": "questions",
    "flag for ethics review": "flag_for_ethics_review",
    "rating": "rating",
    "overall rating": "rating",
    "confidence": "confidence",
}
REVIEW_SECTION_KEYS = frozenset(REVIEW_SECTION_NAMES.values())


def read_simulated_review(sections: Mapping[str, str], prefix: str) -> tuple[SimulatedReview, list[str]]:
    """One simulated reviewer's texts and scores; problems are named ``{prefix}.{field}_...``."""
    problems: list[str] = []

    def score(key: str, lo: float, hi: float) -> float | None:
        reading = parse_score(sections.get(key), lo, hi, field=f"{prefix}.{key}")
        if reading.problem:
            problems.append(reading.problem)
        return reading.value

    def text(key: str) -> str | None:
        value = sections.get(key)
        return value if value else None

    review = SimulatedReview(
        summary=text("summary"),
        strengths=text("strengths"),
        weaknesses=text("weaknesses"),
        questions=text("questions"),
        rating=score("rating", *RATING_RANGE),
        soundness=score("soundness", *ASPECT_RANGE),
        presentation=score("presentation", *ASPECT_RANGE),
        contribution=score("contribution", *ASPECT_RANGE),
        confidence=score("confidence", *CONFIDENCE_RANGE),
    )
    return review, problems


def aggregate_reviewers(reviewers: Sequence[SimulatedReview]) -> dict[str, float | None]:
    """Mean of each score over the reviewers where it was read."""
    return {
        f: mean_or_none(getattr(r, f) for r in reviewers)
        for f in ("rating", "soundness", "presentation", "contribution", "confidence")
    }


# Labels of the review form's scores, as CycleReviewer and DeepReviewer write them ("6: marginally above the
# acceptance threshold", "3 good", "4: You are confident ...").
RATING_LABELS = {
    1: "strong reject",
    2: "reject, significant issues present",
    3: "reject, not good enough",
    4: "possibly reject, but has redeeming facets",
    5: "marginally below the acceptance threshold",
    6: "marginally above the acceptance threshold",
    7: "accept, but needs minor improvements",
    8: "accept, good paper",
    9: "strong accept, excellent work",
    10: "strong accept, should be highlighted at the conference",
}
LABELLED_RATINGS = frozenset({1, 3, 5, 6, 8, 10})
ASPECT_LABELS = {1: "poor", 2: "fair", 3: "good", 4: "excellent"}
CONFIDENCE_LABELS = {
    1: "Your assessment is an educated guess. The submission is not in your area or the submission was "
    "difficult to understand. Math/other details were not carefully checked.",
    2: "You are willing to defend your assessment, but it is quite likely that you did not understand the "
    "central parts of the submission or that you are unfamiliar with some pieces of related work. Math/other "
    "details were not carefully checked.",
    3: "You are fairly confident in your assessment. It is possible that you did not understand some parts of "
    "the submission or that you are unfamiliar with some pieces of related work. Math/other details were not "
    "carefully checked.",
    4: "You are confident in your assessment, but not absolutely certain. It is unlikely, but not impossible, "
    "that you did not understand some parts of the submission or that you are unfamiliar with some pieces of "
    "related work.",
    5: "You are absolutely certain about your assessment. You are very familiar with the related work and "
    "checked the math/other details carefully.",
}


def render_form_score(key: str, value: float) -> str:
    """A score as the review form writes it: an integer with its label, anything else as its shortest
    float ``repr`` (which reads back to the same float)."""
    if value != int(value):
        return repr(float(value))
    n = int(value)
    if key == "rating":
        # Labels only for the values of the ICLR 2024-2025 form the models were trained on; another scale's
        # value (ICLR 2026's 0/2/4) is written bare rather than with a label from a different form.
        return f"{n}: {RATING_LABELS[n]}" if n in LABELLED_RATINGS else str(n)
    if key == "confidence":
        return f"{n}: {CONFIDENCE_LABELS[n]}" if n in CONFIDENCE_LABELS else str(n)
    return f"{n} {ASPECT_LABELS[n]}" if n in ASPECT_LABELS else str(n)
