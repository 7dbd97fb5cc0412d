"""A pairwise run: finished review runs (and optionally the dataset's human reviews) compared by a judge model.

Each system is a finished review run (its ``results.json`` and ``predictions.jsonl``) or, with
``human_reviews``, one human review per paper from the dataset (chosen by the seed). For every pair of systems
and every paper both reviewed usably, a judge (any backend, behind the response cache) compares the two reviews
with a pairwise protocol (:mod:`cyclebench.protocols.pairwise_judge`) **in both orders**; the figures come from
:func:`cyclebench.metrics.win_rates.win_rate_metrics`, which the leaderboard re-runs on the judgments.

A (paper, pair) is skipped with a counted reason when a system has no review of the paper
(``not_reviewed_by_both``), a system's review of it gave no output or failed to parse in its run
(``review_failed``), the paper is not in the dataset (``paper_not_in_dataset``), or ``max_pairs`` left it out
(``not_selected``, a seeded choice). Candidates = judged + skipped.

A system's review of a paper is its run's raw output; for a DeepReviewer output with a final ``\\boxed_review``
block, that block's body (what the original win-rate evaluation compared).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cyclebench import run_log
from cyclebench.backends import GenerationRequest, open_backend
from cyclebench.backends.base import recorded_model_args
from cyclebench.hub.columns import Review5K as R5K
from cyclebench.judge import generate_in_batches
from cyclebench.metrics.win_rates import OrderedJudgment, parse_failure_counts, win_rate_metrics
from cyclebench.outputs import OutputMarker, check_not_inputs, confirm_run_fingerprint, run_folder, run_identity
from cyclebench.protocols.base import get_pairwise_protocol
from cyclebench.records import problem_key
from cyclebench.run_log import RunResults, write_run
from cyclebench.truncation import MAX_PAPER_TOKENS

HUMAN = "human"
JUDGMENTS_FILE = "judgments.jsonl"
DEFINITIONS = {
    "order": "every (paper, pair) is judged twice, each system once as Review A; 'forward' shows the pair's "
             "first system (in the order the systems are listed) as A",
    "combined_result": "mean of the two orders' scores for the pair's first system (1 preferred, 0 the other, 0.5 "
                       "tie): agreeing orders give that verdict, opposite verdicts a tie; above 0.5 is a win, 0.5 "
                       "a tie, below a loss; a (paper, pair, aspect) with an order unreadable or missing is "
                       "excluded and counted, never a tie",
    "win_rate": "wins / combined results of the pair; score = mean combined score (ties as half wins)",
    "position_bias": "share of decisive single-order verdicts (A or B) that prefer the review shown first, minus "
                     "0.5; 0 is no bias",
    "bradley_terry": "Hunter's MM fit on combined scores (ties as half wins) with one virtual tie per compared "
                     "pair; rating = 1000 + 400 log10(strength), geometric-mean strength 1; undefined when the "
                     "comparison graph is not connected",
    "confidence_interval": "95% percentile paper-level bootstrap (cyclebench.metrics.bootstrap), the seed's "
                           "resamples; Bradley-Terry refitted on each resample",
    "human_review": "with --human-reviews, one human review per paper, chosen by random.Random(f'{seed}:{paper_id}'); "
                    "with the task option human_reviews_only, among the reviews it keeps",
    "review_text": "a run's raw output; for DeepReviewer outputs the body of the final \\boxed_review block",
}


@dataclass(frozen=True)
class PairwiseRunConfig:
    """What decides a pairwise run; every field lands in ``results.json``."""

    runs: tuple[str, ...]
    backend: str
    model_args: dict[str, Any] = field(default_factory=dict)
    protocol: str = "pairwise"
    protocol_options: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)
    data: str | None = None  # default: the runs' dataset folder as their results.json names it
    revision: str | None = None
    human_reviews: bool = False
    max_pairs: int | None = None
    seed: int = 0
    n_resamples: int = 10_000
    batch_size: int = 16


@dataclass
class System:
    """One reviewing system: its name, what the results record about it, and a review text per paper
    (``None`` with a reason where its review is unusable)."""

    name: str
    info: dict[str, Any]
    reviews: dict[str, str | None]
    unusable: dict[str, str] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def review_text(row: dict[str, Any]) -> str | None:
    """The review a prediction row holds (see the module docstring), or None when it has none."""
    from cyclebench.protocols.deepreviewer import find_boxed_blocks

    output = row.get("output")
    if not isinstance(output, str) or not output.strip():
        return None
    boxed = [b for b in find_boxed_blocks(output) if b.name == "review" and b.body.strip()]
    return boxed[-1].body.strip() if boxed else output.strip()


def read_run(folder: str | Path) -> tuple[dict[str, Any], System]:
    """A finished review run's header and its system (reviews by paper id); one-line errors for anything else."""
    folder = Path(folder)
    results_path, predictions_path = folder / "results.json", folder / "predictions.jsonl"
    for path in (results_path, predictions_path):
        if not path.is_file():
            raise FileNotFoundError(f"{folder} is not a finished run: {path.name} is missing")
    try:
        header = json.loads(results_path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{results_path}: not JSON ({error})") from None
    if not isinstance(header, dict) or header.get("kind") != "review":
        raise ValueError(f"{results_path}: a pairwise run compares review runs, not kind {header.get('kind')!r}")
    reviews: dict[str, str | None] = {}
    unusable: dict[str, str] = {}
    with predictions_path.open("rb") as fh:
        for line_no, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(f"{predictions_path}:{line_no}: not UTF-8 (byte {error.start})") from None
            try:
                row = json.loads(line)
                paper = row["paper_id"]
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{predictions_path}:{line_no}: not a prediction row") from None
            if not isinstance(paper, str) or paper in reviews:
                raise ValueError(f"{predictions_path}:{line_no}: paper id {paper!r} is not a new string")
            text = review_text(row)
            status = (row.get("parsed") or {}).get("status")
            reason = "no_output" if text is None else "parse_failed" if status == "failed" else None
            reviews[paper] = None if reason else text
            if reason:
                unusable[paper] = reason
    model = header.get("model") or {}
    info = {"name": folder.name, "source": "run", "run": str(folder), "results_sha256": _sha256(results_path),
            "predictions_sha256": _sha256(predictions_path), "backend": model.get("backend"),
            "model_args": model.get("model_args"), "fingerprint": model.get("fingerprint"),
            "protocol": (header.get("protocol") or {}).get("name")}
    return header, System(folder.name, info, reviews, unusable)


def _render_human(review: dict[str, Any]) -> str:
    parts = []
    for key in ("summary", "strengths", "weaknesses", "questions"):
        if review.get(key):
            parts.append(f"## {key.title()}\n\n{str(review[key]).strip()}")
    for other in review.get("other_texts") or []:
        if other.get("text") and other.get("name") not in ("title",):
            parts.append(f"## {str(other.get('name') or '').replace('_', ' ').title()}\n\n{str(other['text']).strip()}")
    if parts and review.get(R5K.RATING) is not None:
        parts.append(f"## Rating\n\n{review.get(f'{R5K.RATING}_raw') or review[R5K.RATING]}")
    return "\n\n".join(parts)


def human_system(rows: Sequence[dict[str, Any]], seed: int) -> System:
    """One human review per paper of a Review-5K-layout dataset, chosen by ``random.Random(f"{seed}:{id}")``
    among the reviews that have text."""
    reviews: dict[str, str | None] = {}
    unusable: dict[str, str] = {}
    for row in rows:
        paper = row[R5K.ID]
        texts = [t for t in (_render_human(r) for r in row.get(R5K.REVIEWS) or []) if t]
        if texts:
            reviews[paper] = texts[random.Random(f"{seed}:{paper}").randrange(len(texts))]
        else:
            reviews[paper] = None
            unusable[paper] = "no_human_review_text"
    return System(HUMAN, {"name": HUMAN, "source": "human", "choice": DEFINITIONS["human_review"]}, reviews, unusable)


def candidates(systems: Sequence[System], papers: set[str]) -> tuple[list[tuple[str, str, str]], Counter[str]]:
    """Every (paper, x, y) to judge (pairs in listed order, papers sorted) and the skipped ones by reason."""
    out, skipped = [], Counter()
    for i, x in enumerate(systems):
        for y in systems[i + 1:]:
            for paper in sorted(set(x.reviews) | set(y.reviews)):
                if paper not in x.reviews or paper not in y.reviews:
                    skipped["not_reviewed_by_both"] += 1
                elif x.reviews[paper] is None or y.reviews[paper] is None:
                    skipped["review_failed"] += 1
                elif paper not in papers:
                    skipped["paper_not_in_dataset"] += 1
                else:
                    out.append((paper, x.name, y.name))
    return out, skipped


def select(items: list[tuple[str, str, str]], max_pairs: int | None, seed: int) -> list[tuple[str, str, str]]:
    """At most ``max_pairs`` of ``items``: the first of a seeded permutation, so a larger ``max_pairs`` with the
    same seed extends the same sample (and the cache answers the items already judged)."""
    if max_pairs is None or max_pairs >= len(items):
        return list(items)
    return [items[i] for i in np.random.default_rng(seed).permutation(len(items))[:max_pairs]]


def pairwise_marker(config: PairwiseRunConfig, runs: Sequence[System]) -> OutputMarker:
    return OutputMarker("evaluation", "pairwise", run_identity(
        runs=[s.info["run"] for s in runs], run_files=[s.info["predictions_sha256"] for s in runs],
        data=config.data, revision=config.revision, human_reviews=config.human_reviews, protocol=config.protocol,
        protocol_options=config.protocol_options, backend=config.backend,
        model_args=recorded_model_args(config.model_args), sampling=config.sampling, seed=config.seed,
        max_pairs=config.max_pairs))


def _same(headers: list[dict[str, Any]], runs: Sequence[str]) -> dict[str, Any]:
    """The task all runs share (name, split, dataset fingerprint, options); an error naming the odd one out."""
    def options(task: dict[str, Any]) -> dict[str, Any]:  # the paper-token budget is each model's own
        return {k: v for k, v in (task.get("options") or {}).items() if k != MAX_PAPER_TOKENS}

    first = headers[0].get("task") or {}
    for run, header in zip(runs[1:], headers[1:]):
        task = header.get("task") or {}
        for key, ours, theirs in [*((k, first.get(k), task.get(k)) for k in ("name", "split", "dataset_fingerprint")),
                                  ("options", options(first), options(task))]:
            if ours != theirs:
                raise ValueError(f"runs differ in task {key}: {runs[0]} has {ours!r}, {run} has "
                                 f"{theirs!r}; a pairwise run compares reviews of the same papers")
    return first


def run_pairwise_evaluation(config: PairwiseRunConfig, output: str | Path, *, cache_dir: str | Path | None = None,
                            backend: Any = None, progress: bool | None = None,
                            overwrite: bool = False) -> dict[str, Any]:
    """Run (or resume) a pairwise evaluation into ``output``; returns the results dict."""
    if len(config.runs) + config.human_reviews < 2:
        raise ValueError("a pairwise run needs two systems: two or more --runs, or one run and --human-reviews")
    if config.max_pairs is not None and (isinstance(config.max_pairs, bool) or config.max_pairs < 1):
        raise ValueError(f"max_pairs must be a positive integer, not {config.max_pairs!r}")
    resolved = [Path(r).resolve() for r in config.runs]
    for i, path in enumerate(resolved):
        if path in resolved[:i]:
            raise ValueError(f"{config.runs[resolved.index(path)]} and {config.runs[i]} are the same run folder "
                             f"({path}); a pairwise run compares different systems")
    loaded = [read_run(r) for r in config.runs]
    headers, runs = [h for h, _ in loaded], [s for _, s in loaded]
    names = [s.name for s in runs] + ([HUMAN] if config.human_reviews else [])
    if len(set(names)) != len(names):
        raise ValueError(f"systems are named by their run folder, and these repeat: {names}; rename a folder")
    task_info = _same(headers, list(config.runs))
    data = config.data or (task_info.get("source") or {}).get("path")
    if not data:
        raise ValueError("the runs do not say where their dataset is: give --data")
    config = replace(config, data=str(data))
    inputs = [config.data, *config.runs, *config.model_args.values(), *config.protocol_options.values()]
    if cache_dir is not None:
        check_not_inputs(Path(cache_dir), inputs)
    with run_folder(output, pairwise_marker(config, runs), overwrite=overwrite, inputs=inputs) as folder:
        return _run(config, folder, task_info, runs, cache_dir=cache_dir, backend=backend, progress=progress)


def _run(config: PairwiseRunConfig, output: Path, task_info: dict[str, Any], systems: list[System], *,
         cache_dir: str | Path | None, backend: Any, progress: bool | None) -> dict[str, Any]:
    from cyclebench.hub.load import read_rows
    from cyclebench.pairwise_report import write_pairwise_report
    from cyclebench.tasks import get_task

    started = time.time()
    task = get_task(task_info["name"])
    options = {k: v for k, v in (task_info.get("options") or {}).items() if k != MAX_PAPER_TOKENS}
    split = task.load(config.data, task_info["split"], config.revision, **options)
    if split.fingerprint != task_info.get("dataset_fingerprint"):
        raise ValueError(f"{config.data} is not the dataset the runs read (fingerprint {split.fingerprint}, the runs "
                         f"name {task_info.get('dataset_fingerprint')})")
    papers = {e.paper_id: e for e in split.examples}
    if config.human_reviews:
        rows = read_rows(config.data, "default", [task_info["split"]], config.revision)
        if not any(R5K.REVIEWS in row for row in rows):
            raise ValueError(f"{config.data} has no review texts ({R5K.REVIEWS} column) for --human-reviews")
        if options.get("human_reviews_only") is not None:  # the runs' ground truth left these out as machine-written
            from cyclebench.tasks import _human_reviews_only

            rows, _ = _human_reviews_only(rows, read_rows(config.data, "reviews", [task_info["split"]],
                                                          config.revision), options["human_reviews_only"])
        systems = [*systems, human_system(rows, config.seed)]
    items, skipped = candidates(systems, set(papers))
    chosen = select(items, config.max_pairs, config.seed)
    if len(chosen) < len(items):
        skipped["not_selected"] = len(items) - len(chosen)
    if not chosen:
        raise ValueError("no (paper, pair) to judge; skipped: "
                         + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    reviews = {s.name: s.reviews for s in systems}
    protocol = get_pairwise_protocol(config.protocol, **config.protocol_options)
    protocol.sampling.update(config.sampling)
    sampling = {**protocol.sampling, "seed": config.seed}
    ordered = [(paper, a, b, order) for paper, x, y in chosen for a, b, order in ((x, y, "forward"), (y, x, "swapped"))]
    requests = [GenerationRequest(f"{paper}|{a}|{b}", tuple(protocol.build_messages(
        papers[paper].paper_text, reviews[a][paper], reviews[b][paper], title=papers[paper].title)), sampling)
        for paper, a, b, _ in ordered]
    opened = open_backend(config.backend, config.model_args, Path(cache_dir) if cache_dir else output / "cache",
                          backend=backend, before_cache=lambda fp: confirm_run_fingerprint(output, fp))
    try:
        responses = generate_in_batches(opened.cached, requests, config.batch_size, f"pairwise x {config.backend}",
                                        progress)
    finally:
        opened.close()
    rows, judgments, errors = [], [], Counter()
    for (paper, a, b, order), request, response in zip(ordered, requests, responses):
        failed = response.error is not None or response.text is None
        if failed:
            errors[problem_key(response.error or "empty_response")] += 1
            verdicts, problems, status = {k: None for k in protocol.aspects}, [], "failed"
        else:
            parsed = protocol.parse(response.text)
            verdicts, problems, status = parsed.verdicts, list(parsed.problems), parsed.status
        judgments.append(OrderedJudgment(paper, a, b, verdicts))
        rows.append({"paper_id": paper, "first": a, "second": b, "order": order,
                     "request_hash": request.cache_key(opened.fingerprint), "output": response.text,
                     "generation_error": response.error, "finish_reason": response.finish_reason,
                     "verdicts": verdicts, "status": status, "problems": problems})
    names = [s.name for s in systems]
    metrics = win_rate_metrics(judgments, names, protocol.aspects, n_resamples=config.n_resamples, seed=config.seed)
    results = RunResults(
        kind="pairwise",
        task={"name": task_info["name"], "split": task_info["split"], "options": options,
              "dataset_fingerprint": split.fingerprint, "source": split.source},
        systems=[{**s.info, "n_reviews": len(s.reviews), "unusable": dict(sorted(Counter(s.unusable.values()).items()))}
                 for s in systems],
        judge={"protocol": protocol.describe(), "backend": config.backend,
               "model_args": recorded_model_args(config.model_args), "fingerprint": opened.fingerprint},
        seed=config.seed, n_resamples=config.n_resamples,
        config={"max_pairs": config.max_pairs, "human_reviews": config.human_reviews, "aspects": list(protocol.aspects)},
        metrics=metrics,
        counts={"n_candidates": len(items) + sum(v for k, v in skipped.items() if k != "not_selected"),
                "n_pairs_judged": len(chosen), "n_judgments": len(rows),
                "skipped": dict(sorted(skipped.items())),
                "judgment_status": dict(sorted(Counter(r["status"] for r in rows).items())),
                "generation_errors": dict(sorted(errors.items())),
                "parse_failures": parse_failure_counts(r["problems"] for r in rows)},
        definitions=DEFINITIONS,
        provenance=run_log.provenance(imported=False),
    )
    return write_run(output, results, rows, write_pairwise_report, started=started, caches=[opened.cached],
                     rows_file=JUDGMENTS_FILE)
