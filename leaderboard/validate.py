"""Validate submissions: files, schemas, consistency, duplicates, re-parsing, score ranges, re-scoring, re-runs.

A submission is verified only when every check passes. Its submitted ``parsed`` fields are claims: every
raw output is parsed again with the named protocol (``cyclebench.leaderboard.reparse``) and a disagreeing field is a
rejection. The predictions are matched by paper id to the examples of the named dataset build (a local
folder given per task, whose fingerprint must equal the one the results name), the metrics are recomputed
from the re-parsed reviews with the project's own scorer (``cyclebench.metrics.score_predictions`` for a
reviewer, ``cyclebench.metrics.set_figures`` for a generator; same seed and resamples) and every claimed
figure must agree (``cyclebench.leaderboard.rescore``). The run must be what it says it is: a registered backend (not the
test-only ``fake``) or imported outputs, with the fingerprint and request hashes of that kind of run
(``cyclebench.leaderboard.provenance``); a generator's sample outcomes are derived again from their turns
(``cyclebench.leaderboard.generation``). A run of one of cyclebench's baselines is then re-run on the build and must
reproduce (``cyclebench.leaderboard.reproduce``); only then is it labelled baseline. Duplicates are
found by file, by declared identity and by content (``cyclebench.leaderboard.duplicates``). Nothing in a submission is
executed; the files are read by ``safe_read``.

The outcome is a :class:`Verification` per submission. It is not stored in the submission folder (a
submitter could forge it): ``cyclebench leaderboard validate --report`` writes it to a file of the caller's
choosing and ``cyclebench leaderboard build`` re-validates and publishes it as the site's
``verification.json``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyclebench.leaderboard.datasets import DatasetBuilds, parse_data_options  # noqa: F401  (re-exported)
from cyclebench.leaderboard.duplicates import Identity, canonical, check_duplicates, identity_of, model_block, read_identity
from cyclebench.leaderboard.match import check_generator, check_review
from cyclebench.leaderboard.outcome import LABELS, Problem, Verification  # noqa: F401  (re-exported)
from cyclebench.leaderboard.provenance import run_problems
from cyclebench.leaderboard.reparse import reparse_submission
from cyclebench.leaderboard.reproduce import baseline_claim_problems, is_baseline_run
from cyclebench.leaderboard.safe_read import (
    FILE_LIMITS,
    MAX_SUBMISSION_BYTES,
    ReadError,
    decode_utf8,
    loads_json,
    loads_yaml_mapping,
    parse_jsonl,
    read_bounded,
    regular_file_size,
)
from cyclebench.leaderboard.schema_check import document_version, schema_errors

FOLDER_PATTERN = re.compile(r"^(\d{4}-\d{2}-\d{2})_([A-Za-z0-9][A-Za-z0-9._-]{0,79})$")
SUBMISSION_FILES = ("metadata.yaml", "results.json", "predictions.jsonl")
MAX_ROW_ERRORS = 20


# ---------------------------------------------------------------------------------------------
# reading


@dataclass
class _Read:
    metadata: dict[str, Any] | None = None
    results: dict[str, Any] | None = None
    rows: list[tuple[int, Any]] | None = None
    predictions_sha256: str | None = None
    results_sha256: str | None = None


def _read_files(folder: Path, out: Verification) -> _Read:
    read = _Read()
    match = FOLDER_PATTERN.match(folder.name)
    if not match:
        out.add("bad_folder_name", f"folder name {folder.name!r} is not <YYYY-MM-DD>_<name> "
                                   "(name: letters, digits, '.', '_', '-'; at most 80 characters)")
    if folder.is_symlink() or not folder.is_dir():
        out.add("not_a_folder", f"{folder} is not a folder")
        return read
    total = unexpected = 0
    for entry in sorted(folder.iterdir()):
        if entry.name not in SUBMISSION_FILES:
            unexpected += 1
            if unexpected <= MAX_ROW_ERRORS:
                kind = "folder" if entry.is_dir() and not entry.is_symlink() else "file"
                out.add("unexpected_file", f"unexpected {kind} {entry.name!r}; a submission holds exactly "
                                           f"{', '.join(SUBMISSION_FILES)}")
            continue
        try:
            total += regular_file_size(entry)
        except ReadError as error:
            out.add(error.code, error.message)
    if unexpected > MAX_ROW_ERRORS:
        out.add("unexpected_file", f"{unexpected - MAX_ROW_ERRORS} more unexpected entries")
    if total > MAX_SUBMISSION_BYTES:
        out.add("too_large", f"the submission's files total {total:,} bytes; the limit is {MAX_SUBMISSION_BYTES:,} bytes")

    raw: dict[str, bytes] = {}
    for name in SUBMISSION_FILES:
        try:
            raw[name] = read_bounded(folder / name, FILE_LIMITS[name])
        except ReadError as error:
            if not any(p.message == error.message for p in out.problems):
                out.add(error.code, error.message)
    try:
        if "metadata.yaml" in raw:
            read.metadata = loads_yaml_mapping(decode_utf8(raw["metadata.yaml"], "metadata.yaml"), "metadata.yaml")
    except ReadError as error:
        out.add(error.code, error.message)
    try:
        if "results.json" in raw:
            read.results_sha256 = "sha256:" + hashlib.sha256(raw["results.json"]).hexdigest()
            read.results = loads_json(decode_utf8(raw["results.json"], "results.json"), "results.json")
    except ReadError as error:
        out.add(error.code, error.message)
    if "predictions.jsonl" in raw:
        read.predictions_sha256 = "sha256:" + hashlib.sha256(raw["predictions.jsonl"]).hexdigest()
        try:
            rows, errors = parse_jsonl(decode_utf8(raw["predictions.jsonl"], "predictions.jsonl"), "predictions.jsonl")
            read.rows = rows
            for message in errors[:MAX_ROW_ERRORS]:
                out.add("malformed", message)
            if len(errors) > MAX_ROW_ERRORS:
                out.add("malformed", f"predictions.jsonl: {len(errors) - MAX_ROW_ERRORS} more malformed lines")
            if not rows and not errors:
                out.add("malformed", "predictions.jsonl has no rows")
        except ReadError as error:
            out.add(error.code, error.message)
    return read


def _check_schemas(read: _Read, out: Verification) -> None:
    versions = {}
    for label, document, kind in (("metadata.yaml", read.metadata, "metadata"), ("results.json", read.results, "results")):
        if document is None:
            continue
        version, why = document_version(document, label)
        if why:
            out.add("schema", why)
            continue
        versions[kind] = version
        for message in schema_errors(document, kind, version, label):
            out.add("schema", message)
    if read.rows is None or "results" not in versions:
        return  # the rows' schema follows the results' kind and version
    kind = "prediction-generator" if read.results.get("kind") == "generator" else "prediction-review"
    version = versions["results"]
    bad = 0
    for line_no, row in read.rows:
        messages = schema_errors(row, kind, version, f"predictions.jsonl line {line_no}", limit=3)
        if messages:
            bad += 1
            if bad <= MAX_ROW_ERRORS:
                for message in messages:
                    out.add("schema", message)
    if bad > MAX_ROW_ERRORS:
        out.add("schema", f"predictions.jsonl: {bad - MAX_ROW_ERRORS} more lines break the schema")


# ---------------------------------------------------------------------------------------------
# consistency and duplicates


def _metadata_expectations(results: dict[str, Any]) -> dict[str, Any]:
    """The metadata fields that must repeat what results.json says."""
    model, task = model_block(results), results["task"]
    expected = {
        "kind": results["kind"],
        "model.backend": model["backend"], "model.model_args": model["model_args"],
        "model.fingerprint": model["fingerprint"], "model.baseline": model.get("baseline"),
        "task.name": task["name"], "task.split": task["split"], "task.options": task.get("options", {}),
        "dataset.fingerprint": task["dataset_fingerprint"],
        "label": expected_label(results),
    }
    if results["kind"] == "review":
        expected["protocol.name"] = results["protocol"]["name"]
        expected["protocol.arguments"] = results["protocol"]["arguments"]
    else:
        judge = results["judge"]
        expected.update({"judge.protocol": judge["protocol"], "judge.backend": judge["backend"],
                         "judge.model_args": judge["model_args"]})
    return expected


def expected_label(results: dict[str, Any]) -> str:
    """The label a submission asks for: imported recorded outputs, a run of one of cyclebench's baselines
    (given only once the validator has re-run it), or a model."""
    if results.get("provenance", {}).get("imported"):
        return "imported"
    return "baseline" if is_baseline_run(results) else "model"


def _dig(document: dict[str, Any], dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _check_consistency(folder: Path, read: _Read, out: Verification) -> None:
    metadata, results = read.metadata or {}, read.results or {}
    for dotted, value in _metadata_expectations(results).items():
        if canonical(_dig(metadata, dotted)) != canonical(value):
            out.add("metadata_mismatch", f"metadata.yaml {dotted} is {_dig(metadata, dotted)!r} but results.json "
                                         f"says {value!r}")
    for message in baseline_claim_problems(results):
        out.add("baseline_claim", message)
    for message in run_problems(results):
        out.add("provenance", message)
    match = FOLDER_PATTERN.match(folder.name)
    if match and (match.group(1) != metadata.get("date") or match.group(2) != metadata.get("name")):
        out.add("metadata_mismatch", f"folder {folder.name!r} does not match metadata date {metadata.get('date')!r} "
                                     f"and name {metadata.get('name')!r}")
    files = metadata.get("files", {})
    for name, actual in (("results.json", read.results_sha256), ("predictions.jsonl", read.predictions_sha256)):
        if files.get(name) != actual:
            out.add("checksum_mismatch", f"{name} has {actual}, metadata.yaml files says {files.get(name)}")


# ---------------------------------------------------------------------------------------------
# entry points


def validate_submission(folder: Path, datasets: DatasetBuilds, earlier: list[Identity] | None = None) -> Verification:
    """Every check on one submission folder; ``earlier`` are the identities it must not duplicate."""
    folder = Path(folder)
    out = Verification(folder.name)
    try:
        _validate(folder, datasets, earlier or [], out)
    except RecursionError:  # a structure nested deep enough to pass the parsers but not the checks
        out.add("malformed", "a value in the submission is nested too deeply to check")
    except Exception as error:  # noqa: BLE001 - the last resort: one hostile folder never stops the others
        out.add("internal_error", f"the validator failed on this submission with {type(error).__name__}: "
                                  f"{str(error)[:200]}; it is rejected until the validator can check it (please "
                                  "report this with the submission)")
    out.status = "verified" if not out.problems else "rejected"
    return out


def _validate(folder: Path, datasets: DatasetBuilds, earlier: list[Identity], out: Verification) -> None:
    read = _read_files(folder, out)
    _check_schemas(read, out)
    if out.problems or read.results is None or read.metadata is None or read.rows is None:
        return
    results = read.results
    out.kind, out.task, out.split = results["kind"], results["task"]["name"], results["task"]["split"]
    out.dataset_fingerprint, out.predictions_sha256 = results["task"]["dataset_fingerprint"], read.predictions_sha256
    label = expected_label(results)
    out.label = None if label == "baseline" else LABELS[label]  # a baseline's label waits for its re-run
    out.metadata, out.results = read.metadata, results
    _check_consistency(folder, read, out)
    reparsed = reparse_submission(results, read.rows)
    check_duplicates(identity_of(results, read.predictions_sha256, folder.name, reparsed), earlier, out)
    if out.problems:
        return
    check = check_review if results["kind"] == "review" else check_generator
    check(results, read.rows, reparsed, datasets, out)


def list_submissions(root: Path) -> list[Path]:
    """The submission folders under ``root`` (every folder that is not hidden), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no submissions folder at {root}")
    return sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p.is_dir() or p.is_symlink()))


def validate_submissions(targets: list[Path], datasets: DatasetBuilds, against: list[Path] = ()) -> list[Verification]:
    """Validate ``targets`` (sorted by folder name). A target must not duplicate any submission in
    ``against`` that is not itself a target, nor a target that sorts before it (dates come first in
    folder names, so the earlier submission keeps its place)."""
    # Paths are compared without following links: a link to another submission is its own (rejected) entry.
    targets = sorted({os.path.abspath(t): Path(t) for t in targets}.values(), key=lambda p: p.name)
    target_keys = {os.path.abspath(p) for p in targets}
    existing = [read_identity(Path(p)) for p in sorted(against, key=lambda p: Path(p).name)
                if os.path.abspath(p) not in target_keys]
    outcomes, seen = [], []
    for folder in targets:
        outcome = validate_submission(folder, datasets, existing + seen)
        outcomes.append(outcome)
        seen.append(read_identity(folder))
    return outcomes
