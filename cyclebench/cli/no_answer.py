"""When an evaluation exits 1: no paper or entry got an answer from any backend (an unreachable server, a
wrong model name), so its figures are all empty and exit 0 would pass the failure off as a result.

Each rule returns one line naming the count and the backend's first error, read back from ``predictions.jsonl``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def backend_failure(results: dict, output: Path) -> str | None:
    """One line when no paper got an answer from the backend (every row a generation error), else None.

    Such a run has only null metrics; exiting 0 would pass an unreachable server off as an evaluation.
    The line names the count and the backend's first error, read back from ``predictions.jsonl``.
    """
    n_papers = int(results.get("task", {}).get("n_examples") or 0)
    failed = sum(results.get("counts", {}).get("generation_errors", {}).values())
    if not n_papers or failed < n_papers:
        return None
    first = first_backend_error(output / "predictions.jsonl")
    return (f"no paper got an answer from the backend: {failed} of {n_papers} requests failed; first error: {first} "
            f"(predictions in {output})")


def first_backend_error(predictions: Path) -> str:
    """The first backend error recorded in a run's ``predictions.jsonl`` (a row's ``generation_error``, or an
    ``error`` anywhere inside it: generator and judge rows nest theirs), on one line."""
    try:
        with open(predictions, encoding="utf-8") as handle:
            for line in handle:
                error = _error_in(json.loads(line))
                if error:
                    return " ".join(error.split())[:300]
    except (OSError, ValueError):
        pass
    return "(not recorded)"


def _error_in(value: object) -> str | None:
    if isinstance(value, dict):
        for key in ("generation_error", "error"):
            if isinstance(value.get(key), str) and value[key]:
                return value[key]
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _error_in(item)
            if found:
                return found
    return None


def no_answer(results: dict[str, Any], output: Path) -> str | None:
    """One line when every entry of every set failed at a backend (the generator's or the judge's), else None:
    such a run's figures are all empty, and exiting 0 would pass an unreachable server off as a result."""
    counts = [res["counts"] for res in results.get("sets", {}).values()]
    n_entries = sum(c.get("n_entries", 0) for c in counts)
    failed = sum(c.get("outcomes", {}).get("generation_failed", 0)
                 + c.get("judge_problems", {}).get("judge_generation_error", 0) for c in counts)
    if not n_entries or failed < n_entries:
        return None
    first = first_backend_error(output / "predictions.jsonl")
    return (f"no entry got an answer from a backend: {failed} of {n_entries} failed at the generator or the judge; "
            f"first error: {first} (predictions in {output})")
