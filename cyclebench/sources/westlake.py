"""DeepReview-13K and Research-14K rows (the original WestlakeNLP files or a cyclebench build) to records.

DeepReview-13K ships ``train.csv``, ``test_2024.csv``, ``test_2025.csv`` with columns ``id, title, decision,
rating`` (a JSON list of the human rating strings), ``reviewer_comments``, ``inputs``, ``outputs`` (chat
messages as JSON). Research-14K ships ``paperId, title, abstract, venue, year, references, arxiv, sections,
figure, messages``. Both may also come as parquet or JSONL with the same columns (named in
``cyclebench.hub.columns``). Files and builds are read, and fingerprinted, by ``cyclebench.hub.load``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cyclebench.hub.columns import DeepReview13K as DR
from cyclebench.hub.columns import Research14K as R14K
from cyclebench.hub.load import dataset_fingerprint, decoded_cell, iter_table, original_file, read_split
from cyclebench.records import ReviewExample

_LEADING_NUMBER = re.compile(r"^\s*\**\s*(\d+(?:\.\d+)?)")


def rating_values(value: Any) -> tuple[float, ...]:
    """The human ratings of a row: a JSON list of strings like "6: marginally above ..." or numbers."""
    items = decoded_cell(value)
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
    messages = decoded_cell(messages)
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        return messages if isinstance(messages, str) and messages.strip() else None
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    users = [u for u in users if isinstance(u, str) and u.strip()]
    return users[-1] if users else None


def deepreview_example(row: dict[str, Any]) -> tuple[ReviewExample | None, str | None]:
    """One DeepReview-13K row to an example, or None with the reason it cannot be one."""
    paper_id = str(row.get(DR.ID) or "").strip()
    if not paper_id:
        return None, "missing_id"
    ratings = rating_values(row.get(DR.RATING))
    if not ratings:
        return None, "no_ratings"
    text = paper_text_from_messages(row.get(DR.INPUTS))
    if not text:
        return None, "no_paper_text"
    decision = str(row.get(DR.DECISION) or "").lower()
    accepted = True if "accept" in decision else False if "reject" in decision else None
    return ReviewExample(paper_id=paper_id, title=str(row.get(DR.TITLE) or ""), paper_text=text, ratings=ratings,
                         accepted=accepted, rating_scale=row.get(DR.RATING_SCALE) or "1/3/5/6/8/10"), None


def read_deepreview_split(data: str, split: str, revision: str | None = None) -> tuple[list[ReviewExample], dict[str, int], dict[str, Any]]:
    """Examples of one DeepReview-13K split from a local folder of the original files or a cyclebench build.

    The training file repeats each paper three times (fast/standard/best); papers are kept once, by id.
    """
    folder = Path(data)
    skipped: dict[str, int] = {}
    original = original_file(folder, split)
    if original is None and not (folder / "README.md").is_file():
        raise FileNotFoundError(f"no {split}.csv / .parquet / .jsonl in {folder}")
    source = ({"path": str(original), "format": "WestlakeNLP original"} if original is not None
              else {"path": str(folder), "format": "cyclebench build"})
    fingerprint, _ = dataset_fingerprint(data, revision, split)
    rows = read_split(data, split, revision=revision)
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
    source["fingerprint"] = fingerprint
    return examples, skipped, source


def iter_research14k(path: str | Path) -> Iterator[dict[str, Any]]:
    """Research-14K rows with JSON-encoded columns decoded (``messages``, ``sections``, ``references``...)."""
    for row in iter_table(Path(path)):
        missing = [c for c in (R14K.PAPER_ID, R14K.TITLE, R14K.MESSAGES) if c not in row]
        if missing:
            raise ValueError(f"{path}: not a Research-14K file, missing columns {missing}")
        yield {key: decoded_cell(value) if key in R14K.JSON_ENCODED else value for key, value in row.items()}
