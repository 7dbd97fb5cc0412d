"""Machinery every dataset builder shares: hash splits, reject accounting, config hashing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from cyclebench.builders.citations import CYCLERESEARCHER, bibtex_block

from cyclebench.records import Decision, Reject

# Every dataset card cites the work whose datasets these rebuild (``citations`` holds every entry).
CYCLERESEARCHER_CITATION = bibtex_block(CYCLERESEARCHER)


# Kinds of paper text a builder can read, in the default order of preference.
TEXT_KINDS = ("latex", "markdown", "text", "pdf")


def stable_fraction(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by (seed, key) on every machine and Python version (no ``hash()``)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hash_split(paper_id: str, test_fraction: float, seed: int) -> str:
    """``"test"`` for about ``test_fraction`` of ids, ``"train"`` otherwise; adding papers moves no paper."""
    return "test" if stable_fraction(paper_id, seed) < test_fraction else "train"


# Field metadata key: an opt-in field added after builds were published; at its default it is left out of the
# manifest's config and its hash, so a default build stays byte-identical to one made before the field existed.
OMIT_AT_DEFAULT = "omit_at_default"


def config_dict(config: Any) -> dict[str, Any]:
    """The config as the manifest records it (``OMIT_AT_DEFAULT`` fields only when set)."""
    payload = dataclasses.asdict(config)
    for f in dataclasses.fields(config):
        if f.metadata.get(OMIT_AT_DEFAULT) and payload.get(f.name) == f.default:
            payload.pop(f.name)
    return payload


def config_sha256(config: Any) -> str:
    payload = config_dict(config) if dataclasses.is_dataclass(config) else config
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def decision_reject(decision: Decision, *, drop_withdrawn: bool, drop_desk_rejected: bool,
                    drop_undecided: bool = True) -> tuple[str, str] | None:
    """Why a paper's decision keeps it out of a review dataset, as (reason, detail): withdrawn, desk-rejected
    or undecided when the config drops those (an undecided paper still teaches ratings, not the outcome, so a
    venue in review can be kept with a null decision); else None."""
    label = decision.label
    if (label == "withdrawn" and drop_withdrawn) or (label == "desk_rejected" and drop_desk_rejected) \
            or (label == "undecided" and drop_undecided):
        return label, decision.raw
    return None


class RejectLog:
    """Counts every record that did not become a row, by stage and reason, and writes one JSON line each.

    Builders call ``reject`` for every drop so that ``records in = rows out + rejects`` can be checked
    from the manifest alone.
    """

    def __init__(self, sink: TextIO | None = None):
        self.sink = sink
        self.counts: dict[str, Counter[str]] = {}

    def reject(self, reject: Reject) -> None:
        self.counts.setdefault(reject.stage, Counter())[reject.reason] += 1
        if self.sink is not None:
            row = {"detail": reject.detail, "reason": reject.reason, "record_id": reject.record_id, "stage": reject.stage}
            self.sink.write(json.dumps(row, ensure_ascii=True) + "\n")

    def by_reason(self, stage: str) -> dict[str, int]:
        return dict(sorted(self.counts.get(stage, Counter()).items()))

    def total(self, stage: str) -> int:
        return sum(self.counts.get(stage, Counter()).values())


def manifest_header(name: str, version: str, config: Any) -> dict[str, Any]:
    """The first keys of every builder's manifest: what was built, by which builder and with which config."""
    import cyclebench

    return {
        "dataset": name,
        "builder_version": version,
        "cyclebench_version": cyclebench.__version__,
        "config": config_dict(config),
        "config_sha256": config_sha256(config),
    }


def check_input_files(paths: list[Path], what: str) -> None:
    """Each path is an existing file: a missing one or a folder is one clear error before any work."""
    for path in paths:
        if path.is_dir():
            raise ValueError(f"{what} {path} is a folder; expected a file")
        if not path.is_file():
            raise FileNotFoundError(f"{what} not found: {path}")


def input_fingerprint(path: Path) -> dict[str, Any]:
    from cyclebench.hub.writer import sha256_file

    return {"name": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


# What to look at when every paper was rejected for one reason (the hint of an empty build).
_EMPTY_BUILD_HINTS = {
    "undecided": "decisions are not out: pass --undecided keep to build with null decisions",
    "withdrawn": "see --withdrawn",
    "desk_rejected": "see --desk-rejected",
    "venue_not_selected": "check --venues against the snapshot's venue ids",
    "year_not_selected": "check --years",
    "unknown_year": "check the snapshot's venue ids (no year in them)",
    "too_few_reviews": "see --min-reviews",
    "no_reviews": "check that the snapshot holds the replies (details=directReplies)",
    "no_paper_text": "check --papers (files named <id>.md / .pdf / .tex) or pass --allow-missing-text",
    "malformed_json": "is the snapshot one JSON note a line?",
    "not_a_note": "is the snapshot one JSON note a line?",
    "missing_id": "is the snapshot one JSON note a line?",
    "duplicate_id": "the ratings table repeats its ids",
    "bad_rating": "check the ratings table's score columns",
    "no_ratings": "check the ratings table's score columns",
    "malformed_row": "is the ratings table tab-separated?",
}


class EmptyBuildError(ValueError):
    """A build kept no paper. Nothing is written; ``counts`` holds the accounting that explains why."""

    def __init__(self, message: str, counts: dict[str, Any]):
        super().__init__(message)
        self.counts = counts


def require_kept(name: str, kept: int, rejected: dict[str, int], counts: dict[str, Any]) -> None:
    """Refuse a build that kept no paper: an empty dataset that exits 0 looks like success.

    The message names every reject reason with its count, largest first, and a hint per leading reason:
    ``review-5k: no paper kept: 300 rejected (undecided 300); decisions are not out: pass --undecided keep ...``.
    """
    if kept:
        return
    total = sum(rejected.values())
    ranked = sorted(rejected.items(), key=lambda item: (-item[1], item[0]))
    reasons = ", ".join(f"{reason} {n}" for reason, n in ranked)
    hints = list(dict.fromkeys(_EMPTY_BUILD_HINTS[r] for r, _ in ranked[:3] if r in _EMPTY_BUILD_HINTS))
    if not total:
        raise EmptyBuildError(f"{name}: no paper kept: the input holds no paper", counts)
    hint = f"; {'; '.join(hints)}" if hints else ""
    raise EmptyBuildError(f"{name}: no paper kept: {total} rejected ({reasons}){hint}; nothing was written", counts)
