"""Turn an evaluation run folder into a leaderboard submission folder.

``submit`` copies ``results.json`` and ``predictions.jsonl`` byte for byte and writes ``metadata.yaml``
(who, what, which dataset build, the two files' sha256) into ``<out>/<date>_<name>/``, atomically. It
checks the run with the same limits and schemas ``validate`` uses, so a run the leaderboard would refuse
for its form is refused here, before a pull request; re-scoring needs the dataset build and is left to
``validate``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from cyclebench.leaderboard import SCHEMA_VERSION
from cyclebench.leaderboard.safe_read import FILE_LIMITS, ReadError, decode_utf8, loads_json, read_bounded
from cyclebench.leaderboard.schema_check import document_version, schema_errors
from cyclebench.leaderboard.validate import FOLDER_PATTERN, expected_label, model_block


class SubmitError(ValueError):
    """A run that cannot become a submission, with every reason."""


def default_model_name(results: dict[str, Any]) -> str:
    """A display name from the run: the model path or name it was given, else the backend."""
    model = model_block(results)
    args = model.get("model_args") or {}
    for key in ("name", "pretrained", "model"):
        if isinstance(args.get(key), str) and args[key]:
            return args[key]
    return model["backend"]


def build_metadata(results: dict[str, Any], *, name: str, date: str, model_name: str | None, authors: list[str],
                   links: list[str], results_sha256: str, predictions_sha256: str,
                   dataset_revision: str | None = None, description: str | None = None) -> dict[str, Any]:
    task, model = results["task"], model_block(results)
    fingerprint = task["dataset_fingerprint"]
    if dataset_revision is None and fingerprint.startswith("hub:"):
        dataset_revision = fingerprint.rsplit("@", 1)[1]
    source = task.get("source") or {}
    metadata: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "date": date,
        "kind": results["kind"],
        "label": expected_label(results),
        "model": {"name": model_name or default_model_name(results), "backend": model["backend"],
                  "model_args": model["model_args"], "fingerprint": model["fingerprint"]},
    }
    if "baseline" in model:
        metadata["model"]["baseline"] = model["baseline"]
    if results["kind"] == "review":
        metadata["protocol"] = {"name": results["protocol"]["name"], "arguments": results["protocol"]["arguments"]}
    else:
        judge = results["judge"]
        metadata["judge"] = {"protocol": judge["protocol"], "backend": judge["backend"], "model_args": judge["model_args"]}
    metadata["task"] = {"name": task["name"], "split": task["split"], "options": task.get("options", {})}
    metadata["dataset"] = {"fingerprint": fingerprint, "revision": dataset_revision,
                           "builder": source.get("builder"), "builder_version": source.get("builder_version")}
    metadata["authors"] = list(authors)
    metadata["links"] = list(links)
    if description:
        metadata["description"] = description
    metadata["files"] = {"results.json": results_sha256, "predictions.jsonl": predictions_sha256}
    return metadata


def submit(run_dir: str | Path, name: str, *, out: str | Path = "leaderboard/submissions", model_name: str | None = None,
           authors: list[str] | tuple[str, ...] = (), links: list[str] | tuple[str, ...] = (), date: str | None = None,
           dataset_revision: str | None = None, description: str | None = None) -> Path:
    """Create ``<out>/<date>_<name>/`` from a run folder; returns the new folder."""
    import yaml

    run_dir, out = Path(run_dir), Path(out)
    date = date or dt.date.today().isoformat()
    folder_name = f"{date}_{name}"
    if not FOLDER_PATTERN.match(folder_name):
        raise SubmitError(f"name {name!r} / date {date!r} do not make a valid folder name <YYYY-MM-DD>_<name> "
                          "(name: letters, digits, '.', '_', '-', starting with a letter or digit)")
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise SubmitError(f"date {date!r} is not a calendar date (YYYY-MM-DD)") from None
    target = out / folder_name
    if target.exists():
        raise SubmitError(f"{target} already exists")
    try:
        results_bytes = read_bounded(run_dir / "results.json", FILE_LIMITS["results.json"])
        results = loads_json(decode_utf8(results_bytes, "results.json"), "results.json")
        predictions = read_bounded(run_dir / "predictions.jsonl", FILE_LIMITS["predictions.jsonl"])
    except ReadError as error:
        raise SubmitError(f"{run_dir}: {error.message}") from None
    version, why = document_version(results, "results.json")
    problems = [why] if why else schema_errors(results, "results", version, "results.json")
    if problems:
        raise SubmitError(f"{run_dir} is not a run the leaderboard accepts:\n  " + "\n  ".join(problems))
    metadata = build_metadata(
        results, name=name, date=date, model_name=model_name, authors=list(authors), links=list(links),
        results_sha256="sha256:" + hashlib.sha256(results_bytes).hexdigest(),
        predictions_sha256="sha256:" + hashlib.sha256(predictions).hexdigest(),
        dataset_revision=dataset_revision, description=description,
    )
    problems = schema_errors(metadata, "metadata", SCHEMA_VERSION, "metadata.yaml")
    if problems:
        raise SubmitError("the submission's metadata is invalid:\n  " + "\n  ".join(problems))

    out.mkdir(parents=True, exist_ok=True)
    partial = out / f".{folder_name}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    try:
        (partial / "results.json").write_bytes(results_bytes)
        (partial / "predictions.jsonl").write_bytes(predictions)
        (partial / "metadata.yaml").write_text(
            yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
        os.replace(partial, target)
    finally:
        if partial.exists():
            shutil.rmtree(partial)
    return target
