"""The run log: what every run writes, one layout and one writer for the three kinds of run.

A run folder holds ``results.json`` (the typed header :class:`RunResults`: no timestamps, so the same inputs
give the same file), ``predictions.jsonl`` (one row per paper or sample), ``report.md`` and ``run.json``
(timings and cache hits: the only file that changes on a cached rerun). The first three are staged and
renamed in with ``results.json`` last (:func:`cyclebench.outputs.staged_files`): a full disk leaves the old
files, never half a report. The leaderboard validates ``results.json`` and the prediction rows against
``leaderboard/schemas/*.v{RESULTS_SCHEMA_VERSION}`` (tests check every kind of run against them).
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cyclebench.fileio import atomic_write_text
from cyclebench.outputs import staged_files, write_errors

RESULTS_SCHEMA_VERSION = 1

RunKind = Literal["review", "papers", "generator", "pairwise"]

# Which header fields each kind of run writes, in the order ``results.json`` lays them out.
LAYOUT: dict[str, tuple[str, ...]] = {
    "review": ("task", "protocol", "model", "seed", "n_resamples", "metrics", "counts", "definitions", "provenance"),
    "papers": ("judge", "second_judge", "threshold", "seed", "n_resamples", "config", "metrics", "counts", "sets",
               "injection", "definitions", "provenance"),
    "generator": ("task", "generator", "judge", "second_judge", "threshold", "seed", "n_resamples", "metrics",
                  "best_of_n_metrics", "counts", "sets", "reference_sets", "definitions", "provenance"),
    # written beside judgments.jsonl (cyclebench.evaluate_pairwise), not predictions.jsonl
    "pairwise": ("task", "systems", "judge", "seed", "n_resamples", "config", "metrics", "counts", "definitions",
                 "provenance"),
}


@dataclass(frozen=True)
class RunResults:
    """The header of ``results.json``: what ran (task and its dataset fingerprint, protocol, model or generator
    and judges with their backend arguments and sampling), seed, figures, counts (failures by reason),
    definitions and provenance (package versions). Each kind fills the fields :data:`LAYOUT` names for it."""

    kind: RunKind
    seed: int
    n_resamples: int
    metrics: dict[str, Any]
    counts: dict[str, Any]
    definitions: dict[str, Any]
    provenance: dict[str, Any]
    task: dict[str, Any] | None = None
    protocol: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    generator: dict[str, Any] | None = None
    judge: dict[str, Any] | None = None
    second_judge: dict[str, Any] | None = None
    threshold: float | None = None
    config: dict[str, Any] | None = None
    best_of_n_metrics: dict[str, Any] | None = None
    sets: dict[str, Any] | None = None
    injection: dict[str, Any] | None = None
    reference_sets: list[Any] | None = None
    systems: list[Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": RESULTS_SCHEMA_VERSION, "kind": self.kind,
                **{name: getattr(self, name) for name in LAYOUT[self.kind]}}


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


def provenance(**extra: Any) -> dict[str, Any]:
    """``extra`` (what the run says about where its outputs came from) plus the versions that produced it."""
    versions = package_versions()
    return {**extra, "cyclebench_version": versions.get("cyclebench", "local"), "packages": versions,
            "python": platform.python_version()}


def jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (set, tuple)):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def finite_json(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has no NaN), tuples as lists, numpy scalars as Python."""
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_run(output: Path, results: RunResults, predictions: Iterable[dict[str, Any]],
              write_report: Callable[[Path, dict[str, Any]], None], *, started: float | None = None,
              caches: Sequence[Any] = (), rows_file: str = "predictions.jsonl") -> dict[str, Any]:
    """Write ``results.json``, the rows (``rows_file``: ``predictions.jsonl``, a pairwise run's ``judgments.jsonl``)
    and the report (``write_report(folder, results)``), staged
    and renamed in, unless ``results.json`` already holds exactly these results; then, for a run that
    generated (``started`` given), ``run.json`` with its timings and cache hits. Returns the results dict."""
    header = results.to_dict()
    text = json.dumps(finite_json(header), indent=2, default=jsonable) + "\n"
    previous = output / "results.json"
    unchanged = previous.is_file() and previous.read_text(encoding="utf-8") == text
    if not (unchanged and (output / "report.md").is_file()):  # a cached rerun rewrites nothing
        with write_errors(output, f"files already in {output} are whole"), \
                staged_files(output, last=("results.json",)) as stage:
            (stage / rows_file).write_text(
                "".join(json.dumps(finite_json(row), ensure_ascii=False, default=jsonable) + "\n" for row in predictions),
                encoding="utf-8")
            (stage / "results.json").write_text(text, encoding="utf-8")
            write_report(stage, header)
    if started is not None:
        atomic_write_text(output / "run.json", json.dumps({
            "started": started, "seconds": round(time.time() - started, 3), "host": platform.node(),
            "caches": [{"dir": str(c.dir), "hits": c.hits, "misses": c.misses} for c in caches],
        }, indent=2) + "\n")
    return header
