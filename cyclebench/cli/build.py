"""``cyclebench build DATASET``: build a dataset folder in the Hub layout."""

from __future__ import annotations

import argparse
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from cyclebench.cli.config_args import add_dataclass_arguments, dataclass_from_arguments
from cyclebench.outputs import check_build_target


def sample_dir() -> Path:
    """The embedded default: a small synthetic OpenReview-shaped sample shipped inside the package."""
    return Path(str(files("cyclebench") / "samples" / "iclr_sample"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cyclebench.builders.aiscientist_iclr2022 import AIScientistConfig
    from cyclebench.builders.review5k import Review5KConfig

    sub = parser.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    r5k = sub.add_parser("review-5k", help="ICLR papers + human reviews from a raw OpenReview snapshot")
    r5k.add_argument("--openreview", type=Path, nargs="+", help="raw snapshot(s) (.jsonl, .jsonl.gz or .json)")
    r5k.add_argument("--papers", type=Path, help="folder of paper texts keyed by OpenReview id")
    r5k.add_argument("--sample", action="store_true", help="build from the embedded sample (no inputs needed)")
    r5k.add_argument("--out", type=Path, required=True, help="output folder (appears atomically)")
    r5k.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    r5k.add_argument("--allow-missing-text", action="store_true", help="keep papers without a text (= --no-require-text)")
    r5k.add_argument("--ai-text-scores", default=None, metavar="MODEL_ARGS",
                     help="score every review for AI writing (Fast-DetectGPT, hf-backend model args): adds "
                          "ai_text_score / ai_text_criterion to the reviews config; the detector goes in the manifest")
    add_dataclass_arguments(r5k, Review5KConfig)

    ais = sub.add_parser("aiscientist-iclr2022", help="AI Scientist ICLR 2022 ratings table + paper texts")
    ais.add_argument("--ratings", type=Path, required=True, help="ratings_subset.tsv (paper_id, 0..6, decision)")
    ais.add_argument("--papers", type=Path, required=True, help="folder of <paper_id>.txt texts (iclr_parsed)")
    ais.add_argument("--out", type=Path, required=True)
    ais.add_argument("--overwrite", action="store_true")
    add_dataclass_arguments(ais, AIScientistConfig)

    from cyclebench.cli.build_deepreview13k import add_deepreview13k_arguments

    add_deepreview13k_arguments(sub)

    from cyclebench.cli.build_research14k import add_research14k_arguments

    add_research14k_arguments(sub)

    from cyclebench.cli.build_research14k_metadata import add_research14k_metadata_arguments

    add_research14k_metadata_arguments(sub)


def run(args: argparse.Namespace) -> int:
    if args.dataset == "research-14k-metadata":
        from cyclebench.cli.build_research14k_metadata import run_research14k_metadata

        return run_research14k_metadata(args)
    if args.dataset == "research-14k":
        from cyclebench.cli.build_research14k import run_research14k

        return run_research14k(args)
    if args.dataset == "deepreview-13k":
        from cyclebench.cli.build_deepreview13k import run_deepreview13k

        return run_deepreview13k(args)
    if args.dataset == "aiscientist-iclr2022":
        from cyclebench.builders import aiscientist_iclr2022

        config = dataclass_from_arguments(aiscientist_iclr2022.AIScientistConfig, args)
        check_build_target(args.out, args.overwrite, [args.ratings, args.papers, args.config])
        manifest = aiscientist_iclr2022.build(args.ratings, args.papers, args.out, config, overwrite=args.overwrite)
        print(json.dumps({"out": str(args.out), **manifest["counts"]}, indent=2))
        return 0

    from cyclebench.builders import review5k

    if args.sample:
        if args.openreview or args.papers:
            raise ValueError("--sample builds the embedded sample; do not also give --openreview/--papers")
        args.openreview = [sample_dir() / "openreview.jsonl"]
        args.papers = sample_dir() / "papers"
    if not args.openreview:
        raise ValueError("give --openreview RAW.jsonl [--papers DIR], or --sample")
    if args.allow_missing_text:
        args.require_text = False
    config = dataclass_from_arguments(review5k.Review5KConfig, args)
    check_build_target(args.out, args.overwrite, [*args.openreview, args.papers, args.config])
    report = review5k.build(args.openreview, args.papers, args.out, config, overwrite=args.overwrite,
                            ai_text_scores=args.ai_text_scores)
    counts = report.manifest["counts"]
    print(json.dumps({"out": str(report.out), "papers_in": counts["papers_in"], "papers_kept": counts["papers_kept"],
                      "papers_rejected": counts["papers_rejected"], "splits": counts["splits"]["default"]}, indent=2))
    return 0
