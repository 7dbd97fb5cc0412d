"""``cyclebench build deepreview-13k``: the DeepReview-13K builder's flags and run (wired into ``cli/build.py``).

    cyclebench build deepreview-13k --openreview RAW.jsonl [...] --papers DIR --out DIR [--workers N]
        [--allow-missing-text] [--chain offline|model --chain-backend NAME --chain-model-args k=v,...]
        [--decontaminate-against DIR[:SPLIT] ...]

Every field of :class:`cyclebench.builders.deepreview13k.DeepReview13KConfig` is also a flag or a ``--config`` YAML key.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cyclebench.cli.arg_types import positive_int
from cyclebench.cli.config_args import add_dataclass_arguments, dataclass_from_arguments


def add_deepreview13k_arguments(subparsers: Any) -> argparse.ArgumentParser:
    from cyclebench.builders.deepreview13k import DeepReview13KConfig

    parser = subparsers.add_parser(
        "deepreview-13k", help="papers + DeepReviewer reasoning chains (fast/standard/best) from a raw OpenReview snapshot")
    parser.add_argument("--openreview", type=Path, nargs="+", required=True, help="raw snapshot(s) (.jsonl, .jsonl.gz or .json)")
    parser.add_argument("--papers", type=Path, help="folder of paper texts keyed by OpenReview id")
    parser.add_argument("--out", type=Path, required=True, help="output folder (appears atomically)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--ai-text-scores", default=None, metavar="MODEL_ARGS",
                        help="score every review for AI writing (Fast-DetectGPT, hf-backend model args): adds an "
                             "ai_text_scores column (per review of reviewer_comments); the detector goes in the manifest")
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
                        help="remove test papers found in these train splits (and in this build's train) before the "
                             "build is committed: the output appears decontaminated or not at all")
    add_dataclass_arguments(parser, DeepReview13KConfig)
    return parser


def _chain(args: argparse.Namespace, config: Any) -> Any:
    if args.chain == "offline":
        return None
    if not args.chain_backend:
        raise ValueError("--chain model needs --chain-backend (and usually --chain-model-args)")
    from cyclebench.backends import open_backend
    from cyclebench.builders.reasoning_chain import ChainByModel

    opened = open_backend(args.chain_backend, args.chain_model_args, args.chain_cache)
    return ChainByModel(opened.cached, score_decimals=config.score_decimals)


def run_deepreview13k(args: argparse.Namespace) -> int:
    from cyclebench.builders import deepreview13k
    from cyclebench.outputs import check_build_target

    if args.allow_missing_text:
        args.require_text = False
    # Everything the command reads is checked first (a mistyped --decontaminate-against fails before any
    # work); bad inputs raise ValueError / OSError: the CLI prints one line, exit 2.
    config = dataclass_from_arguments(deepreview13k.DeepReview13KConfig, args)
    against = against_splits(args.decontaminate_against or [])
    check_build_target(args.out, args.overwrite,
                       [*args.openreview, args.papers, args.config, *(ref.path for ref in against)],
                       caches={"--chain-cache": args.chain_cache})
    chain = _chain(args, config)

    def build(out: Path, overwrite: bool) -> Any:
        return deepreview13k.build(args.openreview, args.papers, out, config, chain=chain, workers=args.workers,
                                   model_batch_size=args.chain_batch_size, overwrite=overwrite,
                                   ai_text_scores=args.ai_text_scores)

    removed = None
    if against:
        report, removed = build_decontaminated(args.out, args.overwrite, build, against)
    else:
        report = build(args.out, args.overwrite)
    counts = report.manifest["counts"]
    summary: dict[str, Any] = {"out": str(args.out), "papers_in": counts["papers_in"], "papers_kept": counts["papers_kept"],
                               "papers_rejected": counts["papers_rejected"], "splits": counts["splits"]["papers"],
                               "text_sources": counts["text_sources"]}
    if removed is not None:
        summary["decontamination"] = removed
    print(json.dumps(summary, indent=2))
    return 0


def against_splits(texts: Sequence[str]) -> list[Any]:
    """The train splits of ``--decontaminate-against``, read before the build so a typo costs nothing."""
    from cyclebench.builders import decontaminate

    return [ref for text in texts for ref in decontaminate.parse_split_arg(text, "train")]


def build_decontaminated(out: Path, overwrite: bool, build: Callable[[Path, bool], Any],
                         against: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
    """Build into a scratch folder, decontaminate it there, then rename it to ``out`` in one commit: a
    failure anywhere leaves ``out`` as it was (the previous build included)."""
    from cyclebench.outputs import FolderTransaction, OutputMarker

    with FolderTransaction(out, OutputMarker("dataset"), overwrite=overwrite,
                           inputs=[ref.path for ref in against]) as transaction:
        staged = transaction.scratch / "build"
        report = build(staged, False)
        removed = decontaminate_build(staged, against, shown=str(out))
        for entry in sorted(staged.iterdir()):
            entry.rename(transaction.scratch / entry.name)
        staged.rmdir()
        transaction.commit()
    return report, removed


def decontaminate_build(out: Path, against: Sequence[Any], *, shown: str | None = None) -> dict[str, Any]:
    """The builder step: this build's test splits against its own train split and the given train splits
    (``DIR[:SPLIT]`` texts or parsed splits). ``shown`` names the build in the report and the card when it
    is being assembled in a scratch folder. A build without a test (or train) split is recorded as checked."""
    from cyclebench.builders import decontaminate
    from cyclebench.hub.load import dataset_files

    config = decontaminate.OverlapConfig()
    splits = dataset_files(Path(out))
    own = [decontaminate.SplitRef(Path(out), split, shown) for split in splits]
    tests = [ref for ref in own if ref.split.startswith("test_")]
    trains = [ref for ref in own if ref.split.startswith("train")]
    for item in against:
        trains += decontaminate.parse_split_arg(item, "train") if isinstance(item, str) else [item]
    report = decontaminate.check_overlap(tests, trains, config)
    removals = decontaminate.removals_by_folder(report, tests).get(Path(out).resolve(), {})
    note = decontaminate.remove_contaminated(
        Path(out), removals, against=[t.label for t in trains], config=config,
        extra_files={"decontamination.json": json.dumps(report, indent=2, ensure_ascii=False) + "\n"},
    )
    return note["papers_removed"]
