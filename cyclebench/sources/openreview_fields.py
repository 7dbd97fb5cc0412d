"""The OpenReview review and meta-review form fields of each ICLR year, declared once.

Review field names as the forms wrote them (the fixtures under ``tests/fixtures/openreview`` and the
corpus's ICLR 2026 snapshot hold one of each):

=========  =====================================================================================
2018-2019  ``title``, ``review``, ``rating``, ``confidence`` (NeurIPS 2021 the same scores)
2020       ``review`` (one text), ``rating``, ``experience_assessment`` ... (not review text)
2021       ``review``, ``rating``, ``confidence``
2022       ``summary_of_the_paper``, ``main_review``, ``summary_of_the_review``, ``recommendation``,
           ``confidence``, ``correctness``, ``technical_novelty_and_significance`` ...
2023       ``summary_of_the_paper``, ``strength_and_weaknesses``,
           ``clarity,_quality,_novelty_and_reproducibility``, ``summary_of_the_review``, ``recommendation`` ...
2024-2026  ``summary``, ``strengths``, ``weaknesses``, ``questions``, ``soundness``, ``presentation``,
           ``contribution``, ``rating``, ``confidence`` (NeurIPS 2022-2024 the same scores)
=========  =====================================================================================

Readers (:mod:`cyclebench.sources.openreview`) use the rating and meta-review tables; builders turn a
review's ``texts`` into uniform sections only through :func:`review_sections` and the tables below, so a new
year's form is one edit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cyclebench.records import ReviewSections

# The overall score: "rating" on most forms, "recommendation" on ICLR 2022-2023.
RATING_FIELDS = ("rating", "recommendation")
# ICLR 2020's self-assessment questions: radio choices about the reviewer ("I have read many papers in this
# area.", "N/A"), form metadata rather than review text and not scores either.
ICLR2020_ASSESSMENTS = (
    "experience_assessment",
    "review_assessment:_thoroughness_in_paper_reading",
    "review_assessment:_checking_correctness_of_derivations_and_theory",
    "review_assessment:_checking_correctness_of_experiments",
)
# Form answers that are neither scores nor review text.
NOT_REVIEW_TEXT = frozenset({"code_of_conduct", "flag_for_ethics_review", "details_of_ethics_concerns",
                             *ICLR2020_ASSESSMENTS})


@dataclass(frozen=True, slots=True)
class ReviewForm:
    """The scored questions of one year's review form (tests/fixtures/openreview/forms/README.md names the
    source of each). ``scores`` are the questions besides the rating; one a note leaves out is counted as
    ``absent_<field>`` (the review is kept: only the rating is needed). ``optional`` are those the form lets
    a reviewer skip or answer without a score ("Not applicable")."""

    rating: str
    scores: tuple[str, ...]
    optional: frozenset[str] = frozenset()


_V1_2018 = ReviewForm("rating", ("confidence",))
_ICLR_2022 = ReviewForm("recommendation", ("confidence", "correctness", "technical_novelty_and_significance",
                                           "empirical_novelty_and_significance"),
                        frozenset({"empirical_novelty_and_significance"}))
_SPC = ReviewForm("rating", ("confidence", "soundness", "presentation", "contribution"))
# (venue family as in the venue id, upper-cased; year) -> form.
REVIEW_FORMS: dict[tuple[str, int], ReviewForm] = {
    ("ICLR", 2018): _V1_2018,
    ("ICLR", 2019): _V1_2018,
    ("ICLR", 2020): ReviewForm("rating", ()),  # confidence removed; self-assessments instead (not scores)
    ("ICLR", 2021): _V1_2018,
    ("ICLR", 2022): _ICLR_2022,
    ("ICLR", 2023): _ICLR_2022,
    ("ICLR", 2024): _SPC,
    ("ICLR", 2025): _SPC,
    ("ICLR", 2026): _SPC,
    ("NEURIPS", 2021): _V1_2018,
    ("NEURIPS", 2022): _SPC,
    ("NEURIPS", 2023): _SPC,
    ("NEURIPS", 2024): _SPC,
    ("NEURIPS", 2025): ReviewForm("rating", ("confidence", "quality", "clarity", "significance", "originality")),
}


def review_form(venue_id: str, year: int | None) -> ReviewForm | None:
    """The review form of a venue's year, or None when it is not in the table (nothing is counted absent)."""
    family = venue_id.split(".", 1)[0].upper() if venue_id else ""
    return REVIEW_FORMS.get((family, year or 0))
# Meta review texts, in the order they are joined; the first three are written bare, the justifications
# under their field name.
META_TEXT_FIELDS = (
    "metareview",
    "metareview:_summary,_strengths_and_weaknesses",
    "comment",
    "justification_for_why_not_higher_score",
    "justification_for_why_not_lower_score",
)
META_BARE_FIELDS = META_TEXT_FIELDS[:3]

# Review text fields that carry no review content of their own.
NON_CONTENT_FIELDS = frozenset({"title"})

# Where each uniform section comes from, first present field wins. ICLR 2020-2023 forms have one combined
# text for strengths and weaknesses, which stands in for both (see ``review_sections``).
SUMMARY_FIELDS = ("summary", "summary_of_the_paper", "summary_of_the_review")
COMBINED_FIELDS = ("strength_and_weaknesses", "main_review", "review")
STRENGTH_FIELDS = ("strengths", *COMBINED_FIELDS)
WEAKNESS_FIELDS = ("weaknesses", *COMBINED_FIELDS)
QUESTION_FIELDS = ("questions",)

# Fields that mean the same in every year that has them, and the uniform dataset column each fills; every
# other text field is kept under its own name (Review-5K's ``other_texts``).
UNIFORM_COLUMN_FIELDS = {
    "summary": "summary",
    "summary_of_the_paper": "summary",
    "strengths": "strengths",
    "weaknesses": "weaknesses",
    "questions": "questions",
}


def first_text(texts: Mapping[str, str], fields: Sequence[str]) -> str | None:
    """The first of ``fields`` with a non-blank text, stripped."""
    return next((texts[k].strip() for k in fields if texts.get(k, "").strip()), None)


def _first_field(texts: Mapping[str, str], fields: Sequence[str]) -> str | None:
    return next((k for k in fields if texts.get(k, "").strip()), None)


def review_sections(texts: Mapping[str, str], combined_into: Literal["strengths", "weaknesses"]) -> ReviewSections:
    """Summary, strengths, weaknesses and questions of a review, whatever the year's form.

    A combined field (``main_review``, ``strength_and_weaknesses``, ``review``) is written once, into the
    section ``combined_into`` names: DeepReview-13K's chain verifies weaknesses, so it reads the combined
    text as weaknesses; Review-5K's SFT target has always put it under strengths (changing it would change
    built rows).
    """
    strength_key = _first_field(texts, STRENGTH_FIELDS)
    weakness_key = _first_field(texts, WEAKNESS_FIELDS)
    if combined_into == "weaknesses":
        strength_key = strength_key if strength_key != weakness_key else None
    else:
        weakness_key = weakness_key if weakness_key not in COMBINED_FIELDS else None
    return ReviewSections(
        summary=first_text(texts, SUMMARY_FIELDS),
        strengths=texts[strength_key].strip() if strength_key else None,
        weaknesses=texts[weakness_key].strip() if weakness_key else None,
        questions=first_text(texts, QUESTION_FIELDS),
    )


def has_review_content(texts: Mapping[str, str]) -> bool:
    """At least one non-blank text field beyond those that carry no content (a title)."""
    return any(v.strip() for k, v in texts.items() if k not in NON_CONTENT_FIELDS)
