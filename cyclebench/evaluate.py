"""An evaluation run: task x protocol x backend -> predictions, parsed reviews, metrics, report.

Every request goes through a response cache keyed by the request hash, written as soon as each batch
returns; a run that is killed and started again therefore regenerates nothing it had finished, and a
rerun of a finished run costs only parsing and metrics. ``results.json`` holds no timestamps, so the same
inputs give the same file (timings live in ``run.json``).

The run folder is claimed first (``cyclebench.outputs``): its marker records the run's identity, so the
same run resumes, a different run's folder is refused unless ``overwrite``, and a folder cyclebench did not
write is never touched.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cyclebench.backends.base import recorded_model_args
from cyclebench.fileio import atomic_write_text
from cyclebench.outputs import (
    OutputMarker,
    check_not_inputs,
    confirm_run_fingerprint,
    run_folder,
    run_identity,
    staged_files,
    write_errors,
)
from cyclebench.records import ParsedReview, ReviewExample

RESULTS_SCHEMA_VERSION = 1


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


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("cyclebench", "torch", "transformers", "vllm", "datasets", "numpy", "scikit-learn", "scipy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def failed_parse(reason: str) -> ParsedReview:
    return ParsedReview(status="failed", problems=(reason,))


def _problem_key(problem: str) -> str:
    return problem.split(":", 1)[0].strip()


def score_predictions(
    examples: list[ReviewExample], parsed: list[ParsedReview], *, n_resamples: int, seed: int
) -> dict[str, Any]:
    """The metric suite for parsed reviews against the examples' human scores (failures are NaN)."""
    from cyclebench.metrics import evaluate_reviews

    nan = float("nan")
    predicted = [p.rating if p.rating is not None else nan for p in parsed]
    predicted_decision = [None if p.decision is None else p.decision == "accept" for p in parsed]
    aspects = ("soundness", "presentation", "contribution", "confidence")
    human_aspects = {a: [list(getattr(e, a)) for e in examples] for a in aspects if any(getattr(e, a) for e in examples)}
    predicted_aspects = {
        a: [getattr(p, a) if getattr(p, a) is not None else nan for p in parsed] for a in human_aspects
    }
    return evaluate_reviews(
        [list(e.ratings) for e in examples],
        predicted,
        [e.accepted for e in examples],
        predicted_decision,
        human_aspects=human_aspects or None,
        predicted_aspects=predicted_aspects or None,
        n_resamples=n_resamples,
        seed=seed,
    )


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


def _run_review(config: ReviewRunConfig, output: Path, *, cache_dir: str | Path | None, backend: Any,
                progress: bool | None) -> dict[str, Any]:
    from cyclebench.backends import GenerationRequest, build_backend
    from cyclebench.backends.cache import CachedBackend
    from cyclebench.protocols import get_protocol
    from cyclebench.tasks import get_task

    started = time.time()
    task = get_task(config.task)
    protocol = get_protocol(config.protocol, **resolve_protocol_options(config.protocol_options))
    if config.sampling:
        protocol.sampling.update(config.sampling)
    model = backend if backend is not None else build_backend(config.backend, config.model_args)
    is_baseline = bool(getattr(model, "needs_training", False))
    split = config.split or (task.baseline_eval_split if is_baseline else task.eval_split)
    loaded = task.load(config.data, split, config.revision, config.limit, **config.task_options)
    if not loaded.examples:
        raise ValueError(f"task {task.name} split {split} has no examples in {config.data}")
    train_info = None
    if is_baseline:
        if task.train_split is None:
            raise ValueError(f"task {task.name} has no training split for a baseline")
        if split == task.train_split or (split == "all" and task.train_split in ("train",)):
            raise ValueError(f"a baseline cannot be scored on its own training split ({split})")
        train = task.load(config.data, task.train_split, config.revision, **config.task_options)
        model.prepare(train.examples, protocol)
        train_info = {"split": task.train_split, "n_examples": len(train.examples),
                      "report": getattr(model, "training_report", None)}
    confirm_run_fingerprint(output, model.fingerprint)
    cached = CachedBackend(model, Path(cache_dir) if cache_dir else output / "cache")

    sampling = {**protocol.sampling, "seed": config.seed}
    requests = [
        GenerationRequest(ex.paper_id, tuple(protocol.build_messages(ex.paper_text, title=ex.title)), sampling)
        for ex in loaded.examples
    ]
    responses = _generate_all(cached, requests, config.batch_size, f"{task.name} x {config.backend}", progress)
    rounds = int(getattr(protocol, "reflections", 1) or 1)
    for round_no in range(2, rounds + 1):
        # Reflection (AI Scientist): the model sees its previous answer and may revise it, until it says
        # it is done; each round's requests are cached like the first.
        # As in the original, only a reflection answer can end the loop (round 1 always gets round 2).
        todo = [i for i, r in enumerate(responses)
                if r.text is not None and (round_no == 2 or not protocol.reflection_done(r.text))]
        if not todo:
            break
        follow = [GenerationRequest(requests[i].request_id,
                                    tuple(protocol.build_reflection_messages(list(requests[i].messages),
                                                                             responses[i].text, round_no)),
                                    sampling) for i in todo]
        answers = _generate_all(cached, follow, config.batch_size, f"reflection {round_no}/{rounds}", progress)
        for i, request, answer in zip(todo, follow, answers):
            if answer.error is None and answer.text is not None:
                requests[i], responses[i] = request, answer

    parsed: list[ParsedReview] = []
    predictions: list[PaperPrediction] = []
    generation_errors: Counter[str] = Counter()
    for example, request, response in zip(loaded.examples, requests, responses):
        if response.error is not None or response.text is None:
            reason = _problem_key(response.error or "empty_response")
            generation_errors[reason] += 1
            review = failed_parse(f"generation_error: {response.error}")
        else:
            review = protocol.parse(response.text)
        parsed.append(review)
        predictions.append(
            PaperPrediction(
                paper_id=example.paper_id,
                request_hash=request.cache_key(model.fingerprint),
                output=response.text,
                generation_error=response.error,
                finish_reason=response.finish_reason,
                parsed=asdict(review),
                human_ratings=list(example.ratings),
                human_accepted=example.accepted,
            )
        )
    results = finish_review_run(
        output, loaded=loaded, task_options=config.task_options,
        protocol_desc={**protocol.describe(), "arguments": config.protocol_options},
        model_info={"backend": config.backend, "model_args": recorded_model_args(config.model_args), "fingerprint": model.fingerprint,
                    "baseline": is_baseline, "training": train_info},
        parsed=parsed, predictions=predictions, generation_errors=generation_errors,
        seed=config.seed, n_resamples=config.n_resamples, provenance={"imported": False},
    )
    atomic_write_text(output / "run.json", json.dumps({
        "started": started, "seconds": round(time.time() - started, 3),
        "cache": {"hits": cached.hits, "misses": cached.misses}, "host": platform.node(),
    }, indent=2) + "\n")
    if backend is None:  # a backend the caller passed in stays the caller's to close
        model.close()
    return results


def finish_review_run(
    output: Path, *, loaded: Any, task_options: dict[str, Any], protocol_desc: dict[str, Any],
    model_info: dict[str, Any], parsed: list[ParsedReview], predictions: list[PaperPrediction],
    generation_errors: Counter[str], seed: int, n_resamples: int, provenance: dict[str, Any],
) -> dict[str, Any]:
    """Score parsed reviews and write results.json, predictions.jsonl and the report (shared by model runs
    and imported recorded outputs, so both give the same figures, counts and definitions)."""
    scored = score_predictions(loaded.examples, parsed, n_resamples=n_resamples, seed=seed)
    status = Counter(p.status for p in parsed)
    problems = Counter(_problem_key(problem) for p in parsed for problem in p.problems)
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "kind": "review",
        "task": {"name": loaded.task, "split": loaded.split, "options": task_options,
                 "dataset_fingerprint": loaded.fingerprint, "source": loaded.source,
                 "n_examples": len(loaded.examples), "skipped": loaded.skipped},
        "protocol": protocol_desc,
        "model": model_info,
        "seed": seed,
        "n_resamples": n_resamples,
        "metrics": scored["metrics"],
        "counts": {
            **{k: v for k, v in scored.items() if k not in ("metrics", "definitions")},
            "parse_status": dict(sorted(status.items())),
            "generation_errors": dict(sorted(generation_errors.items())),
            "parse_problems": dict(sorted(problems.items())),
        },
        "definitions": {
            **scored.get("definitions", {}),
            "failed_output": "a paper whose output has no readable rating is excluded from score metrics and "
                             "counted in n_failed; it is never scored as 0",
            "decision_rule": "as the protocol read it (see each prediction's decision_rule)",
        },
        "provenance": {**provenance, "cyclebench_version": package_versions().get("cyclebench", "local"),
                       "packages": package_versions(), "python": platform.python_version()},
    }
    results_text = json.dumps(results, indent=2, default=jsonable) + "\n"
    previous = output / "results.json"
    unchanged = previous.is_file() and previous.read_text(encoding="utf-8") == results_text
    if not (unchanged and (output / "report.md").is_file()):  # a cached rerun rewrites nothing
        from cyclebench.report import write_review_report

        # Staged, then renamed in with results.json last: a full disk leaves the old files, never half a report.
        with write_errors(output, f"files already in {output} are whole"), \
                staged_files(output, last=("results.json",)) as stage:
            (stage / "predictions.jsonl").write_text(
                "".join(json.dumps(asdict(p), ensure_ascii=False, default=jsonable) + "\n" for p in predictions),
                encoding="utf-8")
            (stage / "results.json").write_text(results_text, encoding="utf-8")
            write_review_report(stage, results, loaded.examples, parsed)
    return results


def _generate_all(backend: Any, requests: list[Any], batch_size: int, label: str, progress: bool | None) -> list[Any]:
    from tqdm.auto import tqdm

    responses = []
    with tqdm(total=len(requests), desc=label, unit=" papers", disable=None if progress is None else not progress) as bar:
        for start in range(0, len(requests), batch_size):
            batch = requests[start : start + batch_size]
            responses.extend(backend.generate(batch))
            bar.update(len(batch))
    return responses


def load_few_shot(folder: str | Path, n: int | None = None) -> list[tuple[str, str]]:
    """AI Scientist few-shot examples from a folder of ``NAME.txt`` (paper) + ``NAME.json`` (its review,
    the original double-encoded form or a plain object), sorted by name; the first ``n`` when given."""
    from cyclebench.protocols.aiscientist import decode_fewshot_review

    folder = Path(folder)
    pairs = []
    for review_file in sorted(folder.glob("*.json")):
        paper_file = review_file.with_suffix(".txt")
        if not paper_file.is_file():
            raise FileNotFoundError(f"few-shot review {review_file.name} has no paper text {paper_file.name}")
        review = decode_fewshot_review(review_file.read_text(encoding="utf-8"))
        pairs.append((paper_file.read_text(encoding="utf-8"), json.dumps(review, indent=4)))
    if not pairs:
        raise FileNotFoundError(f"no few-shot examples (*.json + *.txt) in {folder}")
    return pairs[:n] if n else pairs


def resolve_protocol_options(options: dict[str, Any]) -> dict[str, Any]:
    """Turn file-valued options into what a (pure) protocol takes: ``few_shot=DIR`` plus ``num_fs=N``."""
    options = dict(options)
    few_shot = options.get("few_shot")
    if isinstance(few_shot, str):
        options["few_shot"] = load_few_shot(few_shot, options.pop("num_fs", None))
    return options


def jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (set, tuple)):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return str(value)
