"""The reasoning chain of a DeepReview-13K record: simulated reviewers, verification, final review.

DeepReview (ACL 2025) trained its reviewer on chains synthesised from the human reviews of each paper
(REFERENCE section 2): z1 literature-search questions and an analysis (Best mode only), z2 each human review
plus the authors' response to it rewritten as a simulated reviewer, z3 a verification of every weakness,
then the final review with the averaged human scores and the real decision. The three modes crop this chain.

This stage has two implementations behind one call, ``build_many(materials) -> [ReasoningChain | RecordError]``:

* :class:`ChainFromReviews` (``from-reviews-v1``): deterministic and offline, no model. Everything it writes
  is taken or derived from the submission, the human reviews, the authors' comments and the review edit
  history; the rules are below and in :func:`judge_weakness`. Pure, so the builder runs it in its workers.
* :class:`ChainByModel` (``model:<backend>``): a model through :mod:`cyclebench.backends` writes the prose
  (rewritten reviewers, verification, final texts, questions, analysis) with the prompt in
  :func:`chain_prompt`; the scores and the decision are still the human ones, never the model's.

Verification rule of :class:`ChainFromReviews` (a heuristic, not a judgement of the science): each weakness
point gets a conclusion from how the discussion went, read from two signals the snapshot holds:

* the authors' response: ``direct`` (an author comment in the thread of this review), ``general`` (an
  author comment on the paper itself, addressed to all reviewers) or ``none``;
* the reviewer's rating across the versions of the review: ``up``, ``down``, ``same`` (several versions,
  unchanged) or ``unknown`` (one version only).

Conclusion: ``Invalid`` when the authors answered this review directly and the reviewer then raised the
rating to at least the acceptance threshold (6: "marginally above" on every ICLR scale since 2020), i.e. the
reviewer was persuaded; ``Partially Valid`` when the rating went up otherwise; ``Valid`` in every other case
(the point stood: unanswered, or answered without moving the reviewer). Confidence counts the evidence:
``High`` with a direct response and a known rating history, ``Low`` with neither a response of any kind nor
a known history, ``Medium`` otherwise. Every point of a review gets the same verdict: the snapshot does not say
which point a response settled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from cyclebench.records import (
    Comment,
    RecordError,
    Review,
    ReviewSections,
    SimulatedReview,
    Submission,
)
from cyclebench.sources.openreview_fields import (
    WEAKNESS_FIELDS,
    first_text,
    review_sections,
)

ResponseKind = Literal["direct", "general", "none"]
Movement = Literal["up", "down", "same", "unknown"]
Conclusion = Literal["Valid", "Partially Valid", "Invalid"]
Confidence = Literal["High", "Medium", "Low"]


# ---------------------------------------------------------------------------------------------
# What the stage reads


@dataclass(frozen=True)
class ReviewDiscussion:
    """One kept human review with what happened to it during the discussion."""

    review: Review
    # Author comments in this review's thread (replying to it, or to a comment that does), oldest first.
    direct_responses: tuple[Comment, ...] = ()

    @property
    def initial_rating(self) -> int | None:
        """Rating of the oldest version of this review in the snapshot; None when only one version is known."""
        return self.review.initial_rating


@dataclass(frozen=True)
class PaperMaterial:
    """Everything a chain is made from: the paper, its kept reviews with their discussion, the outcome."""

    submission: Submission
    paper_text: str
    text_source: str
    discussions: tuple[ReviewDiscussion, ...]
    # Author comments addressed to the paper (replyto = the submission), oldest first.
    general_responses: tuple[Comment, ...] = ()
    # "accept" / "reject": the real decision (withdrawn papers kept as rejects map to "reject"); None for a
    # paper kept undecided (``--undecided keep``).
    decision: Literal["accept", "reject"] | None = "reject"


# ---------------------------------------------------------------------------------------------
# What the stage writes


@dataclass(frozen=True)
class WeaknessCheck:
    """The verification of one weakness point."""

    reviewer: int  # 1-based, the order of the simulated reviewers
    statement: str
    evidence: str
    literature_gap: str
    validation: str
    conclusion: Conclusion
    confidence: Confidence


@dataclass(frozen=True)
class ReasoningChain:
    """The full chain of one paper; :func:`chain_review` crops it to a mode's output."""

    method: str
    reviewers: tuple[SimulatedReview, ...]
    verification: str
    search_questions: str
    analysis: str
    # The final review: scores (averaged human scores, rounded), decision, and texts by section key.
    rating: float
    decision: Literal["accept", "reject"] | None
    soundness: float | None = None
    presentation: float | None = None
    contribution: float | None = None
    confidence: float | None = None
    sections: dict[str, str] = field(default_factory=dict)
    checks: tuple[WeaknessCheck, ...] = ()


MODE_BLOCKS = {
    "fast": ("review",),
    "standard": ("simreviewers", "verification", "review"),
    "best": ("questions", "analysis", "simreviewers", "verification", "review"),
}


def chain_review(chain: ReasoningChain, mode: str) -> dict[str, Any]:
    """The chain cropped to one mode, as the mapping ``format_deepreviewer_output`` writes.

    fast: the final review only; standard: simulated reviewers, verification, final review; best: also the
    literature-search questions and the analysis first.
    """
    blocks = MODE_BLOCKS[mode]
    sections = dict(chain.sections)
    if "verification" in blocks and chain.verification:
        sections["verification"] = chain.verification
    if "questions" in blocks and chain.search_questions:
        sections["search_questions"] = chain.search_questions
    if "analysis" in blocks and chain.analysis:
        sections["analysis"] = chain.analysis
    return {
        "rating": chain.rating,
        "soundness": chain.soundness,
        "presentation": chain.presentation,
        "contribution": chain.contribution,
        "confidence": chain.confidence,
        "decision": chain.decision,
        "reviewers": chain.reviewers if "simreviewers" in blocks else (),
        "sections": sections,
    }


# ---------------------------------------------------------------------------------------------
# Pure helpers shared by both implementations


def rounded_mean(values: Sequence[float | None], decimals: int) -> float | None:
    got = [float(v) for v in values if v is not None]
    return round(sum(got) / len(got), decimals) if got else None


def final_scores(discussions: Sequence[ReviewDiscussion], decimals: int) -> dict[str, float | None]:
    """Mean of each human score over the reviews that have it, rounded to ``decimals``."""
    reviews = [d.review for d in discussions]

    def values(name: str) -> list[float | None]:
        return [s.value if (s := getattr(r, name)) is not None else None for r in reviews]

    return {name: rounded_mean(values(name), decimals)
            for name in ("rating", "soundness", "presentation", "contribution", "confidence")}


def _score(score: Any) -> float | None:
    return float(score.value) if score is not None and score.value is not None else None


def chain_sections(review: Review) -> ReviewSections:
    """A human review's sections as the chain reads them: a combined field (ICLR 2020-2023 ``review`` /
    ``main_review`` / ``strength_and_weaknesses``) fills weaknesses only, so the text is not written twice
    and the verification reads it."""
    return review_sections(review.texts, combined_into="weaknesses")


def simulated_reviewer(review: Review) -> SimulatedReview:
    """A human review as a simulated reviewer: its final-version texts and its own scores."""
    sections = chain_sections(review)
    return SimulatedReview(
        summary=sections.summary,
        strengths=sections.strengths,
        weaknesses=sections.weaknesses,
        questions=sections.questions,
        rating=_score(review.rating),
        soundness=_score(review.soundness),
        presentation=_score(review.presentation),
        contribution=_score(review.contribution),
        confidence=_score(review.confidence),
    )


_ITEM_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)(?:[-*+\u2022\u25aa\u25e6\u2013]|\d{1,2}[.)]|\(\d{1,2}\)|\(?[a-z][.)]|\(?[ivx]{1,4}\)|"
    r"\*\*\s*\d{1,2}[.)]|[WQSwqs]\d{1,2}\s*[:.)])(?=\s)",
)
_BLANK = re.compile(r"^\s*$")


def split_points(text: str | None) -> list[str]:
    """The points of a strengths / weaknesses / questions text, in order.

    A list (``-``, ``*``, ``1.``, ``(1)``, ``a)``, ``W1:`` ... at the shallowest indentation that has at
    least two markers) gives one point per item, continuation lines included; a short lead-in ending in
    ``:`` ("Weaknesses:") is dropped, other text before or after the list is a point of its own. Text
    without such a list gives one point per blank-line paragraph. The list marker of a point is removed.
    """
    if text is None or not text.strip():
        return []
    lines = text.strip().replace("\r\n", "\n").replace("\r", "\n").split("\n")
    marks = [(i, len(m.group("indent").expandtabs(4))) for i, line in enumerate(lines) if (m := _ITEM_MARKER.match(line))]
    points: list[str] = []
    if marks:
        level = min(indent for _i, indent in marks)
        starts = [i for i, indent in marks if indent == level]
    else:
        starts = []
    if len(starts) >= 2:
        boundaries = set(starts)
        current: list[str] = []
        for i, line in enumerate(lines):
            opens_paragraph = (
                i not in boundaries and i > 0 and _BLANK.match(lines[i - 1]) is not None and not line[:1].isspace()
                and line.strip() != "" and not _ITEM_MARKER.match(line)
            )
            if i in boundaries or opens_paragraph:
                _flush(current, points)
                current = []
            current.append(line)
        _flush(current, points)
        if points and 0 not in boundaries and points[0].endswith(":") and len(points[0]) <= 120 and "\n" not in points[0]:
            points.pop(0)
        return points
    paragraph: list[str] = []
    for line in lines:
        if _BLANK.match(line):
            _flush(paragraph, points)
            paragraph = []
        else:
            paragraph.append(line)
    _flush(paragraph, points)
    return points


def _flush(lines: list[str], points: list[str]) -> None:
    text = "\n".join(lines).strip()
    marker = _ITEM_MARKER.match(text)
    if marker:
        text = text[marker.end():].strip()
    if text:
        points.append(text)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,2}[.)]|\(\d{1,2}\)|[WQSwqs]\d{1,2}\s*[:.)])\s*")


def first_sentence(text: str, limit: int = 300) -> str:
    """The first sentence of ``text`` on one line, list marker and markdown emphasis removed, capped."""
    flat = " ".join(_LIST_MARKER.sub("", text, count=1).split()).replace("**", "")
    sentence = _SENTENCE_END.split(flat, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 3].rstrip() + "..."


_LITERATURE = re.compile(
    r"\b(related work|prior work|previous work|prior art|literature|cit(?:e|es|ed|ation|ations)|"
    r"missing references?|(?:lacks?|no|few) references|"
    r"baselines?|compar(?:e|ed|es|ing|ison|isons)|state[- ]of[- ]the[- ]art|sota|existing (?:methods?|approaches|work)|"
    r"novelty|not novel|incremental)\b",
    re.IGNORECASE,
)


def literature_terms(text: str) -> list[str]:
    """The words of ``text`` that tie a point to prior work (baselines, citations, novelty ...), lower-cased."""
    seen: list[str] = []
    for m in _LITERATURE.finditer(text):
        word = m.group(1).lower()
        if word not in seen:
            seen.append(word)
    return seen


def rating_movement(initial: int | None, final: int) -> Movement:
    if initial is None:
        return "unknown"
    return "up" if final > initial else "down" if final < initial else "same"


def response_kind(discussion: ReviewDiscussion, general_responses: Sequence[Comment]) -> ResponseKind:
    if discussion.direct_responses:
        return "direct"
    return "general" if general_responses else "none"


def judge_weakness(response: ResponseKind, movement: Movement, final_rating: float,
                   acceptance_threshold: float) -> tuple[Conclusion, Confidence]:
    """The verification heuristic (see the module docstring): a verdict from the discussion alone."""
    conclusion: Conclusion
    if movement == "up" and response == "direct" and final_rating >= acceptance_threshold:
        conclusion = "Invalid"
    elif movement == "up":
        conclusion = "Partially Valid"
    else:
        conclusion = "Valid"
    known = movement != "unknown"
    confidence: Confidence
    if response == "direct" and known:
        confidence = "High"
    elif response == "none" and not known:
        confidence = "Low"
    else:
        confidence = "Medium"
    return conclusion, confidence


def _excerpt(text: str, limit: int = 400) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def _scale_note(review: Review) -> str:
    parts = [f"rating {review.rating.value} on the {review.rating.scale} scale"]
    if review.confidence is not None and review.confidence.value is not None:
        parts.append(f"confidence {review.confidence.value} on {review.confidence.scale}")
    return ", ".join(parts)


def check_weaknesses(material: PaperMaterial, acceptance_threshold: float) -> tuple[WeaknessCheck, ...]:
    """One :class:`WeaknessCheck` per weakness point of every kept review, reviewers in order."""
    checks: list[WeaknessCheck] = []
    for index, discussion in enumerate(material.discussions, 1):
        review = discussion.review
        response = response_kind(discussion, material.general_responses)
        movement = rating_movement(discussion.initial_rating, review.rating.value)
        conclusion, confidence = judge_weakness(response, movement, review.rating.value, acceptance_threshold)
        if response == "direct":
            n = len(discussion.direct_responses)
            quoted = _excerpt(discussion.direct_responses[0].text) or "(empty comment)"
            answered = f"The authors answered this review directly ({n} comment{'s' * (n != 1)}); their first reply: \"{quoted}\"."
        elif response == "general":
            n = len(material.general_responses)
            answered = (f"The authors posted {n} general response{'s' * (n != 1)} to all reviewers; none is in this "
                        "review's thread, so it is not known which points it settles.")
        else:
            answered = "The authors did not respond in the discussion this snapshot holds."
        if movement == "unknown":
            moved = "Only one version of the review is known, so a change of mind cannot be seen."
        elif movement == "same":
            moved = f"The reviewer kept the rating at {review.rating.value} across the versions of the review."
        else:
            moved = (f"The reviewer's rating went {movement} from {discussion.initial_rating} to "
                     f"{review.rating.value} during the discussion.")
        for point in split_points(first_text(review.texts, WEAKNESS_FIELDS)):
            terms = literature_terms(point)
            gap = (f"Tied to prior work (mentions: {', '.join(terms)}); checking it needs the cited or missing work."
                   if terms else "None named: the point concerns the paper itself, not missing prior work.")
            checks.append(WeaknessCheck(
                reviewer=index,
                statement=point,
                evidence=f"Raised by Reviewer {index} in the weaknesses of the final version of the review ({_scale_note(review)}).",
                literature_gap=gap,
                validation=f"{answered} {moved}",
                conclusion=conclusion,
                confidence=confidence,
            ))
    return tuple(checks)


def render_verification(checks: Sequence[WeaknessCheck]) -> str:
    """The ``\\boxed_verification`` body: one block per weakness, the five parts as bold labels."""
    blocks = []
    for number, check in enumerate(checks, 1):
        statement = "\n".join("> " + line if line.strip() else ">" for line in check.statement.split("\n"))
        blocks.append(
            f"### Weakness {number} (Reviewer {check.reviewer})\n\n"
            f"**Statement:**\n{statement}\n\n"
            f"**Evidence:** {check.evidence}\n\n"
            f"**Literature gap:** {check.literature_gap}\n\n"
            f"**Validation:** {check.validation}\n\n"
            f"**Conclusion:** {check.conclusion} ({check.confidence} confidence)"
        )
    return "\n\n".join(blocks)


def _bullets(items: Sequence[tuple[str, str]]) -> str:
    """``- point (suffix)`` items; continuation lines indented so each stays one list item."""
    out = []
    for text, suffix in items:
        body = _LIST_MARKER.sub("", text, count=1).strip()
        lines = body.split("\n")
        lines[-1] = f"{lines[-1]} ({suffix})"
        out.append("- " + "\n  ".join(line.strip() for line in lines))
    return "\n".join(out)


def search_questions(submission: Submission, checks: Sequence[WeaknessCheck]) -> str:
    """Three literature-search questions from the paper's metadata and the reviewers' prior-work points."""
    title = submission.title
    topics = ", ".join(submission.keywords[:4]) or submission.primary_area or title
    gap = next((c for c in checks if c.literature_gap.startswith("Tied")), None)
    claim = first_sentence(submission.tldr or submission.abstract or title, 240)
    q1 = f"Which published methods address {topics}, and how do they differ from the approach of \"{title}\"?"
    if gap is not None:
        q2 = f"Which prior work bears on this concern: \"{first_sentence(gap.statement, 200)}\"?"
    else:
        area = (submission.primary_area or topics).replace("_", " ")
        q2 = f"Which benchmarks and baselines are standard for {area}, and what results do they report?"
    q3 = f"Has earlier work already reported or contradicted this claim: \"{claim}\"?"
    return f"1. {q1}\n2. {q2}\n3. {q3}"


def offline_analysis(submission: Submission, checks: Sequence[WeaknessCheck]) -> str:
    """What Best mode's analysis can say without a search: the stated contribution and what to check."""
    claim = submission.tldr or first_sentence(submission.abstract or "", 600) or "(no abstract)"
    lines = [f"Stated contribution: {' '.join(claim.split())}"]
    if submission.keywords:
        lines.append(f"Keywords: {', '.join(submission.keywords)}")
    if submission.primary_area:
        lines.append(f"Area: {submission.primary_area.replace('_', ' ')}")
    gaps = [c for c in checks if c.literature_gap.startswith("Tied")]
    if gaps:
        lines.append("Points to check against prior work:")
        lines += [f"- {first_sentence(c.statement, 240)}" for c in gaps]
    else:
        lines.append("No weakness raised about the paper names missing prior work.")
    lines.append("(Derived offline from the submission and its reviews; no literature search was run.)")
    return "\n".join(lines)


def final_sections(material: PaperMaterial, reviewers: Sequence[SimulatedReview],
                   checks: Sequence[WeaknessCheck]) -> dict[str, str]:
    """The final review's texts: summary, strengths, verified weaknesses, questions (see ChainFromReviews)."""
    sections: dict[str, str] = {}
    meta = material.submission.meta_review
    if meta is not None and meta.text.strip():
        sections["summary"] = meta.text.strip()
    else:
        ranked = sorted(
            (i for i, r in enumerate(reviewers) if r.summary),
            key=lambda i: (-(reviewers[i].confidence or 0.0), i),
        )
        if ranked:
            sections["summary"] = reviewers[ranked[0]].summary or ""
    strengths = [(p, f"Reviewer {i}") for i, r in enumerate(reviewers, 1) for p in split_points(r.strengths)]
    if strengths:
        sections["strengths"] = _bullets(strengths)
    kept = [(c.statement, f"Reviewer {c.reviewer}; {c.conclusion}") for c in checks if c.conclusion != "Invalid"]
    if kept:
        sections["weaknesses"] = _bullets(kept)
    questions = [(p, f"Reviewer {i}") for i, r in enumerate(reviewers, 1) for p in split_points(r.questions)]
    if questions:
        sections["questions"] = _bullets(questions)
    return sections


# ---------------------------------------------------------------------------------------------
# Implementations


@dataclass(frozen=True)
class ChainFromReviews:
    """Deterministic offline chain (``from-reviews-v1``); picklable, so it runs in the builder's workers.

    * Simulated reviewers: one per kept human review, in snapshot order: the final version of its texts
      (summary, strengths, weaknesses, questions; the year's combined field where a form had no separate
      one) and its own scores. The final version already holds any edit the reviewer made after the
      authors' response; the response itself enters through the verification.
    * Verification: one block per weakness point (:func:`split_points`), conclusion by :func:`judge_weakness`.
    * Final review: scores are the human means rounded to ``score_decimals``; the decision is the real one.
      Summary = the meta review when there is one, else the summary of the most confident reviewer (first on
      a tie); strengths and questions = every reviewer's points, attributed; weaknesses = the points whose
      verification is not ``Invalid``, with their conclusion. No ``Suggestions`` section: no human form has
      one and this implementation writes nothing the humans did not.
    * Best mode: three search questions (:func:`search_questions`) and an analysis (:func:`offline_analysis`)
      from the paper's title, keywords, area, TL;DR / abstract and the weaknesses tied to prior work.
    """

    score_decimals: int = 2
    acceptance_threshold: float = 6.0
    method: ClassVar[str] = "from-reviews-v1"
    pure: ClassVar[bool] = True

    def build(self, material: PaperMaterial) -> ReasoningChain:
        if not material.discussions:
            raise RecordError("no_reviews", "a chain needs at least one review")
        reviewers = tuple(simulated_reviewer(d.review) for d in material.discussions)
        checks = check_weaknesses(material, self.acceptance_threshold)
        scores = final_scores(material.discussions, self.score_decimals)
        rating = scores.pop("rating")
        assert rating is not None  # every kept review has a rating
        return ReasoningChain(
            method=self.method,
            reviewers=reviewers,
            verification=render_verification(checks),
            search_questions=search_questions(material.submission, checks),
            analysis=offline_analysis(material.submission, checks),
            rating=rating,
            decision=material.decision,
            sections=final_sections(material, reviewers, checks),
            checks=checks,
            **scores,
        )

    def build_many(self, materials: Sequence[PaperMaterial]) -> list[ReasoningChain | RecordError]:
        out: list[ReasoningChain | RecordError] = []
        for material in materials:
            try:
                out.append(self.build(material))
            except RecordError as exc:
                out.append(exc)
        return out

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "score_decimals": self.score_decimals,
                "acceptance_threshold": self.acceptance_threshold, "pure": True}


CHAIN_SYSTEM_PROMPT = (
    "You turn the human peer reviews of a research paper into the reasoning chain of a careful reviewer. "
    "Stay grounded in the paper, the reviews and the authors' responses; invent no results, citations or "
    "opinions. Do not write any rating, score or accept/reject decision: those are filled in from the human "
    "reviews afterwards."
)

CHAIN_INSTRUCTIONS = """\
Write exactly these five blocks, in this order, and nothing else:

\\boxed_questions{
Three numbered questions (1., 2., 3.) for a literature search that would test the paper's novelty and claims.
}
\\boxed_analysis{
An analysis of what the paper contributes and where it sits in prior work, in a few paragraphs.
}
\\boxed_simreviewers{
For each human review above, in the same order, a section starting "## Reviewer i" (i = 1, 2, ...) with
"### Summary", "### Strengths", "### Weaknesses" and "### Questions": the review rewritten in the voice of a
reviewer who has read the authors' response to it (concerns the response settled are softened or dropped,
the others kept). End each reviewer with a line of ten asterisks (**********).
}
\\boxed_verification{
For every weakness of every reviewer: "### Weakness k (Reviewer i)" then **Statement:**, **Evidence:** (what in
the paper supports it), **Literature gap:**, **Validation:** and **Conclusion:** one of Valid / Partially Valid /
Invalid with High / Medium / Low confidence.
}
\\boxed_review{
## Summary:
...
## Strengths:
...
## Weaknesses:
(only the weaknesses your verification did not find Invalid)
## Suggestions:
...
## Questions:
...
}
"""


# The prompt's decision line for an undecided paper.
NO_DECISION_YET = "none yet (the venue is still in review)"


def chain_prompt(material: PaperMaterial, max_paper_chars: int = 60000) -> list[dict[str, str]]:
    """The documented prompt of :class:`ChainByModel`: system = :data:`CHAIN_SYSTEM_PROMPT`; user = the
    paper (cut at ``max_paper_chars`` with a note), every human review with its scores and the author
    responses in its thread, the general author responses, the meta review, the decision, and
    :data:`CHAIN_INSTRUCTIONS`."""
    sub = material.submission
    paper = material.paper_text
    if len(paper) > max_paper_chars:
        paper = paper[:max_paper_chars] + f"\n\n[... paper cut at {max_paper_chars} characters ...]"
    parts = [f"# Paper: {sub.title}\n\n{paper}", "# Human reviews"]
    for i, d in enumerate(material.discussions, 1):
        r = d.review
        head = f"## Review {i} ({_scale_note(r)})"
        body = [head]
        sections = chain_sections(r)
        for label in ("Summary", "Strengths", "Weaknesses", "Questions"):
            text = getattr(sections, label.lower())
            if text:
                body.append(f"### {label}\n{text}")
        for c in d.direct_responses:
            body.append(f"### Author response to review {i}\n{c.text.strip()}")
        parts.append("\n\n".join(body))
    if material.general_responses:
        parts.append("# Author responses to all reviewers\n\n" + "\n\n".join(
            f"## {c.title or 'Response'}\n{c.text.strip()}" for c in material.general_responses))
    meta = sub.meta_review
    if meta is not None and meta.text.strip():
        parts.append(f"# Meta review\n\n{meta.text.strip()}")
    # An undecided paper (a venue still in review, ``--undecided keep``) says so rather than leaving the
    # model to guess one; its final review then states no decision either.
    parts.append(f"# Decision: {material.decision.capitalize()}" if material.decision else f"# Decision: {NO_DECISION_YET}")
    parts.append(CHAIN_INSTRUCTIONS)
    return [{"role": "system", "content": CHAIN_SYSTEM_PROMPT}, {"role": "user", "content": "\n\n".join(parts)}]


class ChainByModel:
    """The chain's prose written by a model through a :mod:`cyclebench.backends` backend (``model:<name>``).

    One request per paper (request id = paper id) with :func:`chain_prompt`; the answer is read with the
    DeepReviewer parser. The scores of each simulated reviewer are its human review's, the final scores
    are the rounded human means and the decision is the real one, whatever the model wrote. A paper whose
    answer failed, was cut at the length limit, or lacks a block or a reviewer is returned as a
    ``RecordError`` (``chain_model_error``, ``chain_model_truncated``, ``chain_model_unparseable``) for
    the builder to count; there is no silent fallback to the offline chain.
    """

    pure = False

    def __init__(self, backend: Any, *, sampling: dict[str, Any] | None = None, score_decimals: int = 2,
                 max_paper_chars: int = 60000):
        self.backend = backend
        self.sampling = {"temperature": 0.4, "top_p": 0.95, "max_tokens": 16384, **(sampling or {})}
        self.score_decimals = score_decimals
        self.max_paper_chars = max_paper_chars
        self.method = f"model:{backend.name}"

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "backend": self.backend.fingerprint, "sampling": self.sampling,
                "score_decimals": self.score_decimals, "max_paper_chars": self.max_paper_chars,
                "system_prompt": CHAIN_SYSTEM_PROMPT}

    def build_many(self, materials: Sequence[PaperMaterial]) -> list[ReasoningChain | RecordError]:
        from cyclebench.backends import GenerationRequest

        requests = [
            GenerationRequest(m.submission.id, tuple(chain_prompt(m, self.max_paper_chars)), dict(self.sampling))
            for m in materials
        ]
        responses = {r.request_id: r for r in self.backend.generate(requests)} if requests else {}
        out: list[ReasoningChain | RecordError] = []
        for material in materials:
            response = responses.get(material.submission.id)
            if response is None or response.error or response.text is None:
                detail = response.error if response is not None else "no response"
                out.append(RecordError("chain_model_error", str(detail)))
            elif response.finish_reason == "length":
                out.append(RecordError("chain_model_truncated", "the answer hit max_tokens"))
            else:
                out.append(self.chain_from_answer(material, response.text))
        return out

    def chain_from_answer(self, material: PaperMaterial, text: str) -> ReasoningChain | RecordError:
        from cyclebench.protocols.deepreviewer import parse_deepreviewer_output

        parsed = parse_deepreviewer_output(text, fallback_threshold=None)
        missing = [key for key in ("search_questions", "analysis", "verification", "summary") if not parsed.sections.get(key)]
        n = len(material.discussions)
        if len(parsed.reviewers) != n:
            missing.append(f"{len(parsed.reviewers)} simulated reviewers for {n} reviews")
        if missing:
            return RecordError("chain_model_unparseable", "; ".join(missing))
        reviewers = []
        for written, discussion in zip(parsed.reviewers, material.discussions):
            human = simulated_reviewer(discussion.review)
            reviewers.append(SimulatedReview(
                summary=written.summary, strengths=written.strengths, weaknesses=written.weaknesses,
                questions=written.questions, rating=human.rating, soundness=human.soundness,
                presentation=human.presentation, contribution=human.contribution, confidence=human.confidence,
            ))
        scores = final_scores(material.discussions, self.score_decimals)
        rating = scores.pop("rating")
        assert rating is not None
        sections = {k: v for k, v in parsed.sections.items()
                    if k in ("summary", "strengths", "weaknesses", "suggestions", "questions")}
        return ReasoningChain(
            method=self.method,
            reviewers=tuple(reviewers),
            verification=parsed.sections["verification"],
            search_questions=parsed.sections["search_questions"],
            analysis=parsed.sections["analysis"],
            rating=rating,
            decision=material.decision,
            sections=sections,
            **scores,
        )
