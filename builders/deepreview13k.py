"""DeepReview-13K: papers with a DeepReviewer reasoning chain in three modes, built from raw OpenReview notes.

The published DeepReview-13K (ICLR 2024 + 2025: 13,378 train rows per mode, 1,286 test papers in
``test_2024`` / ``test_2025``) was released without the code that made it. This builder rebuilds it from a raw
OpenReview snapshot plus a papers folder: per paper the human reviews (newest version each), the authors'
responses (Official_Comment notes signed by the authors, placed in the thread of the review they answer),
the meta review and the decision. A reasoning-chain stage (:mod:`cyclebench.builders.reasoning_chain`: offline
``ChainFromReviews`` or ``ChainByModel``) turns them into simulated reviewers, a verification of each
weakness and the final review with the averaged human scores and the real decision, and every kept paper
becomes one row per mode (fast / standard / best):

* ``inputs``: exactly ``get_protocol("deepreviewer", mode=m, reviewers=R).build_messages(paper, title)``
  (R = the paper's number of reviews, or ``prompt_reviewers`` when pinned);
* ``outputs``: the assistant turn, written by ``format_deepreviewer_output`` and checked at build time to
  parse back through the same protocol to the same scores, decision and reviewer ratings (a paper that does
  not is rejected as ``round_trip_mismatch``, never written).

Splits: ``train`` and one ``test_<year>`` per year built; a paper is in test when the stable hash of its id
falls below ``test_fraction`` (10% as published). A split left without rows is not written (``datasets``
cannot load a folder that lists an empty split); the manifest names it under ``empty_splits_omitted``. Work per paper runs on N processes through
:func:`cyclebench.builders.executor.run_ordered`; rows are written in input order, so shards are byte-identical
whatever the number of workers.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cyclebench.builders import citations
from cyclebench.builders.base import (
    TEXT_KINDS,
    check_input_files,
    decision_reject,
    hash_split,
    input_fingerprint,
)
from cyclebench.builders.cards import load_example, openreview_license
from cyclebench.builders.citations import citation_section
from cyclebench.builders.driver import (
    Accounting,
    Balance,
    BuildRun,
    BuildSpec,
    input_paths,
    paper_review_balances,
    paper_review_counts,
)
from cyclebench.builders.executor import run_ordered
from cyclebench.builders.reasoning_chain import (
    MODE_BLOCKS,
    ChainFromReviews,
    PaperMaterial,
    ReasoningChain,
    ReviewDiscussion,
    chain_review,
    chain_sections,
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
from cyclebench.hub.columns import DeepReview13K
from cyclebench.hub.writer import card_front_matter
from cyclebench.records import Comment, RecordError, Reject, Submission, to_dict
from cyclebench.sources.openreview import iter_raw_notes, parse_submission, thread_roots
from cyclebench.sources.openreview_fields import has_review_content

NAME = "deepreview-13k"
VERSION = "1.3.0"
CHANGELOG = """\
## 1.3.0
- The card carries the Hub metadata (`language`, `task_categories`, `task_ids`, `size_categories`,
  `source_datasets`; `license: other` with `license_name` / `license_link` when the build holds paper texts)
  and cites DeepReview, CycleResearcher and OpenReview. Rows are unchanged: `decision` was already `Accept` /
  `Reject`, the vocabulary every cyclebench dataset now shares (`hub.columns.DECISIONS`).

## 1.2.0
- `undecided: keep|drop` (`--undecided`, default `drop`): a venue still in review can be built with the
  offline chain or a model chain (whose prompt then reads `# Decision: none yet (the venue is still in
  review)`); a kept undecided paper has a null `decision`, its outputs have no decision line (the final
  review states none), and it is counted (`counts.papers_undecided_kept`, the card). The config gains the
  field, so the manifest's config hash changes; the rows of a `drop` build do not.

## 1.1.0
- The OpenReview reader takes values only in the type the form gives them: a title, abstract, venue, TL;DR,
  meta review, decision or comment that is not a string, keywords that are not all strings, an id or forum
  that is not 1-128 printable ASCII characters without `/`, `\\` or whitespace, or a date outside 1990-2100
  rejects the paper (`invalid_title`, `invalid_abstract`, `invalid_keywords`, `invalid_id`, `invalid_forum`,
  `implausible_date`, ...) instead of writing `"{'v': 1}"` or `-2**62` into a row; a JSON object or a nested
  list in a review field, or a review date outside that range, rejects that review (`invalid_review_field`,
  `implausible_date`). Two notes on one JSONL line are one `malformed_json` reject whose detail says so.
- A PDF is read only when it is whole (`pdf_truncated`: no `%%EOF` at its end, or a cross-reference table
  the reader had to rebuild) and has at most 300 pages (`pdf_too_many_pages`, checked before extraction).

## 1.0.0
- First rebuild from raw OpenReview notes: one row per paper and mode (fast / standard / best) with the
  published columns `id, title, decision, rating, reviewer_comments, inputs, outputs` plus `mode` and
  provenance; splits `train` + `test_<year>`; offline reasoning chain `from-reviews-v1` or a model chain;
  every output checked to parse back to the human mean scores and the real decision.
"""

Policy = Literal["drop", "as_reject"]
UndecidedPolicy = Literal["keep", "drop"]
MODES = ("fast", "standard", "best")
TITLE_ABSTRACT = "title+abstract"


@dataclass(frozen=True)
class DeepReview13KConfig:
    """Everything that decides the content of a build; its hash goes into the manifest.

    Types and ranges are checked on construction (``cyclebench.checks``); the CLI checks flags and YAML
    keys by the same field metadata.
    """

    # OpenReview venue ids to keep; empty keeps every venue in the input.
    venues: tuple[str, ...] = field(default=(), metadata=non_empty())
    # Years to build; empty builds every year found in the input (a first pass over it finds them).
    years: tuple[int, ...] = field(default=(), metadata=between(1900, 2099))
    # Fewer readable, non-empty reviews -> "too_few_reviews". 2 is the least the n-1 proxy metric can use.
    # At least 1: a chain is made from reviews.
    min_reviews: int = field(default=2, metadata=at_least(1))
    # Published: test = a random 10% per year.
    test_fraction: float = field(default=0.1, metadata=fraction())
    seed: int = field(default=0, metadata=between(0, 2**32 - 1))
    # Withdrawn / desk-rejected papers: dropped with a reason, or kept with the decision Reject.
    withdrawn: Policy = "drop"
    desk_rejected: Policy = "drop"
    # Papers without a decision yet (a venue in review): dropped with a reason, or kept with a null decision
    # and outputs without a decision line (a model chain's prompt says there is none yet).
    undecided: UndecidedPolicy = "drop"
    # Without a text file a paper is rejected ("no_paper_text"); when false its title + abstract stand in
    # (text_source "title+abstract", counted).
    require_text: bool = True
    text_prefer: tuple[str, ...] = field(default=TEXT_KINDS, metadata=one_of(TEXT_KINDS))
    modes: tuple[str, ...] = field(default=MODES, metadata=one_of(MODES))
    # Simulated reviewers the system prompt asks for; 0 = the paper's number of kept reviews, so that the
    # prompt and the target agree (the original inference default is 4).
    prompt_reviewers: int = field(default=0, metadata=at_least(0))
    # Final scores are the human means rounded to this many decimals (6.333... -> 6.33).
    score_decimals: int = field(default=2, metadata=between(0, 6))
    # The verification heuristic's "persuaded" line (ICLR's "marginally above" since 2020), on the 0-10 scale.
    acceptance_threshold: float = field(default=6.0, metadata=between(0, 10))
    max_rows_per_shard: int = field(default=1000, metadata=at_least(1))
    license: str = field(default="cc-by-4.0", metadata=non_empty())

    def __post_init__(self) -> None:
        validate_fields(self)
        if not self.modes or len(set(self.modes)) != len(self.modes):
            raise ValueError(f"modes must be distinct values of {MODES}, got {self.modes}")


# ---------------------------------------------------------------------------------------------
# Schema

SCHEMAS = DeepReview13K.SCHEMAS
SCHEMA = SCHEMAS["default"]


def split_names(years: Iterable[int]) -> list[str]:
    return ["train", *(f"test_{y}" for y in sorted(set(years)))]


def split_for(paper_id: str, year: int, config: DeepReview13KConfig) -> str:
    return f"test_{year}" if hash_split(paper_id, config.test_fraction, config.seed) == "test" else "train"


# ---------------------------------------------------------------------------------------------
# Records -> discussion (pure)


def discussions_of(submission: Submission) -> tuple[tuple[ReviewDiscussion, ...], tuple[Comment, ...]]:
    """Kept reviews with their rating history and the author comments in their threads, plus the author
    comments addressed to the whole paper."""
    roots = thread_roots(submission)
    by_time = sorted((c for c in submission.comments if c.by_authors and c.text.strip()),
                     key=lambda c: (c.cdate or 0, c.note_id))
    discussions = tuple(
        ReviewDiscussion(
            review=r,
            direct_responses=tuple(c for c in by_time if roots.get(c.note_id) == r.note_id),
        )
        for r in submission.reviews
    )
    general = tuple(c for c in by_time if roots.get(c.note_id) == submission.id)
    return discussions, general


# ---------------------------------------------------------------------------------------------
# Rows (pure)


def reviewer_comments(material: PaperMaterial) -> str:
    """The ``reviewer_comments`` cell: every kept review with its scores, texts, rating history and the
    author responses in its thread; the general author responses; the meta review."""
    reviews = []
    for i, d in enumerate(material.discussions, 1):
        r = d.review
        scores = {name: {"value": s.value, "raw": s.raw, "scale": s.scale}
                  for name in ("rating", "confidence", "soundness", "presentation", "contribution")
                  if (s := getattr(r, name)) is not None}
        reviews.append({
            "reviewer": i,
            "note_id": r.note_id,
            "scores": scores,
            "initial_rating": d.initial_rating,
            "versions_seen": r.versions_seen,
            "texts": {k: v for k, v in to_dict(chain_sections(r)).items() if v},
            "author_responses": [{"note_id": c.note_id, "title": c.title, "text": c.text} for c in d.direct_responses],
        })
    meta = material.submission.meta_review
    return json.dumps({
        "reviews": reviews,
        "general_author_responses": [{"note_id": c.note_id, "title": c.title, "text": c.text}
                                     for c in material.general_responses],
        "meta_review": meta.text if meta is not None else None,
    }, ensure_ascii=False)


def round_trip_problems(parsed: Any, chain: ReasoningChain, mode: str) -> list[str]:
    """Where a parsed output differs from the chain it was written from (scores, decision, reviewers)."""
    problems = []
    for name in ("rating", "soundness", "presentation", "contribution", "confidence"):
        if getattr(parsed, name) != getattr(chain, name):
            problems.append(f"{name}: wrote {getattr(chain, name)!r}, read {getattr(parsed, name)!r}")
    if parsed.decision != chain.decision:
        problems.append(f"decision: wrote {chain.decision!r}, read {parsed.decision!r}")
    if "simreviewers" in MODE_BLOCKS[mode]:
        written = [r.rating for r in chain.reviewers]
        read = [r.rating for r in parsed.reviewers]
        if written != read:
            problems.append(f"reviewer ratings: wrote {written}, read {read}")
    return problems


def paper_rows(material: PaperMaterial, chain: ReasoningChain, config: DeepReview13KConfig,
               extra: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per mode; raises ``RecordError("round_trip_mismatch")`` when an output does not read back."""
    from cyclebench.protocols import get_protocol
    from cyclebench.protocols.deepreviewer import format_deepreviewer_output

    sub = material.submission
    reviews = [d.review for d in material.discussions]
    reviewers = config.prompt_reviewers or len(reviews)
    ratings = [r.rating.value for r in reviews]
    base = {
        "id": sub.id,
        "title": sub.title,
        DeepReview13K.DECISION: {"accept": DeepReview13K.ACCEPT, "reject": DeepReview13K.REJECT}.get(material.decision or ""),
        "rating": json.dumps([r.rating.raw for r in reviews], ensure_ascii=False),
        "reviewer_comments": reviewer_comments(material),
    }
    rows = []
    for mode in config.modes:
        protocol = get_protocol("deepreviewer", mode=mode, reviewers=reviewers)
        try:
            output = format_deepreviewer_output(chain_review(chain, mode), escape=True)
        except ValueError as exc:
            raise RecordError("output_not_writable", f"{mode}: {exc}") from exc
        problems = round_trip_problems(protocol.parse(output), chain, mode)
        if problems:
            raise RecordError("round_trip_mismatch", f"{mode}: " + "; ".join(problems))
        rows.append({
            **base,
            "inputs": protocol.build_messages(material.paper_text, sub.title),
            "outputs": output,
            "mode": mode,
            "year": sub.year,
            "venue_id": sub.venue_id,
            "text_source": material.text_source,
            "chain_method": chain.method,
            "decision_raw": sub.decision.raw,
            "rating_mean": sum(ratings) / len(ratings),
            "rating_scale": "|".join(sorted({r.rating.scale for r in reviews})),
            "num_reviews": len(reviews),
            "abstract": sub.abstract or None,
            **extra,
        })
    return rows


# ---------------------------------------------------------------------------------------------
# The per-paper stage (runs in the workers)


@dataclass(frozen=True)
class PaperOutcome:
    """What the stage made of one raw note: rejects, review counts, and rows or the chain's material."""

    record_id: str
    paper_id: str | None = None
    rejects: tuple[Reject, ...] = ()
    rejected: bool = False
    reviews_in: int = 0
    reviews_superseded: int = 0
    reviews_kept: int = 0
    # Reviews that were readable but left with their rejected paper.
    reviews_dropped: int = 0
    material: PaperMaterial | None = None
    rows: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # Kept reviews' optional scores that are not scores ("Not applicable" ...), one reason per answer.
    scores_unread: tuple[str, ...] = ()


_DIRECTORIES: dict[str, Any] = {}


def _directory(root: str) -> Any:
    """One scanned papers folder per process (workers scan it once, not once per paper)."""
    if root not in _DIRECTORIES:
        from cyclebench.sources.text import PapersDirectory

        _DIRECTORIES[root] = PapersDirectory(root)
    return _DIRECTORIES[root]


@dataclass(frozen=True)
class PaperStage:
    """Parse, filter, attach text and (for a pure chain) build the rows of one raw note. Picklable."""

    config: DeepReview13KConfig
    papers: str | None
    chain: ChainFromReviews | None = None

    def __call__(self, raw: Any) -> PaperOutcome:
        if raw.error is not None:
            return PaperOutcome(raw.record_id, rejects=(Reject(raw.record_id, "paper", raw.error.reason, raw.error.detail),),
                                rejected=True)
        try:
            parsed = parse_submission(raw.note)
        except RecordError as exc:
            return PaperOutcome(raw.record_id, rejects=(Reject(raw.record_id, "paper", exc.reason, exc.detail),),
                                rejected=True)
        sub = parsed.submission
        rejects: list[Reject] = list(parsed.review_rejects)
        reviews_in = len(sub.reviews) + len(parsed.review_rejects)
        empty = [r for r in sub.reviews if not has_review_content(r.texts)]
        rejects += [Reject(r.note_id, "review", "empty_review", "no text in any field of the review") for r in empty]
        if empty:
            sub = dataclasses.replace(sub, reviews=tuple(r for r in sub.reviews if has_review_content(r.texts)))
        kept = len(sub.reviews)

        def drop(reason: str, detail: str = "") -> PaperOutcome:
            rejects.append(Reject(sub.id, "paper", reason, detail))
            return PaperOutcome(raw.record_id, sub.id, tuple(rejects), True, reviews_in,
                                parsed.superseded_review_versions, 0, kept)

        config = self.config
        if config.venues and sub.venue_id not in config.venues:
            return drop("venue_not_selected", sub.venue_id)
        if sub.year is None:
            return drop("unknown_year", sub.venue_id)
        if config.years and sub.year not in config.years:
            return drop("year_not_selected", str(sub.year))
        label = sub.decision.label
        why = decision_reject(sub.decision, drop_withdrawn=config.withdrawn == "drop",
                              drop_desk_rejected=config.desk_rejected == "drop",
                              drop_undecided=config.undecided == "drop")
        if why is not None:
            return drop(*why)
        if kept == 0:
            return drop("no_reviews", f"{reviews_in} review(s) in the snapshot, none readable and non-empty")
        if kept < config.min_reviews:
            return drop("too_few_reviews", f"{kept} < {config.min_reviews}")

        text = None
        if self.papers is not None:
            try:
                text = _directory(self.papers).read(sub.id, prefer=config.text_prefer)
            except RecordError as exc:
                if config.require_text:
                    return drop(exc.reason, exc.detail)
                rejects.append(Reject(sub.id, "text", exc.reason, exc.detail))
        if text is not None:
            paper_text, text_source, text_sha = text.text, text.source, text.source_sha256
        elif config.require_text:
            return drop("no_paper_text", "no text file for this id (or pass --allow-missing-text)")
        elif sub.abstract.strip():
            paper_text, text_source, text_sha = f"# {sub.title}\n\n## Abstract\n\n{sub.abstract.strip()}", TITLE_ABSTRACT, None
        else:
            return drop("no_paper_text", "no text file and no abstract to stand in")

        discussions, general = discussions_of(sub)
        material = PaperMaterial(
            submission=sub, paper_text=paper_text, text_source=text_source, discussions=discussions,
            general_responses=general,
            # None for a paper kept undecided: the chain then writes no decision (``format_deepreviewer_output``
            # leaves out a None decision and the round trip reads None back).
            decision=None if label == "undecided" else "accept" if label == "accept" else "reject",  # type: ignore[arg-type]
        )
        extra = {"text_sha256": text_sha, "cdate": sub.cdate, "pdate": sub.pdate, "odate": sub.odate}
        outcome = PaperOutcome(raw.record_id, sub.id, tuple(rejects), False, reviews_in,
                               parsed.superseded_review_versions, kept, 0, material, (), extra,
                               tuple(why for r in sub.reviews for _, why in r.unread_scores))
        if self.chain is None:
            return outcome
        try:
            rows = paper_rows(material, self.chain.build(material), config, extra)
        except RecordError as exc:
            return drop(exc.reason, exc.detail)
        return dataclasses.replace(outcome, material=None, rows=tuple(rows))


# ---------------------------------------------------------------------------------------------
# The build


@dataclass
class BuildReport:
    out: Path
    manifest: dict[str, Any] = field(default_factory=dict)


def scan_years(snapshots: Sequence[Path]) -> list[int]:
    """The years of every readable submission (a first, parse-only pass; splits must be named up front)."""
    years: set[int] = set()
    for snapshot in snapshots:
        for raw in iter_raw_notes(snapshot):
            if raw.error is not None:
                continue
            try:
                year = parse_submission(raw.note).submission.year
            except RecordError:
                continue
            if year is not None:
                years.add(year)
    return sorted(years)


def build(
    openreview: str | Path | Iterable[str | Path],
    papers: str | Path | None,
    out: str | Path,
    config: DeepReview13KConfig | None = None,
    *,
    chain: Any = None,
    workers: int | None = None,
    model_batch_size: int = 64,
    overwrite: bool = False,
    progress: bool | None = None,
    ai_text_scores: str | dict[str, Any] | None = None,
) -> BuildReport:
    """Build DeepReview-13K from raw OpenReview snapshot(s) and a papers folder into ``out`` (Hub layout).
    ``ai_text_scores``: detector model args to score every review for AI writing (``builders/ai_text.py``).

    ``chain`` is the reasoning-chain stage (default :class:`ChainFromReviews` with the config's rounding and
    threshold); a pure chain runs in the ``workers`` processes, a model chain in this process in batches of
    ``model_batch_size`` papers.
    """
    from tqdm.auto import tqdm

    config = config or DeepReview13KConfig()
    chain = chain or ChainFromReviews(score_decimals=config.score_decimals, acceptance_threshold=config.acceptance_threshold)
    if getattr(chain, "score_decimals", config.score_decimals) != config.score_decimals:
        raise ValueError("the chain's score_decimals differs from the config's")
    snapshots = input_paths(openreview)
    check_input_files(snapshots, "OpenReview snapshot")
    if papers is not None and not Path(papers).is_dir():
        raise NotADirectoryError(f"papers folder not found: {papers}")
    if config.require_text and papers is None:
        raise ValueError("require_text is set but no papers folder was given (--papers, or --allow-missing-text)")
    _DIRECTORIES.clear()  # a folder indexed by an earlier build in this process may have changed
    years = list(config.years) or scan_years(snapshots)
    splits = split_names(years)
    stage = PaperStage(config, str(Path(papers).resolve()) if papers is not None else None,
                       chain if getattr(chain, "pure", False) else None)

    counts = {**paper_review_counts(), "papers_undecided_kept": 0}
    text_sources: dict[str, int] = {}
    text_inputs: dict[str, str] = {}
    seen: set[str] = set()
    unread_scores: Counter[str] = Counter()
    from cyclebench.builders.ai_text import ReviewScorer, score_deepreview_rows, with_deepreview_column

    scorer = ReviewScorer(ai_text_scores) if ai_text_scores else None
    spec = BuildSpec(NAME, VERSION, config, with_deepreview_column(SCHEMAS) if scorer else SCHEMAS,
                     {"default": splits}, config.max_rows_per_shard, omit_empty_splits=True)
    with BuildRun(spec, out, inputs=[*snapshots, *([papers] if papers is not None else [])], overwrite=overwrite) as run:
        writer, log = run.writer, run.log

        def keep(outcome: PaperOutcome, rows: Sequence[dict[str, Any]]) -> None:
            source = rows[0]["text_source"]
            text_sources[source] = text_sources.get(source, 0) + 1
            if rows[0]["text_sha256"]:
                text_inputs[outcome.paper_id or ""] = rows[0]["text_sha256"]
            split = split_for(rows[0]["id"], rows[0]["year"], config)
            writer.add_many("default", split, score_deepreview_rows(scorer, rows) if scorer else rows)
            counts["papers_kept"] += 1
            if rows[0]["decision"] is None:
                counts["papers_undecided_kept"] += 1
            counts["reviews_kept"] += outcome.reviews_kept
            unread_scores.update(outcome.scores_unread)

        def reject_paper(outcome: PaperOutcome, reason: str, detail: str) -> None:
            log.reject(Reject(outcome.paper_id or outcome.record_id, "paper", reason, detail))
            counts["reviews_dropped_with_paper"] += outcome.reviews_kept

        pending: list[PaperOutcome] = []

        def flush() -> None:
            for outcome, made in zip(pending, chain.build_many([o.material for o in pending])):
                if isinstance(made, RecordError):
                    reject_paper(outcome, made.reason, made.detail)
                    continue
                try:
                    rows = paper_rows(outcome.material, made, config, outcome.extra)
                except RecordError as exc:
                    reject_paper(outcome, exc.reason, exc.detail)
                    continue
                keep(outcome, rows)
            pending.clear()

        notes: Iterator[Any] = (raw for snapshot in snapshots for raw in iter_raw_notes(snapshot))
        outcomes = run_ordered(stage, notes, workers)
        bar = tqdm(outcomes, desc=f"build {NAME}", unit=" papers", disable=None if progress is None else not progress)
        for outcome in bar:
            counts["papers_in"] += 1
            counts["reviews_in"] += outcome.reviews_in
            counts["review_versions_superseded"] += outcome.reviews_superseded
            if outcome.paper_id is not None and outcome.paper_id in seen:
                # A second copy of a paper id: its own paper-level verdict is replaced by this one.
                for reject in outcome.rejects:
                    if reject.stage != "paper":
                        log.reject(reject)
                log.reject(Reject(outcome.paper_id, "paper", "duplicate_paper_id", outcome.record_id))
                counts["reviews_dropped_with_paper"] += outcome.reviews_kept + outcome.reviews_dropped
                continue
            if outcome.paper_id is not None:
                seen.add(outcome.paper_id)
            for reject in outcome.rejects:
                log.reject(reject)
            if outcome.rejected:
                counts["reviews_dropped_with_paper"] += outcome.reviews_dropped
                continue
            if outcome.rows:
                keep(outcome, outcome.rows)
            else:
                pending.append(outcome)
                if len(pending) >= model_batch_size:
                    flush()
        flush()
        written = run.close_shards()
        split_rows = written.split_rows["default"]
        counts["empty_splits_omitted"] = written.omitted
        counts["papers_rejected"] = log.by_reason("paper")
        counts["reviews_rejected"] = log.by_reason("review")
        counts["text_fallbacks"] = log.by_reason("text")
        counts["splits"] = {"rows": split_rows, "papers": {s: n // len(config.modes) for s, n in split_rows.items()}}
        counts["text_sources"] = dict(sorted(text_sources.items()))
        counts["review_scores_unread"] = dict(sorted(unread_scores.items()))  # null value, raw string kept
        rows_out = sum(split_rows.values())
        accounting = Accounting(
            counts,
            balances=(*paper_review_balances(counts, log),
                      Balance(f"rows (papers x {len(config.modes)} modes)", counts["papers_kept"] * len(config.modes), rows_out)),
            kept=counts["papers_kept"], rejected=counts["papers_rejected"],
        )
        path, manifest = run.commit(
            written, accounting,
            lead={"chain": chain.describe(), **(scorer.manifest() if scorer else {})},
            inputs={
                "openreview": [input_fingerprint(s) for s in snapshots],
                "paper_texts": dict(sorted(text_inputs.items())),
            },
            definitions={
                "split": (f"test_<year> when sha256('{config.seed}:' + paper id) read as a fraction is < "
                          f"{config.test_fraction}, else train"),
                "reviews": "newest version per note id, then newest per reviewer signature; reviews with no text rejected",
                "author_responses": "Official_Comment notes signed by the paper's Authors group, placed in the thread "
                                    "of the review their replyto chain reaches, else addressed to the paper",
                "decision": "Decision note, else venueid, else venue; outputs say Accept / Reject; a paper kept "
                            "undecided has a null decision and outputs without a decision line",
                "final_scores": f"mean of the human scores per paper, rounded to {config.score_decimals} decimals",
                "round_trip": "every output parsed back by get_protocol('deepreviewer', mode=m) to the same scores, "
                              "decision and simulated reviewer ratings",
                "dates": "cdate / odate / pdate of the submission note, ms since epoch",
            },
            card=lambda manifest: dataset_card(manifest, config, split_rows, written.shards),
        )
    return BuildReport(path, manifest)


def dataset_card(manifest: dict[str, Any], config: DeepReview13KConfig, split_rows: dict[str, int],
                 shards: dict[str, Any]) -> str:
    counts = manifest["counts"]
    with_texts = any(source != "title+abstract" for source in counts["text_sources"])
    metadata = CardMetadata(
        pretty_name="DeepReview-13K (cyclebench rebuild)",
        task_categories=("text-generation", "text-classification"), task_ids=("text-scoring",),
        tags=("peer-review", "openreview", "iclr", "deepreviewer", "cyclebench"),
        **openreview_license(config.license, with_texts),
    )
    from cyclebench.builders.ai_text import with_deepreview_column  # the opt-in column, when scored

    schemas = with_deepreview_column(SCHEMAS) if "ai_text_scores" in manifest else SCHEMAS
    front = card_front_matter(schemas, {"default": split_rows}, shards, metadata)

    def table(items: dict[str, int]) -> str:
        return "\n".join(f"| {k} | {v} |" for k, v in items.items()) or "| (none) | 0 |"

    split_table = "\n".join(f"| {s} | {counts['splits']['papers'][s]} | {n} |" for s, n in split_rows.items())
    chain = manifest["chain"]
    return f"""{front}
# DeepReview-13K (cyclebench rebuild, builder {VERSION})

Papers with a DeepReviewer reasoning chain in three modes ({", ".join(config.modes)}), rebuilt from raw
OpenReview notes by `cyclebench build deepreview-13k` (cyclebench {manifest['cyclebench_version']}).

{load_example({"default": split_rows}, {"default": "splits: " + ", ".join(split_rows)})}

## Rows

| split | papers | rows (papers x modes) |
|---|---|---|
{split_table}

Papers in: {counts['papers_in']}; kept: {counts['papers_kept']}, of which undecided (null `decision`, outputs
without a decision line): {counts['papers_undecided_kept']}. Reviews in: {counts['reviews_in']}; kept:
{counts['reviews_kept']}. Text sources: {json.dumps(counts['text_sources'])}.

| paper rejected because | papers |
|---|---|
{table(counts['papers_rejected'])}

| review rejected because | reviews |
|---|---|
{table(counts['reviews_rejected'])}

Every rejected record is in `rejects.jsonl` with its reason; `manifest.json` holds the config, its hash, the
sha256 of every input and shard, the chain stage's description and these counts.

## Columns

`id, title, decision, rating, reviewer_comments, inputs, outputs` as published (`decision` is `Accept` /
`Reject`, the vocabulary of every cyclebench dataset: a kept withdrawn or desk-rejected paper is `Reject`, an
undecided one null; `rating` is a JSON list of the human rating strings as the form wrote them; `reviewer_comments` a JSON object with every review, its scores,
rating history and the author responses in its thread, the general author responses and the meta review;
`inputs` the system prompt of the mode + the paper; `outputs` the assistant turn), then `mode` and provenance:
`year, venue_id, text_source, chain_method, decision_raw, rating_mean, rating_scale, num_reviews, abstract,
text_sha256, cdate, odate, pdate`. Rating scales differ by year (ICLR 2026 rates on 0/2/4/6/8/10):
`rating_scale` names it.

## How it was built

- Reasoning chain: `{chain['method']}`. The offline chain (`from-reviews-v1`) writes one simulated reviewer
  per human review (its final texts and scores), a verification block per weakness whose conclusion is a
  **heuristic** read from the discussion (direct author response, rating moved up past
  {config.acceptance_threshold:g} -> Invalid; rating up otherwise -> Partially Valid; else Valid; confidence
  from how much discussion evidence exists), and the final review: human mean scores rounded to
  {config.score_decimals} decimals, the real decision, summary from the meta review (else the most confident
  reviewer), attributed strengths and questions, and the weaknesses not judged Invalid. Best mode adds three
  literature-search questions and an analysis derived from the paper's metadata and the reviewers' prior-work
  points; no search is run.
- Modes crop one chain: fast = final review; standard = simulated reviewers + verification + final review;
  best = search questions + analysis + standard.
- Round trip: every output was parsed back by the `deepreviewer` protocol of its mode to the same scores,
  decision and reviewer ratings before it was written.
- Split: `test_<year>` when sha256("{config.seed}:" + id), read as a fraction, is below {config.test_fraction};
  adding papers never moves another paper.

## Changelog

{CHANGELOG}
## License

OpenReview notes are CC BY 4.0. Paper texts are the authors' work, included for research on peer review. The
original DeepReview-13K terms forbid using models trained on it for real peer review; that request is
repeated here.

{citation_section((citations.DEEPREVIEW, citations.CYCLERESEARCHER), (citations.OPENREVIEW,))}"""

