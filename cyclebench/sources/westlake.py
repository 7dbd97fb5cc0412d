"""Readers for the original WestlakeNLP files, for users who hold them locally.

DeepReview-13K ships ``train.csv``, ``test_2024.csv``, ``test_2025.csv`` with columns ``id, title, decision,
rating`` (a JSON list of the human rating strings), ``reviewer_comments``, ``inputs``, ``outputs`` (chat
messages as JSON). Research-14K ships ``paperId, title, abstract, venue, year, references, arxiv, sections,
figure, messages``. Both may also come as parquet or JSONL with the same columns. A folder built by
cyclebench (Hub layout, ``README.md`` with ``configs``) is read through ``datasets`` instead.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cyclebench.records import ReviewExample

DEEPREVIEW_COLUMNS = ("id", "title", "decision", "rating", "reviewer_comments", "inputs", "outputs")
RESEARCH14K_COLUMNS = ("paperId", "title", "abstract", "venue", "year", "references", "arxiv", "sections", "figure", "messages")
_LEADING_NUMBER = re.compile(r"^\s*\**\s*(\d+(?:\.\d+)?)")


def _find_file(folder: Path, split: str) -> Path | None:
    for suffix in (".csv", ".parquet", ".jsonl", ".json"):
        candidate = folder / f"{split}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def iter_table(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a CSV / parquet / JSONL file as dicts (CSV cells can hold whole papers)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        with open(path, newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
            yield from batch.to_pylist()
    elif suffix in (".jsonl", ".json"):
        with open(path, encoding="utf-8") as handle:
            if suffix == ".json":
                data = json.load(handle)
                yield from data if isinstance(data, list) else [data]
            else:
                for line in handle:
                    if line.strip():
                        yield json.loads(line)
    else:
        raise ValueError(f"unsupported file type: {path}")


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return value
    return value


def rating_values(value: Any) -> tuple[float, ...]:
    """The human ratings of a row: a JSON list of strings like "6: marginally above ..." or numbers."""
    items = _json_value(value)
    if not isinstance(items, list):
        items = [items] if items not in (None, "") else []
    out = []
    for item in items:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            out.append(float(item))
        elif isinstance(item, str):
            match = _LEADING_NUMBER.match(item)
            if match:
                out.append(float(match.group(1)))
    return tuple(out)


def paper_text_from_messages(messages: Any) -> str | None:
    """The paper a chat row shows the model: the content of its last user turn."""
    messages = _json_value(messages)
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        return messages if isinstance(messages, str) and messages.strip() else None
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    users = [u for u in users if isinstance(u, str) and u.strip()]
    return users[-1] if users else None


def deepreview_example(row: dict[str, Any]) -> tuple[ReviewExample | None, str | None]:
    """One DeepReview-13K row to an example, or None with the reason it cannot be one."""
    paper_id = str(row.get("id") or "").strip()
    if not paper_id:
        return None, "missing_id"
    ratings = rating_values(row.get("rating"))
    if not ratings:
        return None, "no_ratings"
    text = paper_text_from_messages(row.get("inputs"))
    if not text:
        return None, "no_paper_text"
    decision = str(row.get("decision") or "").lower()
    accepted = True if "accept" in decision else False if "reject" in decision else None
    return ReviewExample(paper_id=paper_id, title=str(row.get("title") or ""), paper_text=text, ratings=ratings,
                         accepted=accepted, rating_scale=row.get("rating_scale") or "1/3/5/6/8/10"), None


def read_deepreview_split(data: str, split: str, revision: str | None = None) -> tuple[list[ReviewExample], dict[str, int], dict[str, Any]]:
    """Examples of one DeepReview-13K split from a local folder of the original files or a cyclebench build.

    The training file repeats each paper three times (fast/standard/best); papers are kept once, by id.
    """
    folder = Path(data)
    skipped: dict[str, int] = {}
    if (folder / "README.md").is_file() and not _find_file(folder, split):
        from datasets import load_dataset

        rows: Iterator[dict[str, Any]] = iter(load_dataset(str(folder), split=split))
        source = {"path": str(folder), "format": "cyclebench build"}
        digest = hashlib.sha256((folder / "manifest.json").read_bytes() if (folder / "manifest.json").is_file() else b"")
    else:
        path = _find_file(folder, split)
        if path is None:
            raise FileNotFoundError(f"no {split}.csv / .parquet / .jsonl in {folder}")
        rows = iter_table(path)
        source = {"path": str(path), "format": "WestlakeNLP original"}
        digest = hashlib.sha256(path.read_bytes())
    examples: list[ReviewExample] = []
    seen: set[str] = set()
    for row in rows:
        example, reason = deepreview_example(row)
        if example is None:
            skipped[reason or "unknown"] = skipped.get(reason or "unknown", 0) + 1
            continue
        if example.paper_id in seen:
            skipped["repeated_mode_row"] = skipped.get("repeated_mode_row", 0) + 1
            continue
        seen.add(example.paper_id)
        examples.append(example)
    source["fingerprint"] = f"sha256:{digest.hexdigest()}"
    return examples, skipped, source


def iter_research14k(path: str | Path) -> Iterator[dict[str, Any]]:
    """Research-14K rows with JSON-encoded columns decoded (``messages``, ``sections``, ``references``...)."""
    for row in iter_table(Path(path)):
        missing = [c for c in ("paperId", "title", "messages") if c not in row]
        if missing:
            raise ValueError(f"{path}: not a Research-14K file, missing columns {missing}")
        yield {key: _json_value(value) if key in ("messages", "sections", "figure", "references") else value
               for key, value in row.items()}
