"""The skeleton every dataset build runs: one atomic folder, a rejects file, reconciled counts, a manifest.

A builder configures a build (name, version, config, schemas, splits) and brings its own stages and row
shapes; this driver owns what they all share, so no builder rewrites it:

1. the output folder is written beside ``out`` and renamed into place (``HubFolderWriter``); an exception
   leaves ``out`` untouched;
2. every record that does not become a row goes to ``rejects.jsonl`` with its reason (``RejectLog``);
3. after the stages, the shards are closed (a split left without rows can be dropped, since ``datasets``
   cannot load a card that lists an empty split);
4. the builder's accounting identities (records in = rows out + rejects) are checked, and a build that
   kept nothing is refused (``require_kept``) before anything is written;
5. ``manifest.json`` (header, inputs, shards, counts, definitions) and the card are written, then committed.

Usage::

    with BuildRun(spec, out, inputs=[...], overwrite=overwrite) as run:
        for row in stages(...):
            run.writer.add("default", split, row)      # or run.log.reject(Reject(...))
        written = run.close_shards()
        accounting = Accounting(counts, balances=(...), kept=..., rejected=...)
        path, manifest = run.commit(accounting, inputs={...}, definitions={...}, card=lambda m: ...)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO

import pyarrow as pa
from cyclebench.builders.base import RejectLog, manifest_header, require_kept

from cyclebench.hub.writer import HubFolderWriter


@dataclass(frozen=True)
class BuildSpec:
    """What a builder declares about its output; the config's hash goes into the manifest."""

    name: str
    version: str
    config: Any
    schemas: dict[str, pa.Schema]
    # Split names per config, in card order.
    splits: dict[str, list[str]]
    max_rows_per_shard: int = 2000
    # Delete the shard files of splits that got no row and name them in ``Written.omitted``.
    omit_empty_splits: bool = False


@dataclass(frozen=True)
class Written:
    """The closed shards: ``{relative path: {config, split, rows, bytes, sha256}}`` and rows per split."""

    shards: dict[str, dict[str, Any]]
    split_rows: dict[str, dict[str, int]]
    # Splits dropped for having no row (only with ``omit_empty_splits``), in declaration order.
    omitted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Balance:
    """One accounting identity of a build: everything that came in left as a row or as a reject."""

    what: str
    came_in: int
    went_out: int

    def check(self) -> None:
        if self.came_in != self.went_out:
            raise AssertionError(f"{self.what} do not reconcile: {self.came_in} in, {self.went_out} out")


@dataclass(frozen=True)
class Accounting:
    """A build's counts (the manifest's ``counts``) and what the driver checks before writing."""

    counts: dict[str, Any]
    balances: tuple[Balance, ...] = ()
    # Papers kept and rejected by reason, for ``require_kept``; ``kept=None`` lets an empty build through.
    kept: int | None = None
    rejected: dict[str, int] = field(default_factory=dict)


class BuildRun:
    """One build in progress: ``writer`` takes rows, ``log`` takes rejects (a context manager)."""

    def __init__(self, spec: BuildSpec, out: str | Path, *, inputs: Iterable[str | Path], overwrite: bool = False):
        self.spec = spec
        self.writer = HubFolderWriter(out, spec.schemas, spec.splits, max_rows_per_shard=spec.max_rows_per_shard,
                                      overwrite=overwrite, inputs=inputs)
        self._sink: TextIO | None = None
        self.log = RejectLog()

    def __enter__(self) -> Self:
        self.writer.__enter__()
        try:
            self._sink = open(self.writer.scratch / "rejects.jsonl", "w", encoding="utf-8")
        except BaseException as exc:
            self.writer.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.log = RejectLog(self._sink)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._close_rejects()
        self.writer.__exit__(exc_type, exc, tb)

    def _close_rejects(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def close_shards(self) -> Written:
        """End the stages: close the rejects file and every shard (dropping empty splits when asked)."""
        self._close_rejects()
        shards = self.writer.finish_shards()
        split_rows = self.writer.split_rows()
        if not self.spec.omit_empty_splits:
            return Written(shards, split_rows)
        empty = [(config, split) for config, rows in split_rows.items() for split, n in rows.items() if n == 0]
        for rel in [rel for rel, info in shards.items() if (info["config"], info["split"]) in empty]:
            (self.writer.scratch / rel).unlink()
            del shards[rel]
        kept_rows = {config: {split: n for split, n in rows.items() if (config, split) not in empty}
                     for config, rows in split_rows.items()}
        return Written(shards, kept_rows, [split for _, split in empty])

    def commit(
        self,
        written: Written,
        accounting: Accounting,
        *,
        inputs: dict[str, Any],
        card: Callable[[dict[str, Any]], str],
        definitions: dict[str, Any] | None = None,
        lead: dict[str, Any] | None = None,
    ) -> tuple[Path, dict[str, Any]]:
        """Check the accounting, write ``manifest.json`` and the card (``card(manifest)``), move the folder
        into place. ``lead`` holds manifest keys that come right after the header (a stage's description)."""
        for balance in accounting.balances:
            balance.check()
        spec = self.spec
        if accounting.kept is not None:
            require_kept(spec.name, accounting.kept, accounting.rejected, accounting.counts)
        manifest = {
            **manifest_header(spec.name, spec.version, spec.config),
            **(lead or {}),
            "inputs": inputs,
            "shards": written.shards,
            "counts": accounting.counts,
            **({"definitions": definitions} if definitions is not None else {}),
        }
        self.writer.write_text("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=True) + "\n")
        self.writer.write_text("README.md", card(manifest))
        return self.writer.commit(), manifest


def input_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """One input file or several, as a list of paths."""
    return [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]


def paper_review_counts() -> dict[str, Any]:
    """The first counts of a build from OpenReview notes (papers and their reviews), all zero."""
    return {"papers_in": 0, "papers_kept": 0, "reviews_in": 0, "reviews_kept": 0,
            "reviews_dropped_with_paper": 0, "review_versions_superseded": 0}


def paper_review_balances(counts: dict[str, Any], log: RejectLog) -> tuple[Balance, Balance]:
    """Papers in = kept + rejected; reviews in = kept + rejected + left with a rejected paper."""
    return (
        Balance("papers", counts["papers_in"], counts["papers_kept"] + log.total("paper")),
        Balance("reviews", counts["reviews_in"],
                counts["reviews_kept"] + log.total("review") + counts["reviews_dropped_with_paper"]),
    )
