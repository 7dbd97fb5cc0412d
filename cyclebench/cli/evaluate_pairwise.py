"""``cyclebench evaluate pairwise``: finished review runs (and human reviews) compared by a judge, both orders."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cyclebench.cli.arg_types import non_negative_int, positive_int


def add_pairwise_arguments(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pairwise", help="compare finished review runs pairwise with a judge model (win rates)",
                       description="Judge every pair of systems' reviews of the same papers in both orders; write "
                                   "win rates, position bias and Bradley-Terry ratings with bootstrap intervals.")
    p.add_argument("--runs", nargs="+", required=True, type=Path, help="finished review run folders (two or more, "
                   "or one with --human-reviews); each system is named by its folder")
    p.add_argument("--human-reviews", action="store_true", help="add the dataset's human reviews as a system")
    p.add_argument("--data", default=None, help="the runs' dataset (default: the folder their results.json names)")
    p.add_argument("--revision", default=None)
    p.add_argument("--protocol", default="pairwise", help="pairwise judging protocol (default: pairwise)")
    p.add_argument("--protocol-args", default="", help="k=v,... e.g. max_paper_chars=6000,max_review_chars=3000")
    p.add_argument("--backend", required=True, help="the judge's backend: hf | vllm | openai | fake")
    p.add_argument("--model-args", default="", help="lm-eval style k=v,... for the judge")
    p.add_argument("--gen-args", default="", help="sampling overrides k=v,... (temperature, max_tokens)")
    p.add_argument("--max-pairs", type=positive_int, default=None,
                   help="judge at most N (paper, system pair) items, a seeded choice (each in both orders)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--bootstrap", type=non_negative_int, default=10_000, help="bootstrap resamples for the intervals")
    p.add_argument("--batch-size", type=positive_int, default=16)
    p.add_argument("--output", type=Path, required=True, help="run folder: results.json, judgments.jsonl, report.md")
    p.add_argument("--cache-dir", type=Path, default=None, help="response cache (default: OUTPUT/cache)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT when it holds another run cyclebench wrote")


def run_pairwise(args: argparse.Namespace) -> int:
    from cyclebench.backends import parse_model_args
    from cyclebench.evaluate_pairwise import PairwiseRunConfig, run_pairwise_evaluation

    config = PairwiseRunConfig(
        runs=tuple(str(r) for r in args.runs), backend=args.backend, model_args=parse_model_args(args.model_args),
        protocol=args.protocol, protocol_options=parse_model_args(args.protocol_args),
        sampling=parse_model_args(args.gen_args), data=args.data, revision=args.revision,
        human_reviews=args.human_reviews, max_pairs=args.max_pairs, seed=args.seed, n_resamples=args.bootstrap,
        batch_size=args.batch_size)
    results = run_pairwise_evaluation(config, args.output, cache_dir=args.cache_dir, overwrite=args.overwrite)
    counts = results["counts"]
    if counts["n_judgments"] and counts["judgment_status"].get("failed", 0) == counts["n_judgments"]:
        print(f"cyclebench evaluate: error: no judgment could be read ({counts['generation_errors'] or 'parse failures'}); "
              f"see {args.output}/judgments.jsonl", file=sys.stderr)
        return 1
    ratings = results["metrics"][results["config"]["aspects"][-1]]["bradley_terry"]["ratings"]
    print(json.dumps({"output": str(args.output), "counts": {k: counts[k] for k in ("n_pairs_judged", "n_judgments",
                      "skipped", "judgment_status")}, "ratings": {k: v["value"] for k, v in ratings.items()}}, indent=2))
    return 0
