"""A review evaluation run: task x protocol x backend -> predictions, parsed reviews, metrics, report.

The model reviews each paper of the task split as a judge (:mod:`cyclebench.judge`: protocol, backend behind
the response cache, a baseline trained on the task's training split, reflection rounds); its reviews are
scored against the human ones (:func:`cyclebench.metrics.score_predictions`). Every request goes through the
response cache, written as soon as each batch returns: a killed run regenerates nothing it had finished, and
a rerun of a finished run costs only parsing and metrics (the run log, :mod:`cyclebench.run_log`).

The run folder is claimed first (``cyclebench.outputs``): its marker records the run's identity, so the
same run resumes, a different run's folder is refused unless ``overwrite``, and a folder cyclebench did not
write is never touched.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from cyclebench import run_log
from cyclebench.backends import TrainingData, needs_training
from cyclebench.backends.base import recorded_model_args
from cyclebench.judge import JudgeConfig, JudgeItem, open_judge
from cyclebench.literature import LITERATURE_DEFINITION, literature_counts
from cyclebench.outputs import (
    OutputMarker,
    check_not_inputs,
    confirm_run_fingerprint,
    run_folder,
    run_identity,
)
from cyclebench.records import ParsedReview, ReviewExample, problem_key
from cyclebench.run_log import RunResults, write_run
from cyclebench.truncation import DEFINITION as TRUNCATION_DEFINITION
from cyclebench.truncation import MAX_PAPER_TOKENS, paper_tokenizer, truncate_papers


@dataclass(frozen=True)
class ReviewRunConfig:
    """What decides a review-evaluation run; every field lands in ``results.json``."""

    task: str
    data: str
    protocol: str
    backend: str
    model_args: dict[str, Any] = field(default_factory=dict)
    protocol_options: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)  # overrides of the protocol's defaults
    split: str | None = None
    revision: str | None = None
    task_options: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    seed: int = 0
    n_resamples: int = 10_000
    batch_size: int = 16


@dataclass
class PaperPrediction:
    """One paper's row of ``predictions.jsonl``: the raw output and what the protocol read from it."""

    paper_id: str
    request_hash: str
    output: str | None
    generation_error: str | None
    finish_reason: str | None
    parsed: dict[str, Any]
    human_ratings: list[float]
    human_accepted: bool | None
    # With the task option max_paper_tokens: whether this paper's text was cut (None: the option is off, and
    # the row has no such key, as before).
    truncated: bool | None = None
    # What a multi-turn protocol noted (DeepReviewer Best mode's literature turn); absent when empty.
    notes: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        if row["truncated"] is None:
            del row["truncated"]
        if not row["notes"]:
            del row["notes"]
        return row


def failed_parse(reason: str) -> ParsedReview:
    return ParsedReview(status="failed", problems=(reason,))


def generation_failure(error: str | None) -> ParsedReview:
    """The review of a paper the model gave no answer for."""
    return failed_parse(f"generation_error: {error}")


def review_run_marker(config: ReviewRunConfig) -> OutputMarker:
    """The run folder's marker with the run's identity: what decides each paper's review. Limit, bootstrap
    resamples and batch size are not part of it: a rerun that changes only those resumes the run (the cache
    is reused) and rewrites its results."""
    return OutputMarker("evaluation", "review", run_identity(
        task=config.task, data=config.data, revision=config.revision, split=config.split,
        task_options=config.task_options, protocol=config.protocol, protocol_options=config.protocol_options,
        backend=config.backend, model_args=recorded_model_args(config.model_args), sampling=config.sampling,
        seed=config.seed))


def option_inputs(*options: dict[str, Any]) -> list[Any]:
    """Option values that may name local files (a model folder, canned responses, few-shot examples): the
    run folder must not overlap them (``cyclebench.outputs.check_not_inputs`` keeps only existing paths)."""
    return [value for group in options for value in group.values()]


def run_review_evaluation(config: ReviewRunConfig, output: str | Path, *, cache_dir: str | Path | None = None,
                          backend: Any = None, progress: bool | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Run (or resume) one review evaluation into ``output``; returns the results dict. ``output`` must be new,
    empty or this same run's folder; ``overwrite`` replaces another run's folder that cyclebench wrote."""
    inputs = [config.data, *option_inputs(config.model_args, config.protocol_options, config.task_options)]
    if cache_dir is not None:  # the cache appends to files under it: never in, around or on an input
        check_not_inputs(Path(cache_dir), inputs)
    with run_folder(output, review_run_marker(config), overwrite=overwrite, inputs=inputs) as folder:
        return _run_review(config, folder, cache_dir=cache_dir, backend=backend, progress=progress)


def _task_training(task: Any, config: ReviewRunConfig, split: str) -> TrainingData:
    """A baseline's training data: the task's training split, never the split it is scored on."""
    if task.train_split is None:
        raise ValueError(f"task {task.name} has no training split for a baseline")
    if split == task.train_split or (split == "all" and task.train_split in ("train",)):
        raise ValueError(f"a baseline cannot be scored on its own training split ({split})")
    train = task.load(config.data, task.train_split, config.revision, **config.task_options)
    return TrainingData(train.examples, {"split": task.train_split, "n_examples": len(train.examples)})


def _skip_reasons(skipped: dict[str, int]) -> str:
    """Why the rows that were read were skipped, with counts, so an empty split says what to fix."""
    if not skipped:
        return " (no rows were read)"
    reasons = "; rows skipped: " + ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items()))
    if skipped.get("no_paper_text"):  # a build made without --papers: say the two fixes
        reasons += (" -- this build has no paper texts: rebuild it with --papers, or evaluate on title + abstract "
                    "with --task-args abstract_fallback=true (recorded in results.json)")
    return reasons


def _run_review(config: ReviewRunConfig, output: Path, *, cache_dir: str | Path | None, backend: Any,
                progress: bool | None) -> dict[str, Any]:
    from cyclebench.tasks import get_task

    started = time.time()
    task = get_task(config.task)
    is_baseline = needs_training(config.backend, backend)
    split = config.split or (task.baseline_eval_split if is_baseline else task.eval_split)
    loaded = task.load(config.data, split, config.revision, config.limit, **config.task_options)
    if not loaded.examples:
        raise ValueError(f"task {task.name} split {split} has no examples in {config.data}{_skip_reasons(loaded.skipped)}")
    judge = open_judge(
        JudgeConfig(config.protocol, config.backend, config.model_args, config.protocol_options, config.sampling),
        Path(cache_dir) if cache_dir else output / "cache", backend=backend,
        training=partial(_task_training, task, config, split), before_cache=partial(confirm_run_fingerprint, output))
    try:
        shown, truncation = loaded.examples, None
        if config.task_options.get(MAX_PAPER_TOKENS) is not None:
            truncation = truncate_papers(loaded.examples, config.task_options[MAX_PAPER_TOKENS],
                                         paper_tokenizer(judge.backend))
            shown = truncation.examples
        items = [JudgeItem(ex.paper_id, ex.paper_text, ex.title) for ex in shown]
        judgements = judge.review(items, batch_size=config.batch_size, seed=config.seed, progress=progress,
                                  label=f"{task.name} x {config.backend}", failure=generation_failure)
    finally:
        judge.close()
    parsed = [j.review for j in judgements]
    generation_errors = Counter(problem_key(j.error or "empty_response") for j in judgements
                                if j.error is not None or j.output is None)
    predictions = [
        PaperPrediction(paper_id=ex.paper_id, request_hash=j.request_hash, output=j.output, generation_error=j.error,
                        finish_reason=j.finish_reason, parsed=asdict(j.review), human_ratings=list(ex.ratings),
                        human_accepted=ex.accepted, truncated=truncation.flags[i] if truncation else None,
                        notes=j.notes)
        for i, (ex, j) in enumerate(zip(loaded.examples, judgements))
    ]
    literature = None
    if judge.literature is not None:
        literature = {**literature_counts([j.notes for j in judgements]), "search": judge.literature.describe()}
    return finish_review_run(
        output, loaded=loaded, task_options=config.task_options,
        protocol_desc={**judge.protocol.describe(), "arguments": config.protocol_options},
        model_info={"backend": config.backend, "model_args": recorded_model_args(config.model_args),
                    "fingerprint": judge.fingerprint, "baseline": is_baseline, "training": judge.training},
        parsed=parsed, predictions=predictions, generation_errors=generation_errors,
        seed=config.seed, n_resamples=config.n_resamples, provenance={"imported": False},
        started=started, caches=[judge.cached], truncation=truncation.summary if truncation else None,
        literature=literature,
    )


def finish_review_run(
    output: Path, *, loaded: Any, task_options: dict[str, Any], protocol_desc: dict[str, Any],
    model_info: dict[str, Any], parsed: list[ParsedReview], predictions: list[PaperPrediction],
    generation_errors: Counter[str], seed: int, n_resamples: int, provenance: dict[str, Any],
    started: float | None = None, caches: list[Any] | None = None, truncation: dict[str, Any] | None = None,
    literature: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score parsed reviews and write the run log (shared by model runs and imported recorded outputs, so
    both give the same figures, counts and definitions)."""
    from cyclebench.metrics import score_predictions
    from cyclebench.review_report import write_review_report

    scored = score_predictions(loaded.examples, parsed, n_resamples=n_resamples, seed=seed)
    status = Counter(p.status for p in parsed)
    problems = Counter(problem_key(problem) for p in parsed for problem in p.problems)
    results = RunResults(
        kind="review",
        task={"name": loaded.task, "split": loaded.split, "options": task_options,
              "dataset_fingerprint": loaded.fingerprint, "source": loaded.source,
              "n_examples": len(loaded.examples), "skipped": loaded.skipped},
        protocol=protocol_desc,
        model=model_info,
        seed=seed,
        n_resamples=n_resamples,
        metrics=scored["metrics"],
        counts={
            **{k: v for k, v in scored.items() if k not in ("metrics", "definitions")},
            "parse_status": dict(sorted(status.items())),
            "generation_errors": dict(sorted(generation_errors.items())),
            "parse_problems": dict(sorted(problems.items())),
            **({"truncation": truncation} if truncation is not None else {}),
            **({"literature": literature} if literature is not None else {}),
        },
        definitions={
            **scored.get("definitions", {}),
            "failed_output": "a paper whose output has no readable rating is excluded from score metrics and "
                             "counted in n_failed; it is never scored as 0",
            "decision_rule": "as the protocol read it (see each prediction's decision_rule)",
            **({"truncation": TRUNCATION_DEFINITION} if truncation is not None else {}),
            **({"literature": LITERATURE_DEFINITION} if literature is not None else {}),
        },
        provenance=run_log.provenance(**provenance),
    )
    examples: list[ReviewExample] = loaded.examples
    return write_run(output, results, (p.to_row() for p in predictions),
                     lambda folder, res: write_review_report(folder, res, examples, parsed),
                     started=started, caches=caches or [])
