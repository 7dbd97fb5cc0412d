"""``cyclebench build deepreview-13k``: the DeepReview-13K builder's flags and run (wired into ``cli/build.py``).

    cyclebench build deepreview-13k --openreview RAW.jsonl [...] --papers DIR --out DIR [--workers N]
        [--allow-missing-text] [--chain offline|model --chain-backend NAME --chain-model-args k=v,...]
        [--decontaminate-against DIR[:SPLIT] ...]

Every field of :class:`builders.deepreview13k.DeepReview13KConfig` is also a flag or a ``--config`` YAML key.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cyclebench.cli.arg_types import positive_int
from cyclebench.cli.config_args import add_dataclass_arguments, dataclass_from_arguments


def add_deepreview13k_arguments(subparsers: Any) -> argparse.ArgumentParser:
    from builders.deepreview13k import DeepReview13KConfig

    parser = subparsers.add_parser(
        "deepreview-13k", help="papers + DeepReviewer reasoning chains (fast/standard/best) from a raw OpenReview snapshot")
    parser.add_argument("--openreview", type=Path, nargs="+", required=True, help="raw snapshot(s) (.jsonl, .jsonl.gz or .json)")
    parser.add_argument("--papers", type=Path, help="folder of paper texts keyed by OpenReview id")
    parser.add_argument("--out", type=Path, required=True, help="output folder (appears atomically)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--allow-missing-text", action="store_true",
                        help="title + abstract stand in for a missing text (= --no-require-text; counted)")
    parser.add_argument("--workers", type=positive_int, default=None, help="processes for the per-paper stage (default: all cores)")
    parser.add_argument("--chain", choices=("offline", "model"), default="offline",
                        help="reasoning chain: offline from the human reviews (default), or written by a model")
    parser.add_argument("--chain-backend", help="backend for --chain model (hf, vllm, openai, fake ...)")
    parser.add_argument("--chain-model-args", default="", help="backend arguments k=v,... for --chain model")
    parser.add_argument("--chain-cache", type=Path, help="response cache folder for --chain model (resumable)")
    parser.add_argument("--chain-batch-size", type=positive_int, default=64, help="papers per backend call for --chain model")
    parser.add_argument("--decontaminate-against", nargs="+", metavar="DIR[:SPLIT]",
                        help="after the build, remove test papers found in these train splits (and in this build's train)")
    add_dataclass_arguments(parser, DeepReview13KConfig)
    return parser


def _chain(args: argparse.Namespace, config: Any) -> Any:
    if args.chain == "offline":
        return None
    if not args.chain_backend:
        raise ValueError("--chain model needs --chain-backend (and usually --chain-model-args)")
    from builders.reasoning_chain import ChainByModel
    from cyclebench.backends import build_backend

    backend = build_backend(args.chain_backend, args.chain_model_args)
    if args.chain_cache:
        from cyclebench.backends.cache import CachedBackend

        backend = CachedBackend(backend, args.chain_cache)
    return ChainByModel(backend, score_decimals=config.score_decimals)


def run_deepreview13k(args: argparse.Namespace) -> int:
    from builders import deepreview13k

    if args.allow_missing_text:
        args.require_text = False
    config = dataclass_from_arguments(deepreview13k.DeepReview13KConfig, args)
    # Bad inputs (a missing snapshot, an empty build ...) raise ValueError / OSError: the CLI prints one line, exit 2.
    report = deepreview13k.build(args.openreview, args.papers, args.out, config, chain=_chain(args, config),
                                 workers=args.workers, model_batch_size=args.chain_batch_size,
                                 overwrite=args.overwrite)
    counts = report.manifest["counts"]
    summary: dict[str, Any] = {"out": str(report.out), "papers_in": counts["papers_in"], "papers_kept": counts["papers_kept"],
                               "papers_rejected": counts["papers_rejected"], "splits": counts["splits"]["papers"],
                               "text_sources": counts["text_sources"]}
    if args.decontaminate_against:
        summary["decontamination"] = decontaminate_build(report.out, args.decontaminate_against)
    print(json.dumps(summary, indent=2))
    return 0


def decontaminate_build(out: Path, against: list[str]) -> dict[str, Any]:
    """The builder step: this build's test splits against its own train split and the given train splits."""
    from builders import decontaminate

    config = decontaminate.OverlapConfig()
    tests = decontaminate.parse_split_arg(str(out), "test_")
    trains = decontaminate.parse_split_arg(str(out), "train")
    for text in against:
        trains += decontaminate.parse_split_arg(text, "train")
    report = decontaminate.check_overlap(tests, trains, config)
    removals = decontaminate.removals_by_folder(report, tests)[Path(out).resolve()]
    note = decontaminate.remove_contaminated(
        Path(out), removals, against=[t.label for t in trains], config=config,
        extra_files={"decontamination.json": json.dumps(report, indent=2, ensure_ascii=False) + "\n"},
    )
    return note["papers_removed"]
