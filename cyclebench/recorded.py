"""Score recorded outputs of systems we cannot rerun: same parsers, metrics and report as a model run.

Accepted forms (``--format``):
  ``jsonl``           our own ``predictions.jsonl`` (its raw ``output`` is parsed again; the file's own
                      ``parsed`` field is not trusted), or any JSONL with ``paper_id`` and ``text``/``output``;
  ``text``            a folder of raw outputs named ``<paper_id>.txt`` / ``.md`` / ``.json``;
  ``aiscientist-csv`` the AI Scientist reviewer's recorded review table (``paper_id`` + the review form
                      columns, one row per paper), read with the ``aiscientist`` protocol's record parser.

Every paper of the task split is scored: one without a recorded output is a counted failure
(``no_recorded_output``), never dropped; outputs for papers outside the split and repeated outputs are
counted and left out. The results say the outputs were imported, from which file and its sha256. Each
prediction keeps its recorded text in ``output`` (a table row as its JSON record, :func:`record_to_text`), or
a null output with its reason in ``generation_error``, so the leaderboard re-parses every paper itself.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cyclebench.records import ParsedReview

FORMATS = ("jsonl", "text", "aiscientist-csv")


@dataclass(frozen=True)
class RecordedOutput:
    paper_id: str
    text: str | None = None
    record: dict[str, str] | None = None  # one row of a table form


def read_recorded_outputs(path: str | Path, fmt: str) -> Iterator[RecordedOutput | tuple[str, str]]:
    """Recorded outputs, or ``(where, reason)`` for an entry that cannot be read."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt == "text":
        if not path.is_dir():
            raise NotADirectoryError(f"--format text needs a folder of <paper_id>.txt files: {path}")
        for file in sorted(path.iterdir()):
            if file.suffix.lower() not in (".txt", ".md", ".json"):
                continue
            try:
                yield RecordedOutput(file.stem, text=file.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                yield file.name, "not_utf8"
        return
    if fmt == "aiscientist-csv":
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "paper_id" not in reader.fieldnames:
                raise ValueError(f"{path}: no paper_id column (columns: {reader.fieldnames})")
            for line_no, row in enumerate(reader, start=2):
                paper_id = (row.get("paper_id") or "").strip()
                if not paper_id:
                    yield f"{path.name}:{line_no}", "missing_paper_id"
                    continue
                yield RecordedOutput(paper_id, record={k: v for k, v in row.items() if k is not None})
        return
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                yield f"{path.name}:{line_no}", "malformed_json"
                continue
            paper_id = row.get("paper_id") if isinstance(row, dict) else None
            if not isinstance(paper_id, str) or not paper_id:
                yield f"{path.name}:{line_no}", "missing_paper_id"
                continue
            text = row.get("output", row.get("text"))
            yield RecordedOutput(paper_id, text=text if isinstance(text, str) else None)


def record_to_text(record: dict[str, str | None]) -> str:
    """A table row as the ``output`` text of its prediction: a JSON object in the table's column order
    (the order decides which of two look-alike columns the reader takes), so the leaderboard can re-parse
    it with :func:`record_from_text` and the protocol's ``parse_record``."""
    return json.dumps(record, ensure_ascii=False)


def record_from_text(text: str) -> Any:
    """The row :func:`record_to_text` wrote; text that is not JSON comes back as is (a failed record)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def _failure_reason(item: RecordedOutput | None) -> str | None:
    """Why a paper has no output to parse, as its prediction row records it (the leaderboard re-parses every
    output and accepts a null one only with its reason)."""
    if item is None:
        return "no_recorded_output"
    if item.record is None and item.text is None:
        return "empty_recorded_output"
    return None


def score_recorded_outputs(
    *, task: str, data: str, protocol: str, predictions: str | Path, fmt: str, output: str | Path,
    model_name: str | None = None, protocol_options: dict[str, Any] | None = None, split: str | None = None,
    revision: str | None = None, task_options: dict[str, Any] | None = None, seed: int = 0,
    n_resamples: int = 10_000, overwrite: bool = False,
) -> dict[str, Any]:
    """Parse and score recorded outputs against a task split; writes the same files as a model run (into a run
    folder claimed as ``evaluate model`` claims its own: another run's folder only with ``overwrite``)."""
    from cyclebench.evaluate_reviews import (
        PaperPrediction,
        failed_parse,
        finish_review_run,
        option_inputs,
    )
    from cyclebench.judge import open_protocol
    from cyclebench.outputs import OutputMarker, claim_run_folder, run_identity
    from cyclebench.tasks import get_task

    from cyclebench.truncation import MAX_PAPER_TOKENS

    if MAX_PAPER_TOKENS in (task_options or {}):
        raise ValueError(f"{MAX_PAPER_TOKENS} does not apply to recorded outputs: the system already read its papers "
                         "(how much of each it saw is not in the file); drop the option")
    predictions = Path(predictions)
    spec = get_task(task)
    loaded = spec.load(data, split, revision, **(task_options or {}))
    reader = open_protocol(protocol, protocol_options or {}, {})
    if fmt == "aiscientist-csv" and not hasattr(reader, "parse_record"):
        raise ValueError(f"--format aiscientist-csv needs the aiscientist protocol, not {protocol!r}")

    wanted = {e.paper_id for e in loaded.examples}
    recorded: dict[str, RecordedOutput] = {}
    import_problems: Counter[str] = Counter()
    for item in read_recorded_outputs(predictions, fmt):
        if isinstance(item, tuple):
            import_problems[item[1]] += 1
        elif item.paper_id not in wanted:
            import_problems["paper_not_in_split"] += 1
        elif item.paper_id in recorded:
            import_problems["repeated_paper_id"] += 1
        else:
            recorded[item.paper_id] = item

    parsed: list[ParsedReview] = []
    rows: list[PaperPrediction] = []
    missing: Counter[str] = Counter()
    for example in loaded.examples:
        item = recorded.get(example.paper_id)
        if item is None:
            missing["no_recorded_output"] += 1
            review = failed_parse("no_recorded_output")
        elif item.record is not None:
            review = reader.parse_record(item.record)
        elif item.text is None:
            missing["empty_recorded_output"] += 1
            review = failed_parse("empty_recorded_output")
        else:
            review = reader.parse(item.text)
        raw = None if item is None else (item.text if item.record is None else record_to_text(item.record))
        parsed.append(review)
        rows.append(PaperPrediction(
            paper_id=example.paper_id,
            request_hash=hashlib.sha256((raw or "").encode()).hexdigest(),
            output=raw, generation_error=_failure_reason(item), finish_reason=None,
            parsed=asdict(review), human_ratings=list(example.ratings), human_accepted=example.accepted,
        ))
    name = model_name or predictions.stem
    output = claim_run_folder(output, OutputMarker("evaluation", "imported", run_identity(
        task=task, data=data, revision=revision, split=split, task_options=task_options or {}, protocol=protocol,
        protocol_options=protocol_options or {}, predictions=predictions, format=fmt, model_name=model_name, seed=seed)),
        overwrite=overwrite, inputs=[data, predictions, *option_inputs(protocol_options or {}, task_options or {})]).path
    return finish_review_run(
        output, loaded=loaded, task_options=task_options or {},
        protocol_desc={**reader.describe(), "arguments": protocol_options or {}},
        model_info={"backend": "imported", "model_args": {"name": name}, "fingerprint": f"imported:{_sha256(predictions)}",
                    "baseline": False, "training": None},
        parsed=parsed, predictions=rows, generation_errors=missing, seed=seed, n_resamples=n_resamples,
        provenance={"imported": True, "label": "imported recorded outputs (not re-run)", "source_file": predictions.name,
                    "source_sha256": _sha256(predictions), "format": fmt,
                    "import_problems": dict(sorted(import_problems.items())), "n_recorded": len(recorded)},
    )
