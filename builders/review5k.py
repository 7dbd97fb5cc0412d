"""Review-5K: ICLR submissions with their human reviews, meta review, decision and paper text.

The published Review-5K (ICLR 2024, 4,189 train / 781 test papers) was gated and its construction
undocumented. This builder rebuilds it from a raw OpenReview snapshot plus a papers folder, streaming:
one submission at a time is parsed, filtered, given its text and written to the shard of its split, so
memory stays flat however large the snapshot is.

Configs written:
  ``default``  one row per paper, its reviews nested;
  ``reviews``  one row per review, with the paper's id, title and decision;
  ``sft``      chat messages for reviewer training: system prompt, the paper, and the human reviews,
               meta review and decision written in the CycleReviewer output format (REFERENCE 1.1).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from cyclebench.builders import citations
from cyclebench.builders.base import (
    OMIT_AT_DEFAULT,
    TEXT_KINDS,
    RejectLog,
    check_input_files,
    decision_reject,
    hash_split,
    input_fingerprint,
)
from cyclebench.builders.cards import (
    absent_configs_note,
    load_example,
    openreview_license,
)
from cyclebench.builders.citations import citation_section
from cyclebench.builders.driver import (
    Accounting,
    BuildRun,
    BuildSpec,
    input_paths,
    paper_review_balances,
    paper_review_counts,
)

from cyclebench.checks import (
    at_least,
    between,
    fraction,
    non_empty,
    one_of,
    validate_fields,
)
from cyclebench.hub.card import CardMetadata
from cyclebench.hub.columns import Review5K
from cyclebench.hub.writer import card_front_matter
from cyclebench.records import (
    PaperText,
    RecordError,
    Reject,
    Review,
    Score,
    Submission,
    abstract_stand_in,
)
from cyclebench.sources.openreview import iter_raw_notes, parse_submission
from cyclebench.sources.openreview_fields import UNIFORM_COLUMN_FIELDS, review_sections

NAME = "review-5k"
VERSION = "1.4.0"
CHANGELOG = """\
## 1.4.0
- One decision vocabulary across cyclebench's datasets (`hub.columns.DECISIONS`): `decision` is `Accept` /
  `Reject` (was `accept` / `reject`) in `default`, `reviews` and `sft`; null for a paper kept undecided,
  withdrawn or desk-rejected (their `withdrawn` / `desk_rejected` columns and `decision_raw` say which; the
  decision metrics left them out before too). The paper-level `presentation` column (oral / spotlight /
  poster) is renamed `acceptance_type`: `presentation` names a review aspect.
- The card carries the Hub metadata (`language`, `task_categories`, `task_ids`, `size_categories`,
  `source_datasets`; `license: other` with `license_name` / `license_link` when the build holds paper texts),
  cites the original work and OpenReview, and lists only configs with rows (a build without texts has no
  `sft` config; the card says why).

## 1.3.0
- `undecided: keep|drop` (`--undecided`, default `drop`): a venue still in review can be built; a kept
  undecided paper has a null `decision` (in `default` and `reviews`), gets no `sft` row (`no_decision`: its
  target would have to state an outcome), and is counted (`counts.papers_undecided_kept`, the card).
- `default` has the submission note's dates `cdate`, `odate`, `pdate` (ms since epoch, null where the note
  has none), so `check-overlap --cutoff-date` dates each paper instead of falling back to `year - 1`.

## 1.2.0
- The OpenReview reader takes values only in the type the form gives them: a title, abstract, venue, TL;DR,
  meta review, decision or comment that is not a string, keywords that are not all strings, an id or forum
  that is not 1-128 printable ASCII characters without `/`, `\\` or whitespace, or a date outside 1990-2100
  rejects the paper (`invalid_title`, `invalid_abstract`, `invalid_keywords`, `invalid_id`, `invalid_forum`,
  `implausible_date`, ...) instead of writing `"{'v': 1}"` or `-2**62` into a row; a JSON object or a nested
  list in a review field, or a review date outside that range, rejects that review (`invalid_review_field`,
  `implausible_date`). Two notes on one JSONL line are one `malformed_json` reject whose detail says so.
- A PDF is read only when it is whole (`pdf_truncated`: no `%%EOF` at its end, or a cross-reference table
  the reader had to rebuild) and has at most 300 pages (`pdf_too_many_pages`, checked before extraction).

## 1.1.0
- An optional score (confidence, soundness, presentation, contribution, the ICLR 2022-23 novelty and
  correctness questions) that is not a score on its scale ("Not applicable", "N/A", text) no longer rejects
  the review: its value is null, the answer is kept in the `*_raw` column, and the manifest counts it by
  reason (`counts.review_scores_unread`). Only a missing or unreadable rating rejects a review.
- Paper files are read only when they resolve inside the papers folder and are regular files; limits on
  archives and LaTeX expansion (reasoned rejects).

## 1.0.0
- First rebuild from raw OpenReview notes: configs `default`, `reviews`, `sft`; split by a stable hash of
  the paper id; withdrawn, desk-rejected and undecided papers rejected with a reason by default; the
  newest version of each review kept; scores stored as integer + string as written + scale.
"""

Policy = Literal["drop", "keep"]


@dataclass(frozen=True)
class Review5KConfig:
    """Everything that decides the content of a build; its hash goes into the manifest.

    Types and ranges are checked on construction (``cyclebench.checks``); the CLI checks flags and YAML
    keys by the same field metadata.
    """

    # OpenReview venue ids to keep (e.g. "ICLR.cc/2024/Conference"); empty keeps every venue in the input.
    venues: tuple[str, ...] = field(default=(), metadata=non_empty())
    # Papers with fewer readable reviews are rejected ("too_few_reviews"); 2 is the least the
    # leave-one-out proxy metric can use.
    min_reviews: int = field(default=2, metadata=at_least(0))
    # Published split: 781 test of 4,970 papers.
    test_fraction: float = field(default=0.157, metadata=fraction())
    seed: int = field(default=0, metadata=between(0, 2**32 - 1))
    withdrawn: Policy = "drop"
    desk_rejected: Policy = "drop"
    # Papers without a decision yet (a venue in review): dropped with a reason, or kept with a null decision
    # (ratings need no decision; decision metrics skip them).
    undecided: Policy = "drop"
    # Review-5K pairs every review with the paper text; without it a row cannot train a reviewer.
    require_text: bool = True
    text_prefer: tuple[str, ...] = field(default=("latex", "markdown", "text", "pdf"), metadata=one_of(TEXT_KINDS))
    # Opt-in: a kept paper without a text gets an `sft` row whose user turn is its title + abstract (the
    # stand-in the task option `abstract_fallback=true` shows at evaluation), counted as
    # `counts.sft_rows_abstract_only` and named in the card, so nobody takes those rows for full-text ones.
    # Off by default; when off it is not written into the manifest's config (default builds are unchanged).
    sft_abstract_fallback: bool = field(default=False, metadata={OMIT_AT_DEFAULT: True})
    max_rows_per_shard: int = field(default=1000, metadata=at_least(1))
    license: str = field(default="cc-by-4.0", metadata=non_empty())

    def __post_init__(self) -> None:
        validate_fields(self)


# ---------------------------------------------------------------------------------------------
# Schemas

_SCORE_FIELDS = Review5K.SCORE_FIELDS
SCHEMAS: dict[str, pa.Schema] = Review5K.SCHEMAS
SPLITS = ("train", "test")


def _score_cells(name: str, score: Score | None) -> dict[str, Any]:
    if score is None:
        return {name: None, f"{name}_raw": None, f"{name}_scale": None}
    return {name: score.value, f"{name}_raw": score.raw, f"{name}_scale": score.scale}


def review_row(review: Review) -> dict[str, Any]:
    row: dict[str, Any] = {
        "note_id": review.note_id,
        "signature": review.signature,
        "cdate": review.cdate,
        "tmdate": review.tmdate,
        "versions_seen": review.versions_seen,
    }
    for name in _SCORE_FIELDS:
        row.update(_score_cells(name, getattr(review, name)))
    row["other_scores"] = [
        {"name": k, "value": s.value, "raw": s.raw, "scale": s.scale} for k, s in review.other_scores.items()
    ]
    row.update(summary=None, strengths=None, weaknesses=None, questions=None)
    other = []
    for name, text in review.texts.items():
        column = UNIFORM_COLUMN_FIELDS.get(name)
        if column and row[column] is None:
            row[column] = text
        else:
            other.append({"name": name, "text": text})
    row["other_texts"] = other
    row["license"] = review.license
    return row


def paper_rows(submission: Submission, text: PaperText | None,
               abstract_fallback: bool = False) -> dict[str, dict[str, Any]]:
    """The rows one kept paper contributes to each config; with ``abstract_fallback`` a paper without a text
    but with an abstract still gets an ``sft`` row, its user turn the title + abstract stand-in."""
    ratings = [r.rating.value for r in submission.reviews]
    scales = sorted({r.rating.scale for r in submission.reviews})
    reviews = [review_row(r) for r in submission.reviews]
    meta = submission.meta_review
    decision = submission.decision
    label = None if decision.label == "undecided" else decision.label
    outcome = decision_value(decision.label)
    base = {
        "id": submission.id,
        "forum": submission.forum,
        "number": submission.number,
        "venue_id": submission.venue_id,
        "year": submission.year,
        "title": submission.title,
        "abstract": submission.abstract,
        "keywords": list(submission.keywords),
        "primary_area": submission.primary_area,
        "tldr": submission.tldr,
        "license": submission.license,
        Review5K.DECISION: outcome,
        Review5K.DECISION_RAW: decision.raw,
        "decision_source": decision.source,
        Review5K.ACCEPTANCE_TYPE: decision.presentation,
        "withdrawn": submission.withdrawn,
        "desk_rejected": submission.desk_rejected,
    }
    rating_mean = sum(ratings) / len(ratings) if ratings else None
    default = {
        **base,
        "paper_text": text.text if text else None,
        "text_source": text.source if text else None,
        "text_path": text.source_path if text else None,
        "text_sha256": text.source_sha256 if text else None,
        "text_cleaning": text.cleaning if text else None,
        "num_reviews": len(reviews),
        "rating_mean": rating_mean,
        "rating_scale": "|".join(scales) if scales else None,
        "reviews": reviews,
        "meta_review": meta.text if meta else None,
        "meta_review_source": meta.source if meta else None,
        "cdate": submission.cdate,
        "odate": submission.odate,
        "pdate": submission.pdate,
    }
    review_rows = [
        {
            "paper_id": submission.id,
            "title": submission.title,
            "venue_id": submission.venue_id,
            "year": submission.year,
            Review5K.DECISION: outcome,
            **row,
        }
        for row in reviews
    ]
    rows: dict[str, Any] = {"default": default, "reviews": review_rows}
    # An undecided paper gets no sft row: the target format states an outcome (see ``build``).
    shown = text.text if text is not None else None
    if shown is None and abstract_fallback and submission.abstract:
        shown = abstract_stand_in(submission.title, submission.abstract)
    if shown is not None and label is not None:
        rows["sft"] = {
            "id": submission.id,
            "title": submission.title,
            # The outcome the target states (a kept withdrawn / desk-rejected paper's target says Reject).
            Review5K.DECISION: sft_decision(decision.label),
            "rating_mean": rating_mean,
            "messages": sft_messages(submission, shown),
        }
    return rows


def decision_value(label: str) -> str | None:
    """The ``decision`` column of a paper: Accept / Reject, null without an accept/reject outcome (undecided,
    withdrawn, desk-rejected: ``withdrawn`` / ``desk_rejected`` and ``decision_raw`` say which)."""
    return {"accept": Review5K.ACCEPT, "reject": Review5K.REJECT}.get(label)


def sft_decision(label: str) -> str:
    """The decision an ``sft`` target states: Accept for an accepted paper, Reject for any other kept one."""
    return Review5K.ACCEPT if label == "accept" else Review5K.REJECT


def sft_messages(submission: Submission, paper: PaperText | str) -> list[dict[str, str]]:
    """System prompt + paper (its text, or the title + abstract stand-in) + the human reviews written as a
    CycleReviewer (Llama dialect) answer."""
    from cyclebench.protocols.cyclereviewer import (
        CycleReviewerProtocol,
        format_cyclereviewer_output,
    )

    protocol = CycleReviewerProtocol()
    messages = protocol.build_messages(paper.text if isinstance(paper, PaperText) else paper, title=submission.title)
    target = format_cyclereviewer_output(
        reviews=[_sft_review(r) for r in submission.reviews],
        meta_review=submission.meta_review.text if submission.meta_review else None,
        decision=sft_decision(submission.decision.label),
    )
    return [*messages, {"role": "assistant", "content": target}]


def _sft_review(review: Review) -> dict[str, Any]:
    """One human review as a CycleReviewer review: scores as the form wrote them; where a year's form has one
    combined strengths-and-weaknesses text it stands under strengths (built rows have always had it so)."""
    sections = review_sections(review.texts, combined_into="strengths")
    return {
        "summary": sections.summary,
        "soundness": review.soundness.raw if review.soundness else None,
        "presentation": review.presentation.raw if review.presentation else None,
        "contribution": review.contribution.raw if review.contribution else None,
        "strengths": sections.strengths,
        "weaknesses": sections.weaknesses,
        "questions": sections.questions,
        "rating": review.rating.raw,
        "confidence": review.confidence.raw if review.confidence else None,
    }


# ---------------------------------------------------------------------------------------------
# The build


@dataclass
class BuildReport:
    out: Path
    manifest: dict[str, Any] = field(default_factory=dict)


def build(
    openreview: str | Path | Iterable[str | Path],
    papers: str | Path | None,
    out: str | Path,
    config: Review5KConfig | None = None,
    *,
    overwrite: bool = False,
    progress: bool | None = None,
    ai_text_scores: str | dict[str, Any] | None = None,
) -> BuildReport:
    """Build Review-5K from raw OpenReview snapshot(s) and a papers folder into ``out`` (Hub layout).
    ``ai_text_scores``: detector model args to score every review for AI writing (``builders/ai_text.py``)."""
    from tqdm.auto import tqdm

    config = config or Review5KConfig()
    snapshots = input_paths(openreview)
    check_input_files(snapshots, "OpenReview snapshot")
    directory = None
    if papers is not None:
        from cyclebench.sources.text import PapersDirectory

        directory = PapersDirectory(papers)
    if config.require_text and directory is None:
        raise ValueError("require_text is set but no papers folder was given (--papers, or --allow-missing-text)")

    counts = {**paper_review_counts(), "papers_undecided_kept": 0}
    abstract_only = 0  # sft rows written from title + abstract (sft_abstract_fallback)
    text_sources: dict[str, int] = {}
    text_inputs: dict[str, str] = {}
    cleanings: set[str] = set()
    seen: set[str] = set()
    unread_scores: Counter[str] = Counter()
    from cyclebench.builders.ai_text import ReviewScorer, with_ai_text_columns

    scorer = ReviewScorer(ai_text_scores) if ai_text_scores else None
    schemas = with_ai_text_columns(SCHEMAS) if scorer else SCHEMAS
    spec = BuildSpec(NAME, VERSION, config, schemas, {c: list(SPLITS) for c in SCHEMAS}, config.max_rows_per_shard)
    with BuildRun(spec, out, inputs=[*snapshots, *([papers] if papers is not None else [])], overwrite=overwrite) as run:
        writer, log = run.writer, run.log
        notes = (raw for snapshot in snapshots for raw in iter_raw_notes(snapshot))
        bar = tqdm(notes, desc=f"build {NAME}", unit=" papers", disable=None if progress is None else not progress)
        for raw in bar:
            counts["papers_in"] += 1
            outcome = _process(raw, config, directory, log, seen, counts)
            if outcome is None:
                continue
            submission, text = outcome
            if text is not None:
                text_sources[text.source] = text_sources.get(text.source, 0) + 1
                text_inputs[submission.id] = text.source_sha256
                cleanings.add(text.cleaning)
            split = hash_split(submission.id, config.test_fraction, config.seed)
            rows = paper_rows(submission, text, config.sft_abstract_fallback)
            writer.add("default", split, rows["default"])
            writer.add_many("reviews", split, scorer.score_rows(rows["reviews"]) if scorer else rows["reviews"])
            if "sft" in rows:
                writer.add("sft", split, rows["sft"])
                abstract_only += text is None
            elif text is None:
                log.reject(Reject(submission.id, "sft", "no_paper_text",
                                  "and no abstract" if config.sft_abstract_fallback else ""))
            else:
                log.reject(Reject(submission.id, "sft", "no_decision", "the target states an outcome; none yet"))
            counts["papers_kept"] += 1
            if submission.decision.label == "undecided":
                counts["papers_undecided_kept"] += 1
            counts["reviews_kept"] += len(submission.reviews)
            unread_scores.update(why for r in submission.reviews for _, why in r.unread_scores)
        written = run.close_shards()
        counts["papers_rejected"] = log.by_reason("paper")
        counts["reviews_rejected"] = log.by_reason("review")
        counts["sft_rows_skipped"] = log.by_reason("sft")
        counts["splits"] = written.split_rows
        counts["text_sources"] = dict(sorted(text_sources.items()))
        # Kept reviews' optional scores that are not scores ("Not applicable" ...): null value, raw kept.
        counts["review_scores_unread"] = dict(sorted(unread_scores.items()))
        definitions: dict[str, Any] = {}
        if config.sft_abstract_fallback:  # only then: default manifests stay as they were
            counts["sft_rows_abstract_only"] = abstract_only
            definitions["sft_abstract_only"] = (
                "an sft row of a paper whose default row has a null paper_text: its user turn is the title + "
                "abstract stand-in (cyclebench.records.abstract_stand_in, as the task option abstract_fallback=true "
                "shows at evaluation), not the paper text")
        accounting = Accounting(counts, paper_review_balances(counts, log), counts["papers_kept"],
                                counts["papers_rejected"])
        path, manifest = run.commit(
            written, accounting,
            inputs={
                "openreview": [input_fingerprint(s) for s in snapshots],
                "paper_texts": dict(sorted(text_inputs.items())),
            },
            definitions={
                "split": f"sha256('{config.seed}:' + paper id) read as a fraction < {config.test_fraction} -> test",
                "reviews": "newest version per note id, then newest per reviewer signature",
                "decision": "Decision note, else venueid, else venue; Accept / Reject; null for a paper kept "
                            "undecided, withdrawn or desk-rejected (sft: the target's outcome, Reject for those "
                            "two); acceptance_type: oral / spotlight / poster ... of an accepted paper",
                "dates": "cdate / odate / pdate of the submission note, ms since epoch (UTC); null when absent",
                "text_cleaning": sorted(cleanings),
                **definitions,
            },
            card=lambda manifest: dataset_card(manifest, config, written.split_rows, written.shards),
            **({"lead": scorer.manifest()} if scorer else {}),
        )
    return BuildReport(path, manifest)


def _process(
    raw: Any,
    config: Review5KConfig,
    directory: Any,
    log: RejectLog,
    seen: set[str],
    counts: dict[str, Any],
) -> tuple[Submission, PaperText | None] | None:
    """Parse, filter and attach text to one raw note; every way out but the last logs a reject."""
    if raw.error is not None:
        log.reject(Reject(raw.record_id, "paper", raw.error.reason, raw.error.detail))
        return None
    try:
        outcome = parse_submission(raw.note)
    except RecordError as exc:
        log.reject(Reject(raw.record_id, "paper", exc.reason, exc.detail))
        return None
    submission = outcome.submission
    n_parsed = len(submission.reviews)
    counts["reviews_in"] += n_parsed + len(outcome.review_rejects)
    counts["review_versions_superseded"] += outcome.superseded_review_versions
    for reject in outcome.review_rejects:
        log.reject(reject)

    def drop(reason: str, detail: str = "") -> None:
        log.reject(Reject(submission.id, "paper", reason, detail))
        counts["reviews_dropped_with_paper"] += n_parsed

    if submission.id in seen:
        drop("duplicate_paper_id")
        return None
    seen.add(submission.id)
    if config.venues and submission.venue_id not in config.venues:
        drop("venue_not_selected", submission.venue_id)
        return None
    why = decision_reject(submission.decision, drop_withdrawn=config.withdrawn == "drop",
                          drop_desk_rejected=config.desk_rejected == "drop",
                          drop_undecided=config.undecided == "drop")
    if why is not None:
        drop(*why)
        return None
    if n_parsed < config.min_reviews:
        drop("too_few_reviews", f"{n_parsed} < {config.min_reviews}")
        return None
    text = None
    if directory is not None:
        try:
            text = directory.read(submission.id, prefer=config.text_prefer)
        except RecordError as exc:
            if config.require_text:
                drop(exc.reason, exc.detail)
                return None
            log.reject(Reject(submission.id, "text", exc.reason, exc.detail))
    if text is None and config.require_text:
        drop("no_paper_text")
        return None
    return submission, text


def sft_fallback_note(counts: dict[str, Any]) -> str:
    """The card's warning about abstract-only sft rows (empty when the build has no such option set)."""
    if "sft_rows_abstract_only" not in counts:
        return ""
    return (f"**{counts['sft_rows_abstract_only']} `sft` rows are abstract-only** (`sft_abstract_fallback`): the "
            "paper had no text, so the user turn shows its title and abstract, not the paper (its `default` row has "
            "a null `paper_text`; `counts.sft_rows_abstract_only` in `manifest.json`). A reviewer trained on them "
            "learns the output format and the rating scale from abstracts, not to review a full paper.\n\n")


def dataset_card(manifest: dict[str, Any], config: Review5KConfig, split_rows: dict[str, dict[str, int]], shards: dict[str, Any]) -> str:
    counts = manifest["counts"]
    metadata = CardMetadata(
        pretty_name="Review-5K (cyclebench rebuild)",
        task_categories=("text-generation", "text-classification"), task_ids=("text-scoring",),
        tags=("peer-review", "openreview", "iclr", "cyclebench"),
        **openreview_license(config.license, bool(counts["text_sources"])),
    )
    from cyclebench.builders.ai_text import with_ai_text_columns  # the opt-in columns, when scored

    front = card_front_matter(with_ai_text_columns(SCHEMAS) if "ai_text_scores" in manifest else SCHEMAS, split_rows,
                              shards, metadata)
    absent = absent_configs_note(split_rows, {
        "sft": "an `sft` row is the paper text plus its reviews and decision; this build has "
               + ("no paper text" if not counts["text_sources"] else "no paper with both a text and a decision")
               + f" (`counts.sft_rows_skipped`: {json.dumps(counts['sft_rows_skipped'])}); build with `--papers`"
               + " for full-text rows",
        "reviews": "no paper kept a review (`--min-reviews 0`)",
    })
    rejected = "\n".join(f"| {reason} | {n} |" for reason, n in counts["papers_rejected"].items()) or "| (none) | 0 |"
    review_rejected = "\n".join(f"| {reason} | {n} |" for reason, n in counts["reviews_rejected"].items()) or "| (none) | 0 |"
    split_table = "\n".join(
        f"| {cfg} | " + " | ".join(str(splits.get(s, 0)) for s in SPLITS) + " |" for cfg, splits in split_rows.items()
    )
    return f"""{front}
# Review-5K (cyclebench rebuild, builder {VERSION})

ICLR submissions with their human reviews, meta review, decision and paper text, rebuilt from raw
OpenReview notes by `cyclebench build review-5k` (cyclebench {manifest['cyclebench_version']}).

{load_example(split_rows, {"default": "one row per paper, reviews nested", "reviews": "one row per review",
                            "sft": "chat messages for reviewer training"})}

{absent}## Rows

| config | train | test |
|---|---|---|
{split_table}

Papers in: {counts['papers_in']}; kept: {counts['papers_kept']}, of which undecided (null `decision`, no
`sft` row): {counts['papers_undecided_kept']}. Reviews in: {counts['reviews_in']}; kept:
{counts['reviews_kept']}; older review versions dropped for a newer one: {counts['review_versions_superseded']}.

| paper rejected because | papers |
|---|---|
{rejected}

| review rejected because | reviews |
|---|---|
{review_rejected}

{sft_fallback_note(counts)}Every rejected record is listed with its reason in `rejects.jsonl`; `manifest.json` holds the config, its
hash, the sha256 of every input and shard, and these counts.

## How it was built

- Reviews: the newest version of each review (by note id, then by reviewer signature). Scores are stored as
  the integer, the string as written (`rating_raw`) and the scale (`rating_scale`, e.g. `1/3/5/6/8/10`),
  because scales differ by year.
- Decision: from the Decision note, else the submission's `venueid`, else its `venue`. `decision` is
  `Accept` or `Reject` (the vocabulary of every cyclebench dataset), the form's words in `decision_raw`, and an
  accepted paper's presentation (oral, spotlight, poster ...) in `acceptance_type`. Withdrawn and
  desk-rejected papers are marked (`withdrawn`, `desk_rejected`, null `decision`) and, with this config, {"kept" if config.withdrawn == "keep" else "rejected"} /
  {"kept" if config.desk_rejected == "keep" else "rejected"}; papers without a decision yet were
  {"kept with a null decision" if config.undecided == "keep" else "rejected (`undecided`)"}.
- Dates: `cdate`, `odate`, `pdate` of the submission note, ms since epoch (UTC), null when the note has none.
- Split: a paper is in `test` when sha256("{config.seed}:" + id), read as a fraction, is below
  {config.test_fraction}; adding papers never moves another paper.
- Paper text: see `text_source` (LaTeX, markdown or PDF extraction) and `text_cleaning` (the versioned
  cleaning step: venue header stripped, kept from the abstract, cut at the references).

## Changelog

{CHANGELOG}
## License

OpenReview notes are CC BY 4.0 (the `license` column of each note). Paper texts are the authors' work,
included for research on peer review. The original Review-5K terms forbid using models trained on it for
real peer review; that request is repeated here.

{citation_section((citations.CYCLERESEARCHER,), (citations.OPENREVIEW,))}"""
