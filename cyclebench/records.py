"""Typed records at every seam of the pipeline.

Raw notes and paper files become these records in ``cyclebench.sources``; builders turn records into
dataset rows. Records are plain frozen dataclasses so they are cheap to build in a streaming pass and
``dataclasses.asdict`` gives the row form.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

DecisionLabel = Literal["accept", "reject", "withdrawn", "desk_rejected", "undecided"]
DecisionSource = Literal[
    "decision_note", "venueid", "venue", "invitation", "withdrawal_note", "desk_rejection_note", "none"
]
TextSource = Literal["markdown", "text", "latex", "pdf:pymupdf-layout", "pdf:pymupdf4llm", "pdf:pymupdf",
                     "pdf:pypdf"]


@dataclass(frozen=True, slots=True)
class Score:
    """A score as the form recorded it: the integer, the string as written, and the scale it is on.

    The scale travels with the value because rating scales differ by venue and year (ICLR 2020 rates on
    1/3/6/8, ICLR 2026 on 0/2/4/6/8/10), so a 4 means different things in different rows. ``value`` is None
    for an optional question answered with something that is not a score ("Not applicable" on the ICLR
    2022-23 forms): the answer is kept in ``raw`` rather than the review being lost.
    """

    value: int | None
    raw: str
    scale: str


@dataclass(frozen=True, slots=True)
class Review:
    """One reviewer's latest review of a paper."""

    note_id: str
    forum: str
    signature: str
    invitation: str
    cdate: int | None
    tmdate: int | None
    rating: Score
    confidence: Score | None = None
    soundness: Score | None = None
    presentation: Score | None = None
    contribution: Score | None = None
    # Other scored questions of the year's form (ICLR 2022-23 correctness, novelty ...), by field name.
    other_scores: dict[str, Score] = field(default_factory=dict)
    # Free-text sections keyed by the form's field name (summary, strengths, weaknesses, questions,
    # main_review, review, ...), in form order.
    texts: dict[str, str] = field(default_factory=dict)
    # How many versions of this review the snapshot held; only the newest is kept.
    versions_seen: int = 1
    license: str | None = None
    # Optional score questions answered with something that is not a score, as (field, reason) pairs
    # ("not_applicable_soundness", "unparseable_confidence" ...); their Score has value None.
    unread_scores: tuple[tuple[str, str], ...] = ()
    # Rating of the oldest version of this review when the snapshot holds it more than once and that
    # version's rating reads on the same scale; None when the history is unknown.
    initial_rating: int | None = None


@dataclass(frozen=True, slots=True)
class ReviewSections:
    """A review's texts in the four sections every year's form can fill (``sources.openreview_fields``)."""

    summary: str | None = None
    strengths: str | None = None
    weaknesses: str | None = None
    questions: str | None = None


@dataclass(frozen=True, slots=True)
class MetaReview:
    note_id: str
    signature: str
    text: str
    cdate: int | None
    # Where the text came from: its own Meta_Review note, or inside the Decision note (ICLR 2020-2023).
    source: Literal["meta_review_note", "decision_note"]
    recommendation: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    label: DecisionLabel
    raw: str
    source: DecisionSource
    # "oral" / "spotlight" / "poster" / "notable-top-5%" ... when the raw string names one.
    presentation: str | None = None


@dataclass(frozen=True, slots=True)
class Comment:
    """An Official_Comment (author response or discussion)."""

    note_id: str
    signature: str
    replyto: str | None
    title: str
    text: str
    cdate: int | None
    by_authors: bool


@dataclass(frozen=True, slots=True)
class Submission:
    """A paper with the replies the reader kept from it."""

    id: str
    forum: str
    number: int | None
    venue_id: str  # e.g. "ICLR.cc/2026/Conference"
    year: int | None
    api_version: int
    title: str
    abstract: str
    keywords: tuple[str, ...]
    primary_area: str | None
    tldr: str | None
    pdf: str | None
    cdate: int | None
    mdate: int | None
    pdate: int | None
    license: str | None
    decision: Decision
    reviews: tuple[Review, ...]
    meta_review: MetaReview | None
    comments: tuple[Comment, ...]
    withdrawn: bool
    desk_rejected: bool
    # When the submission was made public (ms since epoch).
    odate: int | None = None
    # content.authors as the snapshot holds them (["Anonymous"] or absent while a v1 venue is double blind).
    authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PaperText:
    """A paper's text, where it came from, and which cleaning step produced it."""

    paper_id: str
    text: str
    source: TextSource
    source_path: str
    source_sha256: str
    cleaning: str  # cleaning step name + version, e.g. "clean-v1"
    # Which cleaning operations fired, for the manifest ("header_stripped", "cut_at_references", ...).
    cleaning_applied: tuple[str, ...] = ()


def abstract_stand_in(title: str | None, abstract: str) -> str:
    """What a model is shown for a paper without a text: its title and abstract as a short markdown paper.
    The one definition, shared by the task option ``abstract_fallback`` (evaluation) and the Review-5K
    builder's ``sft_abstract_fallback`` (training rows), so both sides see the same prompt shape."""
    return f"# {title or ''}\n\n## Abstract\n\n{abstract}"


def kept_as_human(score: Any, threshold: float, counts: dict[str, Any]) -> bool:
    """Whether a review stays in a ``human_reviews_only`` ground truth: dropped when the build's detector scored
    it P(machine) > ``threshold``; kept and counted as unscored when it has no finite score (too short to
    score, or no calibration). One rule for every dataset whose reviews carry ``ai_text_score``."""
    counts["reviews"] += 1
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        counts["unscored_kept"] += 1
        return True
    if score > threshold:
        counts["dropped"] += 1
        return False
    return True


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that did not become a row, and why."""

    record_id: str
    stage: str
    reason: str
    detail: str = ""


class RecordError(ValueError):
    """A raw record cannot become a typed record. ``reason`` is a short stable key for counting."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def to_dict(record: Any) -> Any:
    """Row form of a record (tuples become lists so pyarrow and JSON see lists)."""
    if dataclasses.is_dataclass(record):
        return {f.name: to_dict(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, (list, tuple)):
        return [to_dict(x) for x in record]
    if isinstance(record, dict):
        return {k: to_dict(v) for k, v in record.items()}
    return record


# ---------------------------------------------------------------------------------------------
# Model outputs parsed by a review protocol (cyclebench.protocols).

ParseStatus = Literal["ok", "partial", "failed"]


@dataclass(frozen=True, slots=True)
class SimulatedReview:
    """One reviewer opinion inside a model's output (CycleReviewer writes four, DeepReviewer R)."""

    summary: str | None = None
    strengths: str | None = None
    weaknesses: str | None = None
    questions: str | None = None
    rating: float | None = None
    soundness: float | None = None
    presentation: float | None = None
    contribution: float | None = None
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class ParsedReview:
    """What a protocol read from one model output.

    ``status`` is "ok" when rating and decision were both read, "partial" when at least one of them
    was, "failed" otherwise; ``problems`` names every field that could not be read and why, so an
    evaluation can count failures by reason instead of scoring them as zero.
    """

    status: ParseStatus
    problems: tuple[str, ...] = ()
    reviewers: tuple[SimulatedReview, ...] = ()
    rating: float | None = None
    soundness: float | None = None
    presentation: float | None = None
    contribution: float | None = None
    confidence: float | None = None
    decision: Literal["accept", "reject"] | None = None
    # How the decision was read: "text" (the output's own decision) or "threshold" (rating >= t).
    decision_rule: str | None = None
    meta_review: str | None = None
    # Other named sections (summary, strengths, weaknesses, suggestions, questions, verification ...).
    sections: dict[str, str] = field(default_factory=dict)


def problem_key(text: str) -> str:
    """The countable part of a problem string ("reason: detail" -> "reason"): the one rule every run, the
    metrics, the trainers and the leaderboard count problems, failures and errors by."""
    return text.split(":", 1)[0].strip()


# ---------------------------------------------------------------------------------------------
# Evaluation tasks (cyclebench.tasks)


@dataclass(frozen=True, slots=True)
class ReviewExample:
    """One paper of a review-evaluation task: what the model reads, and the human ground truth."""

    paper_id: str
    title: str
    paper_text: str
    # Each human reviewer's overall rating (the task's scale, e.g. 1-10); the truth is their mean.
    ratings: tuple[float, ...]
    accepted: bool | None
    soundness: tuple[float, ...] = ()
    presentation: tuple[float, ...] = ()
    contribution: tuple[float, ...] = ()
    confidence: tuple[float, ...] = ()
    year: int | None = None
    rating_scale: str | None = None


# ---------------------------------------------------------------------------------------------
# Paper generation (CycleResearcher format, REFERENCE 1.3)


@dataclass(frozen=True, slots=True)
class PaperOutline:
    """The research outline a Research-14K record teaches the generator to write before the paper."""

    motivation: str
    main_idea: str
    interestingness: int | None = None
    feasibility: int | None = None
    novelty: int | None = None
    # How the outline was made: "from-sections-v1" (deterministic, from the paper's own sections) or
    # "model:<backend>/<model>" (through an evaluation backend).
    method: str = ""


@dataclass(frozen=True, slots=True)
class ExperimentSpec:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    name: str
    kind: Literal["table", "image", "text"]
    content: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class GeneratedPaper:
    """A paper as a generator wrote it, parsed part by part; what failed to parse is named in ``problems``.

    The experimental results of a generated paper are simulated by the model, never run.
    """

    paper_id: str
    status: ParseStatus
    problems: tuple[str, ...] = ()
    outline: PaperOutline | None = None
    title: str | None = None
    abstract: str | None = None
    latex_body: str | None = None  # the LaTeX of part 1 (intro, related work, method) after the abstract
    experiments_latex: str | None = None  # the LaTeX of part 2 (experiments, discussion, conclusion)
    setup: tuple[ExperimentSpec, ...] = ()
    results: tuple[ExperimentResult, ...] = ()

    def text(self) -> str:
        """The paper as one markdown-ish text a reviewer model reads."""
        parts = [f"# {self.title}" if self.title else "", f"## Abstract\n\n{self.abstract}" if self.abstract else ""]
        parts += [self.latex_body or "", self.experiments_latex or ""]
        return "\n\n".join(p for p in parts if p).strip()
