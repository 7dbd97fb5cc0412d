"""What ``cyclebench detect`` reads: a folder of papers, a JSONL of texts, or a built dataset's reviews.

Every input yields :class:`TextItem` records plus the entries it could not use, each with a reason
(``Unread``), so that read + unread = found. Papers are read by the same reader ``evaluate papers`` uses
(``PapersDirectory``: md/txt/pdf/LaTeX, confined to the folder, size-limited).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyclebench.detection.items import TextItem
from cyclebench.hub.columns import Review5K as R5K
from cyclebench.records import RecordError

MAX_JSONL_BYTES = 1 << 30
PAPER_PREFER = ("latex", "markdown", "text", "pdf")
# The free-text parts of a Review-5K review, in the order a reader meets them (then ``other_texts``).
REVIEW_TEXT_FIELDS = ("summary", "strengths", "weaknesses", "questions")


@dataclass(frozen=True)
class Unread:
    id: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Texts:
    kind: str  # papers | jsonl | reviews
    source: str
    items: list[TextItem]
    unread: list[Unread]

    @property
    def n_found(self) -> int:
        return len(self.items) + len(self.unread)


def review_text(row: dict[str, Any]) -> str:
    """A review's prose: its named text fields, then every other free-text field of the year's form."""
    parts = [row.get(name) for name in REVIEW_TEXT_FIELDS]
    parts += [entry.get("text") for entry in row.get("other_texts") or [] if isinstance(entry, dict)]
    return "\n\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def read_papers(folder: str | Path, *, limit: int | None = None, prefer: Sequence[str] = PAPER_PREFER) -> Texts:
    from cyclebench.sources.text import PapersDirectory

    directory = PapersDirectory(folder)
    items, unread = [], []
    for paper_id in directory.ids()[:limit]:
        try:
            text = directory.read(paper_id, prefer=tuple(prefer))
        except RecordError as exc:
            unread.append(Unread(paper_id, exc.reason, exc.detail))
            continue
        except Exception as exc:  # noqa: BLE001 - an extractor failing on one file is that file's failure
            unread.append(Unread(paper_id, "read_error", f"{type(exc).__name__}: {exc}"))
            continue
        if text is None:
            unread.append(Unread(paper_id, "no_source_of_preferred_kind", ", ".join(prefer)))
        else:
            items.append(TextItem(paper_id, text.text))
    return Texts("papers", str(folder), items, unread)


def read_jsonl(path: str | Path, *, limit: int | None = None) -> Texts:
    """``{"id": str, "text": str}`` per line; a bad line (not JSON, not UTF-8, missing or mistyped fields, a
    repeated id) is counted with its line number, never fatal; a blank line is not a record."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"detect: texts file not found (or not a regular file): {path}")
    if path.stat().st_size > MAX_JSONL_BYTES:
        raise ValueError(f"detect: {path} is larger than {MAX_JSONL_BYTES} bytes")
    items: list[TextItem] = []
    unread: list[Unread] = []
    seen: set[str] = set()
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if limit is not None and len(items) + len(unread) >= limit:
                break
            if not raw.strip():
                continue
            where = f"line {number}"
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                unread.append(Unread(where, "not_utf8"))
                continue
            except json.JSONDecodeError as exc:
                unread.append(Unread(where, "not_json", exc.msg))
                continue
            if not isinstance(record, dict):
                unread.append(Unread(where, "not_an_object", type(record).__name__))
                continue
            rid, text = record.get("id"), record.get("text")
            if isinstance(rid, int) and not isinstance(rid, bool):
                rid = str(rid)
            if not isinstance(rid, str) or not rid.strip():
                unread.append(Unread(where, "no_id", "needs a string 'id'"))
            elif not _encodable(rid):
                unread.append(Unread(where, "not_utf8", "the 'id' holds a lone surrogate escape"))
            elif not isinstance(text, str):
                unread.append(Unread(rid, "no_text", f"{where}: 'text' must be a string"))
            elif not _encodable(text):  # JSON can escape one ("\\ud800"); no tokenizer can encode it
                unread.append(Unread(rid, "not_utf8", f"{where}: 'text' holds a lone surrogate escape"))
            elif rid in seen:
                unread.append(Unread(rid, "duplicate_id", where))
            else:
                seen.add(rid)
                items.append(TextItem(rid, text))
    return Texts("jsonl", str(path), items, unread)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def review_items(rows: Iterable[dict[str, Any]]) -> tuple[list[TextItem], list[Unread]]:
    """Rows of a Review-5K ``reviews`` config to texts keyed by review note id."""
    items, unread, seen = [], [], set()
    for row in rows:
        note = row.get("note_id")
        if not isinstance(note, str) or not note:
            unread.append(Unread(str(row.get(R5K.PAPER_ID)), "no_note_id"))
        elif note in seen:
            unread.append(Unread(note, "duplicate_id"))
        else:
            seen.add(note)
            items.append(TextItem(note, review_text(row)))
    return items, unread


def read_dataset_reviews(data: str, splits: Sequence[str], *, revision: str | None = None,
                         limit: int | None = None) -> Texts:
    """The ``reviews`` config of a built dataset (a folder, or a Hub id with a revision)."""
    from cyclebench.hub.load import read_rows

    rows = read_rows(data, "reviews", list(splits), revision)[:limit]
    items, unread = review_items(rows)
    return Texts("reviews", f"{data} [{', '.join(splits)}]", items, unread)
