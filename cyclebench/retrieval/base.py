"""The retriever interface: ``search(query, k) -> list[Passage]``, failures as one ``RetrievalError`` with a
stable reason code (counted per run, never raised past the run layer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


# The most of one passage's text a prompt shows: real abstracts are well under it, and a JSONL holding full
# paper texts as "abstract" would otherwise overflow the model's context in the answers turn.
MAX_PASSAGE_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved abstract. ``doc_id`` names it in its source (an index row id, an S2 paperId)."""

    doc_id: str
    title: str
    text: str
    score: float
    source: str  # "bm25" | "semantic_scholar"
    year: int | None = None

    def as_text(self) -> str:
        """The passage as a prompt shows it: title (year), then the abstract (cut at ``MAX_PASSAGE_CHARS``,
        marked ``[cut]``)."""
        head = self.title.strip()[:500] or "(untitled)"
        if self.year is not None:
            head += f" ({self.year})"
        text = self.text.strip()
        if len(text) > MAX_PASSAGE_CHARS:
            text = text[:MAX_PASSAGE_CHARS].rstrip() + " [cut]"
        return f"{head}\n{text}"


class RetrievalError(Exception):
    """A search that gave no answer; ``reason`` is a short code (``server_down``, ``http_429``, ``s2_bad_json``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@runtime_checkable
class Retriever(Protocol):
    """What the literature turn needs from a retriever."""

    name: str

    @property
    def fingerprint(self) -> str:
        """Everything that decides the passages for a query (index content hash, service URL and fields);
        never a credential."""
        ...

    def search(self, query: str, k: int) -> list[Passage]:
        """The top ``k`` passages for ``query``, best first; ``RetrievalError`` when the search failed."""
        ...

    def describe(self) -> dict[str, Any]:
        """What a run header records about the retriever."""
        ...
