"""``cyclebench build research-14k``: the Research-14K builder's flags and run (wired into ``cli/build.py``).

    cyclebench build research-14k --papers DIR [DIR ...] --metadata META.jsonl --out DIR
        [--abstracts CITED.jsonl|.csv] [--workers N] [--engine local|datatrove]
        [--datatrove-tasks N --datatrove-executor local|slurm|ray --work-dir DIR]
        [--outline from-sections|model --outline-backend NAME --outline-model-args k=v,... --outline-cache DIR]

Every field of :class:`cyclebench.builders.research14k.Research14KConfig` is also a flag or a ``--config`` YAML key.
``--workers``/``--engine`` change how fast a build runs, never its bytes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cyclebench.cli.arg_types import positive_int
from cyclebench.cli.config_args import add_dataclass_arguments, dataclass_from_arguments


def add_research14k_arguments(subparsers: Any) -> argparse.ArgumentParser:
    from cyclebench.builders.research14k import Research14KConfig

    parser = subparsers.add_parser(
        "research-14k", help="accepted papers (LaTeX, markdown or PDF) as CycleResearcher training records")
    parser.add_argument("--papers", type=Path, nargs="+", required=True,
                        help="folder(s) of paper sources named by paperId (e-print .tar.gz/.gz, .tex, folder, .md/.txt, .pdf)")
    parser.add_argument("--metadata", type=Path, required=True,
                        help="JSONL, one paper per line: paperId, venue, year (+ title, arxiv, topic, source, cited_abstracts)")
    parser.add_argument("--abstracts", type=Path,
                        help="JSONL/CSV of cited works' abstracts by key, arxiv, doi or title (see builders/bibtex.py)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (appears atomically)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--workers", type=positive_int, default=None, help="processes for the per-paper stage (default: all cores)")
    parser.add_argument("--engine", choices=("local", "datatrove"), default="local",
                        help="local process pool (default) or datatrove tasks (pip install datatrove)")
    parser.add_argument("--datatrove-tasks", type=positive_int, default=None, help="datatrove tasks (default: --workers)")
    parser.add_argument("--datatrove-executor", choices=("local", "slurm", "ray"), default="local",
                        help="where datatrove runs the tasks (slurm/ray: see builders/SCALE_OUT.md)")
    parser.add_argument("--datatrove-args", default="",
                        help="executor arguments k=v,... (slurm: time=04:00:00,partition=cpu,cpus_per_task=1,...)")
    parser.add_argument("--work-dir", type=Path,
                        help="datatrove inputs, outputs, logs and completion markers; reuse it to resume a killed build")
    parser.add_argument("--outline-cache", type=Path, help="response cache folder for --outline model (resumable)")
    add_dataclass_arguments(parser, Research14KConfig)
    return parser


def _datatrove_options(args: argparse.Namespace) -> Any:
    if args.engine != "datatrove":
        return None
    from cyclebench.builders.executor import DatatroveOptions, default_workers
    from cyclebench.backends.base import parse_model_args

    workers = args.workers or default_workers()
    return DatatroveOptions(tasks=args.datatrove_tasks or workers, workers=workers, executor=args.datatrove_executor,
                            work_dir=args.work_dir, executor_args=parse_model_args(args.datatrove_args))


def run_research14k(args: argparse.Namespace) -> int:
    from cyclebench.builders import research14k
    from cyclebench.outputs import check_build_target

    config = dataclass_from_arguments(research14k.Research14KConfig, args)
    check_build_target(args.out, args.overwrite, [*args.papers, args.metadata, args.abstracts, args.config],
                       caches={"--outline-cache": args.outline_cache, "--work-dir": args.work_dir})
    report = research14k.build(  # user errors reach the CLI's one-line handler (exit 2)
        args.metadata, args.papers, args.out, config, abstracts=args.abstracts, overwrite=args.overwrite,
        workers=args.workers, engine=args.engine, datatrove=_datatrove_options(args),
        outline_cache=args.outline_cache,
    )
    counts = report.manifest["counts"]
    print(json.dumps({"out": str(report.out), "papers_in": counts["papers_in"], "papers_kept": counts["papers_kept"],
                      "papers_rejected": counts["papers_rejected"], "splits": counts["splits"],
                      "text_sources": counts["text_sources"], "references": counts["references"]}, indent=2))
    return 0


__all__ = ["add_research14k_arguments", "run_research14k"]
