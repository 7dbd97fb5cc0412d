"""Re-run a claimed baseline on the named build: only a run the validator reproduces is labelled baseline.

Why: ``model.baseline`` is a field the submitter writes, so it labels nothing. The label is the
validator's to give, and only to runs whose backend is one of cyclebench's registered CPU baselines
(:func:`registered_baselines`: the ``cyclebench.backends.BACKENDS`` entries whose class trains in
``prepare``). Those are cheap and deterministic on CPU, so the validator re-runs the backend with the
submission's model_args, protocol arguments, task options, split, seed and resamples on the dataset build
(trained on the task's train split, as ``cyclebench evaluate model`` does) and requires the same model
fingerprint (it holds the training data's sha256), the same predictions for every paper (statuses, decisions and
generation errors equal, scores within ``BASELINE_VALUE_TOLERANCE``: one unit of the two decimals baselines
write) and the same counts. A run of any other
backend whose results say ``baseline: true`` is rejected, and so is a baseline backend that says false.

Cost, measured on 2 CPU cores: constant and TF-IDF about 1-3 s per build; MiniLM about 30 s on the seeded
review-5k build (205 abstracts) and 2 minutes on aiscientist-iclr2022 (150 full papers). A re-run is
computed once per :class:`~cyclebench.leaderboard.datasets.DatasetBuilds`, so ``validate`` and the site build share it.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cyclebench.leaderboard.datasets import DatasetBuilds
from cyclebench.leaderboard.outcome import Verification
from cyclebench.leaderboard.rescore import compare_counts

# What a hostile model_args can make a baseline raise while it is built, trained or run.
RERUN_ERRORS = (ValueError, TypeError, KeyError, ImportError, OSError, RuntimeError)


@lru_cache(maxsize=1)
def registered_baselines() -> tuple[str, ...]:
    """The backend names that are cyclebench's own CPU baselines (their class trains in ``prepare``)."""
    from cyclebench.backends import BACKENDS, needs_training

    return tuple(name for name in sorted(BACKENDS) if needs_training(name))


def baseline_claim_problems(results: dict[str, Any]) -> list[str]:
    """Why the run's ``baseline`` flag cannot stand (empty when it agrees with its backend)."""
    if results.get("kind") == "generator":
        block = results.get("generator") or {}
        return ["generator.baseline is true, but a paper generator is never one of cyclebench's baselines"
                ] if block.get("baseline") else []
    backend, claimed = results["model"]["backend"], bool(results["model"].get("baseline"))
    if claimed and not is_baseline_run(results):
        what = "a run of imported recorded outputs" if _imported(results) else f"backend {backend!r}"
        return [f"model.baseline is true but {what} is not one of cyclebench's baselines "
                f"({', '.join(registered_baselines())}); the baseline label is given only to those, after the "
                "validator re-runs them"]
    if is_baseline_run(results) and not claimed:
        return [f"backend {backend!r} is a cyclebench baseline but model.baseline is false"]
    return []


def _imported(results: dict[str, Any]) -> bool:
    return bool((results.get("provenance") or {}).get("imported"))


def is_baseline_run(results: dict[str, Any]) -> bool:
    """A review run (not imported outputs) of one of cyclebench's registered baselines."""
    return (results.get("kind") == "review" and not _imported(results)
            and results["model"]["backend"] in registered_baselines())


@dataclass(frozen=True)
class Rerun:
    """What re-running a baseline gave: its fingerprint, per paper (output, generation error), results."""

    fingerprint: str | None = None
    outputs: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def rerun_config(results: dict[str, Any], path: Path) -> Any:
    """The ``ReviewRunConfig`` that repeats a submitted baseline run on the local build ``path``."""
    from cyclebench.evaluate_reviews import ReviewRunConfig

    task, model, protocol = results["task"], results["model"], results["protocol"]
    return ReviewRunConfig(
        task=task["name"], data=str(path), protocol=protocol["name"], backend=model["backend"],
        model_args=dict(model["model_args"]), protocol_options=dict(protocol["arguments"]), split=task["split"],
        task_options=dict(task.get("options") or {}), limit=(task.get("source") or {}).get("limit"),
        seed=results["seed"], n_resamples=results["n_resamples"],
    )


def run_baseline(config: Any) -> Rerun:
    """Run ``config`` in a scratch folder (removed afterwards) and keep what the comparison needs."""
    from cyclebench.evaluate_reviews import run_review_evaluation

    if isinstance(config.protocol_options.get("few_shot"), str):
        return Rerun(error="protocol argument few_shot names a folder on the submitter's machine; a baseline "
                           "re-run reads no submitted path")
    with tempfile.TemporaryDirectory(prefix="cyclebench-rerun-") as scratch:
        run = Path(scratch) / "run"
        try:
            run_review_evaluation(config, run, progress=False)
        except RERUN_ERRORS as error:
            return Rerun(error=f"{type(error).__name__}: {error}")
        results = json.loads((run / "results.json").read_text(encoding="utf-8"))
        rows = [json.loads(line) for line in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    return Rerun(results["model"]["fingerprint"], {r["paper_id"]: (r["parsed"], r["generation_error"]) for r in rows},
                 results)


# Baselines write their scores with two decimals, computed in float arithmetic whose last bits depend on the
# BLAS build; a value near a rounding edge can move by one unit in the last written digit on another machine.
# So the re-run is compared per paper within one such unit (plus slack), decisions and statuses exactly. The
# claimed figures are already recomputed from the submitted outputs themselves (``cyclebench.leaderboard.match``), so
# this comparison only has to show that those outputs are what the baseline gives; the slack can move a
# figure by at most 0.01 per paper, in a run that must still be consistent with its own outputs.
BASELINE_VALUE_TOLERANCE = 0.0101
_BASELINE_NUMBERS = ("rating", "soundness", "presentation", "contribution", "confidence")


def output_difference(rerun: tuple[Any, Any] | None, row: dict[str, Any]) -> str | None:
    """Why the submitted row is not what the re-run gave (None when it is, within the tolerance)."""
    if rerun is None:
        return "the re-run has no such paper"
    parsed, error = rerun
    if (error is None) != (row.get("generation_error") is None):
        return f"generation error {row.get('generation_error')!r}, re-run {error!r}"
    mine, theirs = parsed or {}, row.get("parsed") or {}
    for name in ("status", "decision"):
        if mine.get(name) != theirs.get(name):
            return f"{name} {theirs.get(name)!r}, re-run {mine.get(name)!r}"
    for name in _BASELINE_NUMBERS:
        a, b = mine.get(name), theirs.get(name)
        if (a is None) != (b is None) or (a is not None and not abs(float(a) - float(b)) <= BASELINE_VALUE_TOLERANCE):
            return f"{name} {b!r}, re-run {a!r}"
    return None


def reproduce_baseline(results: dict[str, Any], rows_by_id: dict[str, dict[str, Any]], path: Path,
                       datasets: DatasetBuilds, out: Verification) -> bool:
    """Re-run the claimed baseline and compare; True when it reproduces (problems are added otherwise)."""
    config = rerun_config(results, path)
    key = json.dumps(["baseline-rerun", asdict(config)], sort_keys=True, default=str)
    rerun = datasets.memo(key, lambda: run_baseline(config))
    where = f"re-running {config.backend} on {path}"
    if rerun.error:
        out.add("baseline_not_reproduced", f"the run claims to be a baseline but {where} failed: {rerun.error}")
        return False
    problems = []
    if rerun.fingerprint != results["model"]["fingerprint"]:
        problems.append(f"{where} gives the model fingerprint {rerun.fingerprint}, results.json says "
                        f"{results['model']['fingerprint']} (it names the training data's sha256 and the model_args)")
    differ = {pid: why for pid, row in rows_by_id.items()
              if (why := output_difference(rerun.outputs.get(pid), row))}
    differ.update({pid: "no such paper in the submission" for pid in rerun.outputs if pid not in rows_by_id})
    if differ:
        first = sorted(differ)[0]
        problems.append(f"{where} gives other predictions for {len(differ)} of {len(rerun.outputs)} papers "
                        f"(first: paper {first!r}: {differ[first]})")
    problems += [f"{where}: {p}" for p in compare_counts(results["counts"], rerun.results["counts"])]
    for message in problems:
        out.add("baseline_not_reproduced", message)
    return not problems
