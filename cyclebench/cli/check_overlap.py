"""``cyclebench check-overlap``: test papers that also sit in a training split, reported and optionally removed.

    cyclebench check-overlap --test DIR[:SPLIT] ... --train DIR[:SPLIT] ... [--cutoff-date YYYY-MM-DD]
                             --report OUT.json [--remove] [--fail-on-overlap]

``DIR`` alone means every split whose name starts with ``test`` (for ``--test``) or ``train`` (for
``--train``). Folders are cyclebench builds (Review-5K, DeepReview-13K, Research-14K) or folders of the
original ``<split>.csv/.parquet/.jsonl`` files. Methods and thresholds: :mod:`cyclebench.builders.decontaminate`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cyclebench.cli.config_args import add_dataclass_arguments, dataclass_from_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cyclebench.builders.decontaminate import OverlapConfig

    parser.add_argument("--test", nargs="+", required=True, metavar="DIR[:SPLIT]",
                        help="dataset folder(s) whose test split(s) are checked")
    parser.add_argument("--train", nargs="+", required=True, metavar="DIR[:SPLIT]",
                        help="dataset folder(s) whose train split(s) they are checked against")
    parser.add_argument("--cutoff-date", metavar="YYYY-MM-DD",
                        help="a model's training-data cutoff: report test papers public before it as possibly seen")
    parser.add_argument("--report", type=Path, required=True,
                        help="where to write the JSON report (atomically); an existing file is replaced only when it "
                             "is an earlier report, never inside a --test/--train folder")
    parser.add_argument("--remove", action="store_true",
                        help="rewrite each --test folder without its contaminated test papers (counted, atomic)")
    parser.add_argument("--fail-on-overlap", action="store_true", help="exit 1 when any test paper is contaminated")
    add_dataclass_arguments(parser, OverlapConfig)


def run(args: argparse.Namespace) -> int:
    from cyclebench.builders import decontaminate

    config = dataclass_from_arguments(decontaminate.OverlapConfig, args)
    # Everything is checked before anything is written; a ValueError / OSError is the CLI's one line, exit 2.
    tests = [ref for text in args.test for ref in decontaminate.parse_split_arg(text, "test")]
    trains = [ref for text in args.train for ref in decontaminate.parse_split_arg(text, "train")]
    inputs = [*{ref.path for ref in [*tests, *trains]}, args.config]
    decontaminate.check_report_target(args.report, inputs)
    if args.remove:
        for folder in sorted({ref.path.resolve() for ref in tests}):
            decontaminate.check_removable(folder)
    report = decontaminate.check_overlap(tests, trains, config, cutoff_date=args.cutoff_date)
    if args.remove:
        against = [ref.label for ref in trains]
        report["removed"] = {
            str(folder): decontaminate.remove_contaminated(folder, removals, against=against, config=config)
            for folder, removals in decontaminate.removals_by_folder(report, tests).items()
        }
    decontaminate.write_report(args.report, report)
    print(json.dumps(_summary(args, report), indent=2))
    contaminated = any(c["papers"] for c in report["contaminated"].values())
    return 1 if args.fail_on_overlap and contaminated else 0


def _summary(args: argparse.Namespace, report: dict[str, Any]) -> dict[str, Any]:
    """What the terminal shows: counts per split; the report file holds the rest."""
    summary: dict[str, Any] = {
        "report": str(args.report),
        "contaminated": {label: {"papers": c["papers"], "by_reason": c["by_reason"]}
                         for label, c in report["contaminated"].items()},
    }
    if "cutoff" in report:
        summary["possibly_seen_before_cutoff"] = {label: s["papers"] for label, s in report["cutoff"]["possibly_seen"].items()}
        # Which date each split's papers were dated by (odate/cdate/pdate, arxiv_id, year fallback).
        summary["dated_by"] = {label: {**s["all_by_date_field"], **({"undated": s["undated"]} if s["undated"] else {})}
                               for label, s in report["cutoff"]["possibly_seen"].items()}
    if args.remove:
        summary["removed"] = {folder: note["papers_removed"] for folder, note in report["removed"].items()}
    return summary
