"""DeepReview-13K and Research-14K rows (the original WestlakeNLP files or a cyclebench build) to records.

DeepReview-13K ships ``train.csv``, ``test_2024.csv``, ``test_2025.csv`` with columns ``id, title, decision,
rating`` (a JSON list of the human rating strings), ``reviewer_comments``, ``inputs``, ``outputs`` (chat
messages as JSON). Research-14K ships ``paperId, title, abstract, venue, year, references, arxiv, sections,
figure, messages``. Both may also come as parquet or JSONL with the same columns (named in
``cyclebench.hub.columns``). Files and builds are read, and fingerprinted, by ``cyclebench.hub.load``.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cyclebench.hub.columns import DeepReview13K as DR
from cyclebench.hub.columns import Research14K as R14K
from cyclebench.hub.load import dataset_fingerprint, decoded_cell, iter_table, original_file, read_split
from cyclebench.records import ReviewExample, kept_as_human
from cyclebench.sources.openreview import accepted_from_text

# The leading number of one rating string ("6: marginally above ...", "10: strong accept", "5.0", "**8**").
_LEADING_NUMBER = re.compile(r"^\s*\**\s*(\d{1,6}(?:\.\d+)?)(?![\d.])")
# A rating cell is a short list; a longer text is not a Python list literal worth evaluating.
_MAX_LITERAL_CHARS = 100_000

# Why a row is skipped, and what to look at when every row of a file is.
SKIP_HINTS = {
    "missing_id": "the `id` cell is empty",
    "no_ratings": "the `rating` cell is absent or an empty list; DeepReview-13K's `rating` is a JSON list of the "
                  "human rating strings, e.g. [\"6: marginally above the acceptance threshold\", \"8: accept, good paper\"]",
    "unreadable_rating": "an entry of the `rating` list has no leading number (e.g. \"N/A\", a dict without `value`)",
    "no_paper_text": "`inputs` has no user turn with the paper (a JSON list of chat messages)",
    "not_a_record": "the row is not a JSON object with the published columns",
    "repeated_mode_row": "the paper was already read from an earlier row (train repeats each paper for fast/standard/best)",
}


def _rating_items(value: Any) -> list[Any]:
    """The entries of a ``rating`` cell: a list, JSON text of one, or the Python literal a pandas CSV writes
    (``['6: ...', '8: ...']``); a lone value is a list of one."""
    items = decoded_cell(value)
    if isinstance(items, str) and items.strip()[:1] in ("[", "(") and len(items) <= _MAX_LITERAL_CHARS:
        try:
            items = ast.literal_eval(items.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    if isinstance(items, tuple):
        items = list(items)
    if not isinstance(items, list):
        items = [items] if items not in (None, "") else []
    return items


def _rating_value(item: Any) -> float | None:
    """One rating entry as a number: a number, a string with a leading number, or ``{"value": ...}`` (the raw
    API v2 shape); None when it is none of these."""
    if isinstance(item, dict) and "value" in item:
        item = item["value"]
    if isinstance(item, bool):
        return None
    if isinstance(item, (int, float)):
        return float(item) if math.isfinite(item) else None
    if isinstance(item, str):
        match = _LEADING_NUMBER.match(item)
        return float(match.group(1)) if match else None
    return None


def read_ratings(value: Any) -> tuple[tuple[float, ...], str | None]:
    """The human ratings of a row, or () with the reason: ``no_ratings`` (absent, empty) or ``unreadable_rating``
    (an entry without a number: the row is skipped, not averaged over the entries that read)."""
    items = _rating_items(value)
    if not items:
        return (), "no_ratings"
    values = [_rating_value(item) for item in items]
    if any(v is None for v in values):
        return (), "unreadable_rating"
    return tuple(v for v in values if v is not None), None


def rating_values(value: Any) -> tuple[float, ...]:
    """The human ratings of a row: a JSON list of strings like "6: marginally above ..." or numbers; () when
    the cell holds none or any entry cannot be read (see :func:`read_ratings` for the reason)."""
    return read_ratings(value)[0]


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
    if not isinstance(row, dict):
        return None, "not_a_record"
    paper_id = str(row.get(DR.ID) or "").strip()
    if not paper_id:
        return None, "missing_id"
    ratings, why = read_ratings(row.get(DR.RATING))
    if why:
        return None, why
    text = paper_text_from_messages(row.get(DR.INPUTS))
    if not text:
        return None, "no_paper_text"
    accepted = accepted_from_text(str(row.get(DR.DECISION) or ""))
    return ReviewExample(paper_id=paper_id, title=str(row.get(DR.TITLE) or ""), paper_text=text, ratings=ratings,
                         accepted=accepted, rating_scale=row.get(DR.RATING_SCALE) or "1/3/5/6/8/10"), None


def human_rated_row(row: dict[str, Any], threshold: float, counts: dict[str, Any]) -> dict[str, Any]:
    """The row with the ratings of reviews scored P(machine) > ``threshold`` removed (``ai_text_scores`` holds
    one entry per rating, in order; a review without a score stays and is counted). Counts what moved."""
    if DR.AI_TEXT_SCORES not in row:
        raise ValueError(f"human_reviews_only needs a build with AI-text scores (no {DR.AI_TEXT_SCORES} column): "
                         f"rebuild with --ai-text-scores MODEL_ARGS")
    raw = decoded_cell(row.get(DR.RATING))
    scores = decoded_cell(row.get(DR.AI_TEXT_SCORES)) or []
    if not isinstance(raw, list) or not isinstance(scores, list) or len(scores) != len(raw):
        counts["papers_scores_misaligned"] += 1
        return row  # read as it is; the count says the threshold could not apply here
    kept = [rating for rating, entry in zip(raw, scores)
            if kept_as_human(entry.get("ai_text_score") if isinstance(entry, dict) else None, threshold, counts)]
    counts["papers_left_without_reviews"] += bool(raw) and not kept
    return {**row, DR.RATING: json.dumps(kept, ensure_ascii=False)}


def read_deepreview_split(data: str, split: str, revision: str | None = None, human_reviews_only: float | None = None
                          ) -> tuple[list[ReviewExample], dict[str, int], dict[str, Any]]:
    """Examples of one DeepReview-13K split from a local folder of the original files, one such file (e.g. a
    ``sample.json`` list of records), or a cyclebench build.

    The training file repeats each paper three times (fast/standard/best); papers are kept once, by id.
    ``human_reviews_only`` (a checked probability threshold): ratings of reviews the build's detector scored
    above it are left out of the ground truth (:func:`human_rated_row`), counted in ``source``.
    Every skipped row is counted by reason; when rows were read but none is usable, a ``ValueError`` names
    the reasons and what each means, instead of an empty split.
    """
    path = Path(data)
    if path.is_file():
        source: dict[str, Any] = {"path": str(path), "format": "WestlakeNLP original (one file)"}
    else:
        original = original_file(path, split)
        if original is None and not (path / "README.md").is_file():
            raise FileNotFoundError(f"no {split}.csv / .parquet / .jsonl / .json in {path}")
        source = ({"path": str(original), "format": "WestlakeNLP original"} if original is not None
                  else {"path": str(path), "format": "cyclebench build"})
    fingerprint, _ = dataset_fingerprint(data, revision, split)
    skipped: dict[str, int] = {}
    examples: list[ReviewExample] = []
    seen: set[str] = set()
    n_rows = 0
    moved: dict[str, Any] = {"threshold": human_reviews_only, "reviews": 0, "dropped": 0, "unscored_kept": 0,
                             "papers_left_without_reviews": 0, "papers_scores_misaligned": 0}
    for row in read_split(data, split, revision=revision):
        n_rows += 1
        if human_reviews_only is not None and isinstance(row, dict) and row.get(DR.ID) not in seen:
            row = human_rated_row(row, human_reviews_only, moved)
        example, reason = deepreview_example(row)
        if example is not None and example.paper_id in seen:
            example, reason = None, "repeated_mode_row"
        if example is None:
            skipped[reason or "unknown"] = skipped.get(reason or "unknown", 0) + 1
            continue
        seen.add(example.paper_id)
        examples.append(example)
    if n_rows and not examples:
        raise ValueError(f"{source['path']}: none of {n_rows} DeepReview-13K rows is usable ({split}): "
                         + "; ".join(f"{reason} {n} ({SKIP_HINTS.get(reason, 'see the row')})"
                                     for reason, n in sorted(skipped.items())))
    source["fingerprint"] = fingerprint
    if human_reviews_only is not None:
        if moved["reviews"] and moved["unscored_kept"] == moved["reviews"]:
            raise ValueError("human_reviews_only: no review of this split has an ai_text_score (the build's detector "
                             "had no calibration; see ai_text_scores in its manifest.json), so no threshold can apply")
        source["human_reviews_only"] = {**moved, "kept": moved["reviews"] - moved["dropped"]}
    return examples, skipped, source


def iter_research14k(path: str | Path) -> Iterator[dict[str, Any]]:
    """Research-14K rows with JSON-encoded columns decoded (``messages``, ``sections``, ``references``...)."""
    for row in iter_table(Path(path)):
        missing = [c for c in (R14K.PAPER_ID, R14K.TITLE, R14K.MESSAGES) if c not in row]
        if missing:
            raise ValueError(f"{path}: not a Research-14K file, missing columns {missing}")
        yield {key: decoded_cell(value) if key in R14K.JSON_ENCODED else value for key, value in row.items()}
