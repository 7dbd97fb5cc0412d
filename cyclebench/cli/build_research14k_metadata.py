"""``cyclebench build research-14k-metadata``: Research-14K's ``--metadata`` JSONL from OpenReview snapshots.

    cyclebench build research-14k-metadata --openreview RAW.jsonl [RAW ...] --out meta.jsonl
        [--decisions accept [reject ...]] [--overwrite]

A ``build`` subcommand, not a ``fetch`` one: it reads snapshots already on disk and needs no network. The file
it writes is the input of ``fetch arxiv --metadata`` and ``build research-14k --metadata``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_research14k_metadata_arguments(subparsers: Any) -> argparse.ArgumentParser:
    from cyclebench.builders.research14k_metadata import DECISIONS

    parser = subparsers.add_parser(
        "research-14k-metadata", help="Research-14K's --metadata (accepted papers) from OpenReview snapshots (offline)")
    parser.add_argument("--openreview", type=Path, nargs="+", required=True,
                        help="raw snapshot(s) written by fetch openreview (.jsonl, .jsonl.gz or .json)")
    parser.add_argument("--out", type=Path, required=True,
                        help="metadata JSONL: paperId, title, authors, venue, year, keywords (one paper a line)")
    parser.add_argument("--decisions", nargs="+", choices=DECISIONS, default=["accept"],
                        help="which papers to list (default: accept, as Research-14K holds accepted papers)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it is a metadata file written before")
    return parser


def is_metadata_file(path: Path) -> bool:
    """Whether ``path`` reads as a metadata file this command wrote: empty, or a first line holding a paperId."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(1 << 20).strip()
        return not first or isinstance(row := json.loads(first), dict) and "paperId" in row
    except (OSError, ValueError):
        return False


def run_research14k_metadata(args: argparse.Namespace) -> int:
    from cyclebench.builders.research14k_metadata import MetadataCounts, metadata_rows
    from cyclebench.fileio import atomic_write_text
    from cyclebench.outputs import OutputExistsError, check_file_target

    check_file_target(args.out, args.openreview, replaceable=is_metadata_file, what="--out",
                      kind="a metadata file written by this command")
    if args.out.exists() and not args.overwrite:
        raise OutputExistsError(f"--out {args.out} exists; pass --overwrite to replace it")
    counts = MetadataCounts()
    rows = list(metadata_rows(args.openreview, args.decisions, counts))
    assert counts.notes_in == counts.rows + sum(counts.skipped.values())
    atomic_write_text(args.out, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    print(json.dumps({"out": str(args.out), **counts.as_dict()}, indent=2))
    if not rows:
        print(f"no paper with a decision in {', '.join(args.decisions)}; {args.out} is empty")
    return 0


__all__ = ["add_research14k_metadata_arguments", "is_metadata_file", "run_research14k_metadata"]
