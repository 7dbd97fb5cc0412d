"""``cyclebench evaluate model``: score a reviewer (model or CPU baseline) on a review task."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    model = sub.add_parser("model", help="generate reviews with a backend and score them",
                           description="Generate reviews with a backend, parse them with a protocol, score them.")
    model.add_argument("--task", required=True, help="review-5k | deepreview-13k | aiscientist-iclr2022")
    model.add_argument("--data", required=True, help="a built dataset folder, or a Hub repo id (with --revision)")
    model.add_argument("--revision", default=None, help="Hub tag/commit for a repo id")
    model.add_argument("--split", default=None, help="default: the task's evaluation split")
    model.add_argument("--task-args", default="", help="task options k=v,... e.g. abstract_fallback=true")
    model.add_argument("--protocol", required=True, help="cyclereviewer | deepreviewer | aiscientist")
    model.add_argument("--protocol-args", default="", help="k=v,... e.g. mode=best,reviewers=4")
    model.add_argument("--backend", required=True, help="hf | vllm | openai | baseline-tfidf | baseline-minilm | baseline-constant")
    model.add_argument("--model-args", default="", help="lm-eval style k=v,... e.g. pretrained=PATH,batch_size=8")
    model.add_argument("--gen-args", default="", help="sampling overrides k=v,... (temperature, top_p, max_tokens)")
    model.add_argument("--limit", type=int, default=None, help="first N papers only")
    model.add_argument("--seed", type=int, default=0)
    model.add_argument("--bootstrap", type=int, default=10_000, help="bootstrap resamples for the intervals")
    model.add_argument("--batch-size", type=int, default=16, help="requests per backend call (checkpoint granularity)")
    model.add_argument("--output", type=Path, required=True, help="run folder: results.json, predictions.jsonl, report.md")
    model.add_argument("--cache-dir", type=Path, default=None, help="response cache (default: OUTPUT/cache)")


def run(args: argparse.Namespace) -> int:
    from cyclebench.backends import parse_model_args
    from cyclebench.evaluate import ReviewRunConfig, run_review_evaluation

    config = ReviewRunConfig(
        task=args.task, data=args.data, revision=args.revision, split=args.split,
        task_options=parse_model_args(args.task_args), protocol=args.protocol,
        protocol_options=parse_model_args(args.protocol_args), backend=args.backend,
        model_args=parse_model_args(args.model_args), sampling=parse_model_args(args.gen_args),
        limit=args.limit, seed=args.seed, n_resamples=args.bootstrap, batch_size=args.batch_size,
    )
    results = run_review_evaluation(config, args.output, cache_dir=args.cache_dir)
    summary = {k: v["value"] for k, v in results["metrics"].items()
               if k in ("rating_mae", "rating_mse", "proxy_model_mae", "proxy_human_mae", "decision_accuracy",
                        "decision_macro_f1", "spearman", "pairwise_accuracy")}
    print(json.dumps({"output": str(args.output), "counts": {k: results["counts"][k] for k in ("n_papers", "n_evaluated", "n_failed")},
                      "metrics": summary}, indent=2))
    return 0
