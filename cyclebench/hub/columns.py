"""The columns of every dataset cyclebench builds or reads, declared once.

Builders write through these schemas (``SCHEMAS`` per dataset: config name -> arrow schema, which is also what
the card's ``features`` say); tasks, trainers, decontamination and the leaderboard read columns through the
named constants, so a renamed column is one edit here, not a hunt for bare strings.

Each dataset is a small namespace class: its column names as constants, then its ``SCHEMAS``. The original
WestlakeNLP files of DeepReview-13K and Research-14K have the published columns of the same names.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

__all__ = [
    "ACCEPT",
    "ACCEPTANCE_TYPE",
    "DATES",
    "DECISIONS",
    "MESSAGE",
    "REJECT",
    "AIScientistICLR2022",
    "DeepReview13K",
    "Research14K",
    "Review5K",
]

# OpenReview dates in every dataset built from notes: int64 milliseconds since the epoch (UTC), as the notes
# store them; null when the note has none (odate/pdate are absent on many notes). ``DATES`` names them in the
# order check-overlap reads them: made public, created, published.
CDATE: Final = "cdate"
ODATE: Final = "odate"
PDATE: Final = "pdate"
DATES: Final = (ODATE, CDATE, PDATE)
DATE_FIELDS: Final = [pa.field(CDATE, pa.int64()), pa.field(ODATE, pa.int64()), pa.field(PDATE, pa.int64())]

# One decision vocabulary in every dataset cyclebench builds: ``decision`` is "Accept" or "Reject" (the words of
# the published DeepReview-13K, of the AI Scientist's ratings table and of the reviewer models' outputs), or null
# when a paper has no accept/reject outcome (kept undecided; Review-5K: kept withdrawn or desk-rejected, which
# its ``withdrawn`` / ``desk_rejected`` columns say). How an accepted paper was presented (oral, spotlight,
# poster, notable-top-5% ...) is its own column, ``acceptance_type``: never ``presentation``, which names a
# review aspect. The form's own words stay in ``decision_raw``.
ACCEPT: Final = "Accept"
REJECT: Final = "Reject"
DECISIONS: Final = (ACCEPT, REJECT)
ACCEPTANCE_TYPE: Final = "acceptance_type"

# A chat message as the builders store it (role + content).
MESSAGE: Final = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])


class Review5K:
    """Review-5K: ``default`` (one row per paper, reviews nested), ``reviews`` (one row per review), ``sft``."""

    ID: Final = "id"
    FORUM: Final = "forum"
    TITLE: Final = "title"
    ABSTRACT: Final = "abstract"
    YEAR: Final = "year"
    DECISION: Final = "decision"
    PAPER_TEXT: Final = "paper_text"
    RATING_SCALE: Final = "rating_scale"
    REVIEWS: Final = "reviews"
    NUM_REVIEWS: Final = "num_reviews"
    MESSAGES: Final = "messages"  # the sft config
    PAPER_ID: Final = "paper_id"  # the reviews config
    # Opt-in columns of the reviews config (``--ai-text-scores``, builders/ai_text.py): P(machine), the criterion.
    AI_TEXT_SCORE: Final = "ai_text_score"
    AI_TEXT_CRITERION: Final = "ai_text_criterion"
    # Score fields of a nested review (each also has ``<name>_raw`` and ``<name>_scale``).
    RATING: Final = "rating"
    CONFIDENCE: Final = "confidence"
    SOUNDNESS: Final = "soundness"
    PRESENTATION: Final = "presentation"
    CONTRIBUTION: Final = "contribution"
    SCORE_FIELDS: Final = (RATING, CONFIDENCE, SOUNDNESS, PRESENTATION, CONTRIBUTION)
    # Values of ``decision`` (``DECISIONS``); null for a paper kept undecided (``--undecided keep``), withdrawn
    # or desk-rejected (``--withdrawn keep``, ``--desk-rejected keep``).
    ACCEPT: Final = ACCEPT
    REJECT: Final = REJECT
    DECISION_RAW: Final = "decision_raw"
    ACCEPTANCE_TYPE: Final = ACCEPTANCE_TYPE  # oral / spotlight / poster ... of an accepted paper, else null
    # The submission note's dates (``DATES``), in ``default``.
    CDATE: Final = CDATE
    ODATE: Final = ODATE
    PDATE: Final = PDATE
    DATES: Final = DATES

    _NAMED_TEXT = pa.struct([pa.field("name", pa.string()), pa.field("text", pa.string())])
    _NAMED_SCORE = pa.struct([pa.field("name", pa.string()), pa.field("value", pa.int64()),
                              pa.field("raw", pa.string()), pa.field("scale", pa.string())])
    REVIEW_FIELDS: Final = [
        pa.field("note_id", pa.string()),
        pa.field("signature", pa.string()),
        pa.field("cdate", pa.int64()),
        pa.field("tmdate", pa.int64()),
        pa.field("versions_seen", pa.int64()),
        *[f for name in SCORE_FIELDS for f in (pa.field(name, pa.int64()), pa.field(f"{name}_raw", pa.string()),
                                                pa.field(f"{name}_scale", pa.string()))],
        pa.field("other_scores", pa.list_(_NAMED_SCORE)),
        pa.field("summary", pa.string()),
        pa.field("strengths", pa.string()),
        pa.field("weaknesses", pa.string()),
        pa.field("questions", pa.string()),
        # Every other free-text field of the year's form (title, main_review, strength_and_weaknesses ...).
        pa.field("other_texts", pa.list_(_NAMED_TEXT)),
        pa.field("license", pa.string()),
    ]
    PAPER_FIELDS: Final = [
        pa.field(ID, pa.string()),
        pa.field(FORUM, pa.string()),
        pa.field("number", pa.int64()),
        pa.field("venue_id", pa.string()),
        pa.field(YEAR, pa.int64()),
        pa.field(TITLE, pa.string()),
        pa.field(ABSTRACT, pa.string()),
        pa.field("keywords", pa.list_(pa.string())),
        pa.field("primary_area", pa.string()),
        pa.field("tldr", pa.string()),
        pa.field("license", pa.string()),
        pa.field(DECISION, pa.string()),
        pa.field(DECISION_RAW, pa.string()),
        pa.field("decision_source", pa.string()),
        pa.field(ACCEPTANCE_TYPE, pa.string()),
        pa.field("withdrawn", pa.bool_()),
        pa.field("desk_rejected", pa.bool_()),
    ]
    TEXT_FIELDS: Final = [
        pa.field(PAPER_TEXT, pa.string()),
        pa.field("text_source", pa.string()),
        pa.field("text_path", pa.string()),
        pa.field("text_sha256", pa.string()),
        pa.field("text_cleaning", pa.string()),
    ]
    SCHEMAS: Final[dict[str, pa.Schema]] = {
        "default": pa.schema([
            *PAPER_FIELDS,
            *TEXT_FIELDS,
            pa.field(NUM_REVIEWS, pa.int64()),
            pa.field("rating_mean", pa.float64()),
            pa.field(RATING_SCALE, pa.string()),
            pa.field(REVIEWS, pa.list_(pa.struct(REVIEW_FIELDS))),
            pa.field("meta_review", pa.string()),
            pa.field("meta_review_source", pa.string()),
            *DATE_FIELDS,
        ]),
        "reviews": pa.schema([
            pa.field(PAPER_ID, pa.string()),
            pa.field(TITLE, pa.string()),
            pa.field("venue_id", pa.string()),
            pa.field(YEAR, pa.int64()),
            pa.field(DECISION, pa.string()),
            *REVIEW_FIELDS,
        ]),
        "sft": pa.schema([
            pa.field(ID, pa.string()),
            pa.field(TITLE, pa.string()),
            pa.field(DECISION, pa.string()),
            pa.field("rating_mean", pa.float64()),
            pa.field(MESSAGES, pa.list_(MESSAGE)),
        ]),
    }


class DeepReview13K:
    """DeepReview-13K: the published columns (also those of the WestlakeNLP CSVs), then ours."""

    ID: Final = "id"
    TITLE: Final = "title"
    DECISION: Final = "decision"  # ``DECISIONS``; null for a paper kept undecided (``--undecided keep``)
    ACCEPT: Final = ACCEPT
    REJECT: Final = REJECT
    RATING: Final = "rating"  # JSON list of the human rating strings as the form wrote them
    REVIEWER_COMMENTS: Final = "reviewer_comments"
    INPUTS: Final = "inputs"  # system prompt + paper, chat messages
    OUTPUTS: Final = "outputs"  # the assistant turn
    PUBLISHED: Final = (ID, TITLE, DECISION, RATING, REVIEWER_COMMENTS, INPUTS, OUTPUTS)
    # opt-in (``--ai-text-scores``): one {note_id, ai_text_score, ai_text_criterion} per review, in RATING's order
    AI_TEXT_SCORES: Final = "ai_text_scores"
    YEAR: Final = "year"
    RATING_SCALE: Final = "rating_scale"
    NUM_REVIEWS: Final = "num_reviews"
    ABSTRACT: Final = "abstract"
    # OpenReview dates (``DATES``, ms since epoch): created, made public (odate), published (pdate).
    CDATE: Final = CDATE
    ODATE: Final = ODATE
    PDATE: Final = PDATE
    DATES: Final = DATES

    SCHEMAS: Final[dict[str, pa.Schema]] = {
        "default": pa.schema([
            # Published columns.
            pa.field(ID, pa.string()),
            pa.field(TITLE, pa.string()),
            pa.field(DECISION, pa.string()),
            pa.field(RATING, pa.string()),
            pa.field(REVIEWER_COMMENTS, pa.string()),  # JSON: reviews, author responses, meta review
            pa.field(INPUTS, pa.list_(MESSAGE)),
            pa.field(OUTPUTS, pa.string()),
            # Ours.
            pa.field("mode", pa.string()),
            pa.field(YEAR, pa.int64()),
            pa.field("venue_id", pa.string()),
            pa.field("text_source", pa.string()),
            pa.field("chain_method", pa.string()),
            pa.field("decision_raw", pa.string()),
            pa.field("rating_mean", pa.float64()),  # exact mean; the outputs carry it rounded
            pa.field(RATING_SCALE, pa.string()),
            pa.field(NUM_REVIEWS, pa.int64()),
            pa.field(ABSTRACT, pa.string()),
            pa.field("text_sha256", pa.string()),
            *DATE_FIELDS,
        ]),
    }


class Research14K:
    """Research-14K: the published columns (also those of the WestlakeNLP files), then provenance."""

    PAPER_ID: Final = "paperId"
    TITLE: Final = "title"
    ABSTRACT: Final = "abstract"
    VENUE: Final = "venue"
    YEAR: Final = "year"
    REFERENCES: Final = "references"  # BibTeX of the cited entries, abstracts attached where known
    ARXIV: Final = "arxiv"
    SECTIONS: Final = "sections"  # every section, appendix ones flagged
    FIGURE: Final = "figure"  # figure and table captions (table rows in content)
    MESSAGES: Final = "messages"  # 5 turns, CycleResearcher format
    PUBLISHED: Final = (PAPER_ID, TITLE, ABSTRACT, VENUE, YEAR, REFERENCES, ARXIV, SECTIONS, FIGURE, MESSAGES)
    # Columns the original files store as JSON text.
    JSON_ENCODED: Final = (MESSAGES, SECTIONS, FIGURE, REFERENCES)

    _SECTION = pa.struct([
        pa.field("heading", pa.string()), pa.field("level", pa.int64()), pa.field("number", pa.string()),
        pa.field("text", pa.string()), pa.field("appendix", pa.bool_()),
    ])
    _FIGURE = pa.struct([
        pa.field("kind", pa.string()), pa.field("number", pa.string()), pa.field("label", pa.string()),
        pa.field("caption", pa.string()), pa.field("content", pa.string()), pa.field("appendix", pa.bool_()),
    ])
    _COUNT = pa.struct([pa.field("source", pa.string()), pa.field("count", pa.int64())])
    SCHEMAS: Final[dict[str, pa.Schema]] = {
        "default": pa.schema([
            pa.field(PAPER_ID, pa.string()),
            pa.field(TITLE, pa.string()),
            pa.field(ABSTRACT, pa.string()),
            pa.field(VENUE, pa.string()),
            pa.field(YEAR, pa.int64()),
            pa.field(REFERENCES, pa.string()),
            pa.field(ARXIV, pa.string()),
            pa.field(SECTIONS, pa.list_(_SECTION)),
            pa.field(FIGURE, pa.list_(_FIGURE)),
            pa.field(MESSAGES, pa.list_(MESSAGE)),
            # Provenance.
            pa.field("topic", pa.string()),
            pa.field("topic_source", pa.string()),
            pa.field("text_source", pa.string()),
            pa.field("source_path", pa.string()),
            pa.field("source_sha256", pa.string()),
            pa.field("extractor", pa.string()),
            pa.field("references_source", pa.string()),
            pa.field("references_cited", pa.int64()),
            pa.field("references_in_bib", pa.int64()),
            pa.field("references_missing_from_bib", pa.list_(pa.string())),
            pa.field("references_abstract_sources", pa.list_(_COUNT)),
            pa.field("references_without_abstract", pa.list_(pa.string())),
            pa.field("outline_method", pa.string()),
            pa.field("part_split", pa.string()),
            pa.field("setup_count", pa.int64()),
            pa.field("results_count", pa.int64()),
            pa.field("notes", pa.list_(pa.string())),
        ]),
    }


class AIScientistICLR2022:
    """The AI Scientist reviewer benchmark (ICLR 2022 papers with human ratings and decision)."""

    PAPER_ID: Final = "paper_id"
    TITLE: Final = "title"
    PAPER_TEXT: Final = "paper_text"
    RATINGS: Final = "ratings"
    # ``DECISIONS`` (null when the table's cell is neither); the table's words ("Accept (Poster)") in
    # ``decision_raw``, the presentation of an accepted paper in ``acceptance_type``.
    DECISION: Final = "decision"
    ACCEPT: Final = ACCEPT
    REJECT: Final = REJECT
    DECISION_RAW: Final = "decision_raw"
    ACCEPTANCE_TYPE: Final = ACCEPTANCE_TYPE
    YEAR: Final = "year"
    RATING_SCALE: Final = "rating_scale"

    SCHEMAS: Final[dict[str, pa.Schema]] = {
        "default": pa.schema([
            pa.field(PAPER_ID, pa.string()),
            pa.field(TITLE, pa.string()),
            pa.field(PAPER_TEXT, pa.string()),
            pa.field(RATINGS, pa.list_(pa.float64())),
            pa.field("rating_mean", pa.float64()),
            pa.field(DECISION, pa.string()),
            pa.field(ACCEPTANCE_TYPE, pa.string()),
            pa.field(DECISION_RAW, pa.string()),
            pa.field(YEAR, pa.int64()),
            pa.field(RATING_SCALE, pa.string()),
        ]),
    }
