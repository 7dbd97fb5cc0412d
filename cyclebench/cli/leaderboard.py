"""``cyclebench leaderboard``: turn a run into a submission, validate submissions by re-scoring them,
build the static site."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_SUBMISSIONS = Path("leaderboard/submissions")


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", action="append", default=[], metavar="TASK=PATH",
                        help="a local dataset build for a task (repeatable); its fingerprint must equal the one a "
                             "submission's results.json names")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    submit = sub.add_parser("submit", help="create <out>/<date>_<name>/ from an evaluation run folder",
                            description="Copy results.json and predictions.jsonl of a run and write metadata.yaml.")
    submit.add_argument("run_dir", type=Path, help="the folder `cyclebench evaluate` wrote")
    submit.add_argument("--name", required=True, help="submission name: letters, digits, '.', '_', '-'")
    submit.add_argument("--model-name", default=None, help="display name (default: the model path/name, else the backend)")
    submit.add_argument("--authors", nargs="+", default=[], help="author names")
    submit.add_argument("--link", dest="links", action="append", default=[], help="an http(s) link (repeatable)")
    submit.add_argument("--description", default=None, help="one paragraph shown on the submission's page")
    submit.add_argument("--dataset-revision", default=None, help="the dataset's Hub tag, if it came from the Hub")
    submit.add_argument("--date", default=None, help="YYYY-MM-DD for the folder name (default: today)")
    submit.add_argument("--out", type=Path, default=DEFAULT_SUBMISSIONS, help="submissions folder")

    validate = sub.add_parser("validate", help="check submissions and re-score them against dataset builds",
                              description="Schema, size, duplicate and range checks, then every claimed figure is "
                                          "recomputed from predictions.jsonl. Exit status 1 when any is rejected.")
    validate.add_argument("submissions", nargs="*", type=Path,
                          help="submission folders (default: every folder under --submissions-dir)")
    validate.add_argument("--submissions-dir", type=Path, default=DEFAULT_SUBMISSIONS,
                          help="the leaderboard's submissions: duplicates are checked against them")
    _add_data(validate)
    validate.add_argument("--report", type=Path, default=None, help="write the outcomes as JSON to this file (refused inside a submission, the "
                               "submissions folder or a dataset build)")

    build = sub.add_parser("build", help="validate every submission and write the static site",
                           description="One table per task, a page per submission, SVG plots; verified rows only.")
    build.add_argument("--out", type=Path, required=True, help="site folder (written atomically)")
    build.add_argument("--submissions-dir", type=Path, default=DEFAULT_SUBMISSIONS)
    _add_data(build)
    build.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    build.add_argument("--strict", action="store_true", help="exit 1 when any submission is excluded")


def _datasets(values: list[str]):
    from cyclebench.leaderboard.validate import DatasetBuilds, parse_data_options

    return DatasetBuilds(parse_data_options(values))  # a ValueError is the CLI's one line, exit 2


# The keys of the report ``validate --report`` writes: an existing file with them is the only one it replaces.
VALIDATE_REPORT_KEYS = ("submissions", "verified", "rejected", "outcomes")


def _check_report(report: Path, inputs: list[Path]) -> None:
    """Refuse a --report that is, or lies inside, a submission folder, the submissions folder or a dataset
    build (it would overwrite a submitted file), a folder, a link, or an existing file that is not an earlier
    report (the rule check-overlap's --report follows). Checked before anything is validated."""
    from cyclebench.outputs import check_file_target, is_json_report

    check_file_target(report, inputs, replaceable=lambda path: is_json_report(path, VALIDATE_REPORT_KEYS),
                      what="--report", kind="an earlier validate report")


def _where_submissions_are(folder: Path) -> str:
    """The default folder is a checkout's: outside one, say where the submissions are and what to pass."""
    if folder != DEFAULT_SUBMISSIONS or folder.is_dir():
        return ""
    return ("; the leaderboard's submissions are the folder leaderboard/submissions/ of a cyclebench checkout: "
            "run from the checkout's root or pass --submissions-dir PATH")


def _print_outcome(v) -> None:
    if v.verified:
        print(f"VERIFIED {v.folder}: {v.summary.get('figures_compared')} figures agree "
              f"({v.task}/{v.split}, {v.label})")
    else:
        print(f"REJECTED {v.folder}:")
        for problem in v.problems:
            print(f"  [{problem.code}] {problem.message}")


def run(args: argparse.Namespace) -> int:
    if args.action == "submit":
        from cyclebench.leaderboard.submit import SubmitError, submit

        try:
            folder = submit(args.run_dir, args.name, out=args.out, model_name=args.model_name, authors=args.authors,
                            links=args.links, date=args.date, dataset_revision=args.dataset_revision,
                            description=args.description)
        except SubmitError as error:
            print(f"cyclebench leaderboard submit: {error}", file=sys.stderr)
            return 1
        print(f"created {folder}\nnext: cyclebench leaderboard validate {folder} --data TASK=PATH")
        return 0

    if args.action == "validate":
        from cyclebench.leaderboard.validate import list_submissions, validate_submissions

        datasets = _datasets(args.data)
        against = list_submissions(args.submissions_dir) if args.submissions_dir.is_dir() else []
        targets = args.submissions or against
        if not targets:
            print(f"cyclebench leaderboard validate: no submissions given and none under {args.submissions_dir}"
                  f"{_where_submissions_are(args.submissions_dir)}", file=sys.stderr)
            return 2
        if args.report:
            _check_report(args.report, [args.submissions_dir, *targets,
                                        *(path for paths in datasets.builds.values() for path in paths)])
        outcomes = validate_submissions(targets, datasets, against)
        for outcome in outcomes:
            _print_outcome(outcome)
        verified = sum(o.verified for o in outcomes)
        print(f"{len(outcomes)} submissions: {verified} verified, {len(outcomes) - verified} rejected")
        if args.report:
            from cyclebench.fileio import atomic_write_text

            atomic_write_text(args.report, json.dumps({"submissions": len(outcomes), "verified": verified,
                                                       "rejected": len(outcomes) - verified,
                                                       "outcomes": [o.to_dict() for o in outcomes]}, indent=2) + "\n")
        return 0 if verified == len(outcomes) else 1

    from cyclebench.leaderboard.site import build_site

    if args.submissions_dir == DEFAULT_SUBMISSIONS and not args.submissions_dir.is_dir():
        print(f"cyclebench leaderboard build: no submissions folder {args.submissions_dir}"
              f"{_where_submissions_are(args.submissions_dir)}", file=sys.stderr)
        return 2
    try:
        report = build_site(args.out, args.submissions_dir, _datasets(args.data), overwrite=args.overwrite)
    except (FileExistsError, FileNotFoundError) as error:
        print(f"cyclebench leaderboard build: {error}", file=sys.stderr)
        return 2
    for v in report.verifications:
        if not v.verified:
            _print_outcome(v)
    print(json.dumps({"out": str(args.out), **report.counts,
                      "tables": [t.title for t in report.tables]}, indent=2, ensure_ascii=False))
    return 1 if args.strict and report.counts["excluded"] else 0
