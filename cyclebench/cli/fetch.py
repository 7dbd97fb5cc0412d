"""``cyclebench fetch openreview --venue ICLR.cc/2024/Conference --out raw.jsonl``."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=["openreview"])
    parser.add_argument("--venue", required=True, help="venue id, e.g. ICLR.cc/2024/Conference")
    parser.add_argument("--out", type=Path, required=True, help="snapshot to write (.jsonl)")
    parser.add_argument("--api", type=int, choices=[1, 2], default=None, help="API version (default: by venue/year)")
    parser.add_argument("--invitation", default=None, help="submission invitation (default: by API version)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace) -> int:
    from cyclebench.sources.fetch import check_snapshot_target, fetch_notes, write_snapshot

    check_snapshot_target(args.out, overwrite=args.overwrite)
    count = write_snapshot(fetch_notes(args.venue, args.api, invitation=args.invitation), args.out)
    print(f"wrote {count} submissions to {args.out}")
    return 0
