"""Reading a JSONL of abstracts into documents, with every skipped row counted by reason.

Accepted row shapes: ``{"id", "title", "abstract"}`` (optionally ``year``), and what ``cyclebench fetch
abstracts`` writes (``{"doi"|"arxiv"|"title": ..., "abstract": ..., "source": ...}``): a row's id is its
``id``, else ``doi:...``, ``arxiv:...`` or ``title:...``. A row needs a non-empty string abstract.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    title: str
    abstract: str
    year: int | None = None


@dataclass
class AbstractsRead:
    documents: list[Document]
    n_lines: int = 0  # non-empty lines read
    skipped: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, object]:
        """Reconciled: ``n_lines == n_documents + sum(skipped)``."""
        return {"n_lines": self.n_lines, "n_documents": len(self.documents), "skipped": dict(sorted(self.skipped.items()))}


def _year(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 1000 <= value <= 3000:
        return value
    if isinstance(value, str) and value.strip().isdigit() and 1000 <= int(value.strip()) <= 3000:
        return int(value.strip())
    return None


def row_document(row: object) -> tuple[Document | None, str | None]:
    """A row as a document, or ``(None, reason)``."""
    if not isinstance(row, dict):
        return None, "not_an_object"
    abstract = row.get("abstract")
    if not isinstance(abstract, str) or not abstract.strip():
        return None, "no_abstract"
    title = row.get("title") if isinstance(row.get("title"), str) else ""
    doc_id = None
    for key, prefix in (("id", ""), ("paperId", ""), ("doi", "doi:"), ("arxiv", "arxiv:"), ("title", "title:")):
        value = row.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            doc_id = prefix + " ".join(str(value).split())
            break
    if doc_id is None:
        return None, "no_id"
    return Document(doc_id, " ".join(title.split()), " ".join(abstract.split()), _year(row.get("year"))), None


def read_abstracts(path: str | Path) -> AbstractsRead:
    """Every usable row of ``path``; lines not in UTF-8, bad JSON, non-objects, rows without an abstract or id,
    and repeated ids (the first is kept) are skipped and counted (a leading BOM is read). A missing file raises ``FileNotFoundError``."""
    path = Path(path)
    if path.is_dir():
        raise FileNotFoundError(f"abstracts file {path} is a folder; give the JSONL file of {{id, title, abstract}} rows")
    if not path.is_file():
        raise FileNotFoundError(f"abstracts file {path} does not exist (a JSONL of {{id, title, abstract}} rows)")
    out = AbstractsRead([])
    seen: set[str] = set()
    with path.open("rb") as fh:
        for number, raw in enumerate(fh):
            if not raw.strip():
                continue
            out.n_lines += 1
            try:  # a line that is not UTF-8 is skipped, not read with replaced characters
                line = raw.decode("utf-8-sig" if number == 0 else "utf-8")
            except UnicodeDecodeError:
                out.skipped["bad_utf8"] += 1
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError):  # nested past Python's limit: as unreadable
                out.skipped["bad_json"] += 1
                continue
            doc, reason = row_document(row)
            if doc is None:
                out.skipped[reason or "unknown"] += 1
            elif doc.doc_id in seen:
                out.skipped["duplicate_id"] += 1
            else:
                seen.add(doc.doc_id)
                out.documents.append(doc)
    return out
