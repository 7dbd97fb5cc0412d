"""Research-14K's ``--metadata`` from OpenReview snapshots: one row per accepted paper, skips counted by reason.

Offline and pure (snapshot notes in, rows and counts out): the notes are read through
``cyclebench.sources.openreview``'s parser, so a paper is accepted exactly when a Review-5K or DeepReview-13K
build would call it so. The rows carry what ``fetch arxiv`` matches on (title, first author) and what the
Research-14K builder requires (paperId, venue, year), plus keywords as the generator's topic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.records import RecordError, Submission
from cyclebench.sources.openreview import iter_raw_notes, parse_submission

DECISIONS = ("accept", "reject", "withdrawn", "desk_rejected", "undecided")
# How a double-blind v1 snapshot names the authors before they are revealed: useless for matching on arXiv.
ANONYMOUS = ("Anonymous",)


@dataclass
class MetadataCounts:
    """Notes in = rows written + notes skipped (by reason); ``anonymous_authors`` rows were written without
    authors (``fetch arxiv`` then matches on the title alone)."""

    notes_in: int = 0
    rows: int = 0
    skipped: Counter = field(default_factory=Counter)
    anonymous_authors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"notes_in": self.notes_in, "rows": self.rows, "skipped": dict(sorted(self.skipped.items())),
                "anonymous_authors": self.anonymous_authors}


def venue_name(venue_id: str) -> str:
    """"ICLR.cc/2024/Conference" -> "ICLR": the short venue name Research-14K rows carry."""
    head = venue_id.split("/", 1)[0]
    return head[:-3] if head.lower().endswith(".cc") else head


def metadata_row(paper: Submission) -> dict[str, Any]:
    authors = [] if paper.authors == ANONYMOUS else list(paper.authors)
    return {"paperId": paper.id, "title": paper.title, "authors": authors, "venue": venue_name(paper.venue_id),
            "year": paper.year, "keywords": list(paper.keywords)}


def metadata_rows(snapshots: Iterable[str | Path], decisions: Iterable[str] = ("accept",),
                  counts: MetadataCounts | None = None) -> Iterator[dict[str, Any]]:
    """The metadata rows of the papers whose decision is in ``decisions``, in snapshot order; every other note
    is counted in ``counts.skipped`` by reason (``decision_<label>``, the parser's reason, ``no_year``,
    ``duplicate_paper_id``)."""
    wanted = set(decisions)
    unknown = wanted - set(DECISIONS)
    if unknown or not wanted:
        raise ValueError(f"decisions must be among {', '.join(DECISIONS)}; got {sorted(unknown) or 'none'}")
    counts = counts if counts is not None else MetadataCounts()
    seen: set[str] = set()
    for path in snapshots:
        for raw in iter_raw_notes(path):
            counts.notes_in += 1
            try:
                if raw.note is None:
                    raise raw.error or RecordError("unreadable_note")
                paper = parse_submission(raw.note).submission
            except RecordError as exc:
                counts.skipped[exc.reason] += 1
                continue
            if paper.decision.label not in wanted:
                counts.skipped[f"decision_{paper.decision.label}"] += 1
            elif paper.year is None:
                counts.skipped["no_year"] += 1
            elif paper.id in seen:
                counts.skipped["duplicate_paper_id"] += 1
            else:
                seen.add(paper.id)
                counts.rows += 1
                counts.anonymous_authors += paper.authors == ANONYMOUS
                yield metadata_row(paper)


__all__ = ["DECISIONS", "MetadataCounts", "metadata_row", "metadata_rows", "venue_name"]
