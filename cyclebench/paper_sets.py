"""Sets of papers read from folders (PDF, LaTeX, markdown, text): what was read, and what could not be, why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cyclebench.records import PaperText, RecordError

DEFAULT_PREFER = ("latex", "markdown", "text", "pdf")


@dataclass(frozen=True)
class PaperSet:
    """The papers of one folder: what was read and what could not be (with the reason)."""

    name: str
    folder: str
    papers: list[PaperText]
    unreadable: list[tuple[str, str, str]]  # (paper id, reason, detail)
    n_ids: int


def parse_set_spec(spec: str) -> tuple[str, str]:
    """``NAME=DIR`` or ``DIR`` (named after the folder)."""
    name, sep, folder = spec.partition("=")
    if sep and name.strip() and folder.strip() and not Path(spec).exists():
        return name.strip(), folder.strip()
    path = Path(spec)
    return path.name or str(path), spec


def read_paper_set(name: str, folder: str | Path, *, prefer: Sequence[str] = DEFAULT_PREFER,
                   limit: int | None = None) -> PaperSet:
    """Read every paper of ``folder`` (the first ``limit`` ids in sorted order) through ``PapersDirectory``;
    a paper that cannot be read is kept with its reason, never dropped."""
    from cyclebench.sources.text import PapersDirectory

    directory = PapersDirectory(folder)
    ids = directory.ids()[: limit if limit is not None else None]
    papers, unreadable = [], []
    for paper_id in ids:
        try:
            text = directory.read(paper_id, prefer=tuple(prefer))
        except RecordError as exc:
            unreadable.append((paper_id, exc.reason, exc.detail))
            continue
        except Exception as exc:  # noqa: BLE001 - an extractor bug on one file is that file's failure
            unreadable.append((paper_id, "read_error", f"{type(exc).__name__}: {exc}"))
            continue
        if text is None:
            kinds = ", ".join(f.kind for f in directory.sources(paper_id))
            unreadable.append((paper_id, "no_source_of_preferred_kind", f"has {kinds}; prefer {', '.join(prefer)}"))
        else:
            papers.append(text)
    return PaperSet(name, str(folder), papers, unreadable, len(ids))

