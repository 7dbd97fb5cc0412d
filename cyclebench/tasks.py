"""Review-evaluation tasks: which dataset, which split, what the ground truth is.

A task reads a dataset built by ``builders/`` (a Hub-layout folder, or a Hub repo id plus revision) or, for
DeepReview-13K, the original WestlakeNLP files, through the one reader (``cyclebench.hub.load``), and yields
``ReviewExample`` records; columns are named by ``cyclebench.hub.columns``. Tasks are plain
Python in a small registry; nothing here knows about models or protocols.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cyclebench.hub.columns import ACCEPT, REJECT
from cyclebench.hub.columns import AIScientistICLR2022 as AIS
from cyclebench.hub.columns import Review5K as R5K
from cyclebench.hub.load import dataset_fingerprint, read_rows
from cyclebench.records import ReviewExample, abstract_stand_in, kept_as_human
from cyclebench.truncation import MAX_PAPER_TOKENS, check_budget


@dataclass(frozen=True)
class LoadedSplit:
    """The examples of one split plus where they came from (for the results' provenance)."""

    task: str
    split: str
    examples: list[ReviewExample]
    fingerprint: str
    source: dict[str, Any]
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewTask:
    name: str
    description: str
    splits: tuple[str, ...]
    eval_split: str
    # Split a trained baseline learns from; None when the task has none (then baselines cannot run on it).
    train_split: str | None
    # Split the baselines are scored on when the eval split overlaps their training data.
    baseline_eval_split: str | None
    loader: Callable[..., LoadedSplit]
    # Options a user may pass (``--task-args k=v``), with their defaults.
    options: dict[str, Any] = field(default_factory=dict)
    # Further split names the task accepts (DeepReview-13K rebuilds name a test split per year built).
    split_pattern: str | None = None

    def load(self, data: str, split: str | None = None, revision: str | None = None, limit: int | None = None,
             **options: Any) -> LoadedSplit:
        split = split or self.eval_split
        if split not in self.splits and not (self.split_pattern and re.fullmatch(self.split_pattern, split)):
            raise ValueError(f"task {self.name} has splits {self.splits}, not {split!r}")
        unknown = sorted(set(options) - set(self.options) - {MAX_PAPER_TOKENS})
        if unknown:
            raise ValueError(f"task {self.name} takes options {sorted([*self.options, MAX_PAPER_TOKENS])}, not {unknown}")
        if options.get(MAX_PAPER_TOKENS) is not None:  # every task's; applied by the run with the model's tokenizer
            check_budget(options[MAX_PAPER_TOKENS])
        options = {k: v for k, v in options.items() if k != MAX_PAPER_TOKENS}
        for key, value in options.items():
            check_option_type(self.name, key, self.options[key], value)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            # A negative limit would slice papers off the end, and 0 would evaluate nothing.
            raise ValueError(f"limit must be a positive integer (first N papers), not {limit!r}")
        loaded = self.loader(data, split, revision, **{**self.options, **options})
        if limit is not None:
            loaded = LoadedSplit(loaded.task, loaded.split, loaded.examples[:limit], loaded.fingerprint,
                                 {**loaded.source, "limit": limit}, loaded.skipped)
        undecided = decision_skipped(loaded.examples)
        if undecided:
            loaded = LoadedSplit(loaded.task, loaded.split, loaded.examples, loaded.fingerprint,
                                 {**loaded.source, "decision_skipped": undecided}, loaded.skipped)
        return loaded


def decision_skipped(examples: Iterable[ReviewExample]) -> dict[str, int]:
    """Examples that stay in for the rating metrics but have no accept/reject truth (a paper kept undecided,
    ``--undecided keep``, or kept withdrawn), by reason: the metrics leave them out of the decision figures
    (``n_decision_truth_missing``) and the run's ``task.source`` says why. Empty when every paper has one."""
    n = sum(1 for e in examples if e.accepted is None)
    return {"no_decision": n} if n else {}


def check_option_type(task: str, key: str, default: Any, value: Any) -> None:
    """A task option has its default's type: ``abstract_fallback=maybe`` is refused, not read as true."""
    if isinstance(default, bool) and not isinstance(value, bool):
        raise ValueError(f"task {task} option {key} must be true or false, not {value!r}")


# ---------------------------------------------------------------------------------------------
# Hub-layout datasets


def accepted_from(decision: str | None) -> bool | None:
    """The ground truth of a built dataset's ``decision`` (``hub.columns.DECISIONS``): True for Accept, False
    for Reject, None for a null (a paper without an accept/reject outcome)."""
    return True if decision == ACCEPT else False if decision == REJECT else None


def _scores(reviews: list[dict[str, Any]], name: str) -> tuple[float, ...]:
    return tuple(float(r[name]) for r in reviews if r.get(name) is not None)


def review5k_examples(rows: Iterable[dict[str, Any]], abstract_fallback: bool = False) -> tuple[list[ReviewExample], dict[str, int]]:
    """Rows of the Review-5K ``default`` config to examples; papers without text or ratings are counted.

    A paper with a null ``decision`` (kept undecided) is an example with ``accepted=None``: it counts for the
    rating metrics and is left out of the decision ones (see :func:`decision_skipped`).

    With ``abstract_fallback`` a paper built without a text is shown to the model as its title and
    abstract (counted as ``abstract_only``), which a build with ``--allow-missing-text`` needs.
    """
    examples, skipped = [], {}
    for row in rows:
        reviews = row.get(R5K.REVIEWS) or []
        ratings = _scores(reviews, R5K.RATING)
        text = row.get(R5K.PAPER_TEXT)
        if not text and abstract_fallback and row.get(R5K.ABSTRACT):
            text = abstract_stand_in(row.get(R5K.TITLE), row[R5K.ABSTRACT])
            skipped["abstract_only"] = skipped.get("abstract_only", 0) + 1
        reason = None if text else "no_paper_text"
        reason = reason or (None if ratings else "no_ratings")
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        decision = row.get(R5K.DECISION)
        examples.append(
            ReviewExample(
                paper_id=row[R5K.ID],
                title=row.get(R5K.TITLE) or "",
                paper_text=text,
                ratings=ratings,
                accepted=accepted_from(decision),
                soundness=_scores(reviews, R5K.SOUNDNESS),
                presentation=_scores(reviews, R5K.PRESENTATION),
                contribution=_scores(reviews, R5K.CONTRIBUTION),
                confidence=_scores(reviews, R5K.CONFIDENCE),
                year=row.get(R5K.YEAR),
                rating_scale=row.get(R5K.RATING_SCALE),
            )
        )
    return examples, skipped


def check_threshold(threshold: Any) -> float:
    """``human_reviews_only``'s value: a probability in [0, 1] (NaN, booleans and text refused)."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"human_reviews_only must be a probability threshold in [0, 1], not {threshold!r}")
    return float(threshold)


def _human_reviews_only(rows: list[dict[str, Any]], review_rows: Iterable[dict[str, Any]], threshold: Any
                       ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Paper rows whose nested reviews scored P(machine) > ``threshold`` (``ai_text_score`` of the ``reviews``
    config, a build with ``--ai-text-scores``) are dropped from the ground truth; a review without a score
    (too short to score) stays and is counted. Pure: the counts say what moved."""
    check_threshold(threshold)
    review_rows = list(review_rows)
    if not any(R5K.AI_TEXT_SCORE in r for r in review_rows) and review_rows:
        raise ValueError(f"human_reviews_only needs a build with AI-text scores (its reviews config has no "
                         f"{R5K.AI_TEXT_SCORE} column): rebuild with --ai-text-scores MODEL_ARGS")
    scores = {r.get("note_id"): r.get(R5K.AI_TEXT_SCORE) for r in review_rows}
    if review_rows and all(s is None for s in scores.values()):
        raise ValueError("human_reviews_only: no review of this split has an ai_text_score (the build's detector had "
                         "no calibration; see ai_text_scores in its manifest.json), so no threshold can apply")
    counts = {"threshold": threshold, "reviews": 0, "dropped": 0, "unscored_kept": 0, "papers_left_without_reviews": 0}
    out = []
    for row in rows:
        kept = [review for review in row.get(R5K.REVIEWS) or []
                if kept_as_human(scores.get(review.get("note_id")), threshold, counts)]
        counts["papers_left_without_reviews"] += bool(row.get(R5K.REVIEWS)) and not kept
        out.append({**row, R5K.REVIEWS: kept})
    counts["kept"] = counts["reviews"] - counts["dropped"]
    return out, counts


def _load_review5k(data: str, split: str, revision: str | None, abstract_fallback: bool = False,
                   human_reviews_only: Any = None) -> LoadedSplit:
    fingerprint, source = dataset_fingerprint(data, revision, split)
    rows = read_rows(data, "default", [split], revision)
    if human_reviews_only is not None:
        rows, moved = _human_reviews_only(rows, read_rows(data, "reviews", [split], revision), human_reviews_only)
        source = {**source, "human_reviews_only": moved}
    examples, skipped = review5k_examples(rows, abstract_fallback)
    source = {**source, "abstract_fallback": abstract_fallback}
    return LoadedSplit("review-5k", split, examples, fingerprint, source, skipped)


def _load_aiscientist(data: str, split: str, revision: str | None) -> LoadedSplit:
    fingerprint, source = dataset_fingerprint(data, revision, split)
    splits = ["train", "test"] if split == "all" else [split]
    examples, skipped = [], {}
    for row in read_rows(data, "default", splits, revision):
        if not row.get(AIS.PAPER_TEXT) or not row.get(AIS.RATINGS):
            skipped["no_text_or_ratings"] = skipped.get("no_text_or_ratings", 0) + 1
            continue
        examples.append(
            ReviewExample(
                paper_id=row[AIS.PAPER_ID], title=row.get(AIS.TITLE) or "", paper_text=row[AIS.PAPER_TEXT],
                ratings=tuple(row[AIS.RATINGS]), accepted=accepted_from(row.get(AIS.DECISION)), year=row.get(AIS.YEAR),
                rating_scale=row.get(AIS.RATING_SCALE),
            )
        )
    examples.sort(key=lambda e: e.paper_id)
    return LoadedSplit("aiscientist-iclr2022", split, examples, fingerprint, source, skipped)


def _load_deepreview(data: str, split: str, revision: str | None, human_reviews_only: Any = None) -> LoadedSplit:
    from cyclebench.sources.westlake import read_deepreview_split

    threshold = None if human_reviews_only is None else check_threshold(human_reviews_only)
    examples, skipped, source = read_deepreview_split(data, split, revision, human_reviews_only=threshold)
    fingerprint = source.pop("fingerprint")
    return LoadedSplit("deepreview-13k", split, examples, fingerprint, source, skipped)


TASKS: dict[str, ReviewTask] = {
    task.name: task
    for task in (
        ReviewTask(
            "review-5k", "Review-5K (ICLR, rebuilt by cyclebench): rating, aspects and decision per paper",
            splits=("train", "test"), eval_split="test", train_split="train", baseline_eval_split="test",
            loader=_load_review5k, options={"abstract_fallback": False, "human_reviews_only": None},
        ),
        ReviewTask(
            "deepreview-13k", "DeepReview-13K test papers, ICLR 2024 and 2025 kept apart",
            splits=("train", "test_2024", "test_2025"), eval_split="test_2024", train_split="train",
            baseline_eval_split="test_2024", loader=_load_deepreview, split_pattern=r"test_\d{4}",
            options={"human_reviews_only": None},
        ),
        ReviewTask(
            "aiscientist-iclr2022", "AI Scientist reviewer benchmark (ICLR 2022 papers, human ratings + decision)",
            splits=("all", "train", "test"), eval_split="all", train_split="train", baseline_eval_split="test",
            loader=_load_aiscientist,
        ),
    )
}


def get_task(name: str) -> ReviewTask:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(sorted(TASKS))}")
    return TASKS[name]
