"""``cyclebench evaluate model``: score a reviewer (model or CPU baseline) on a review task."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cyclebench.cli.arg_types import non_negative_int, positive_int
from cyclebench.cli.no_answer import backend_failure


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
    model.add_argument("--limit", type=positive_int, default=None, help="first N papers only")
    model.add_argument("--seed", type=non_negative_int, default=0)
    model.add_argument("--bootstrap", type=positive_int, default=10_000, help="bootstrap resamples for the intervals")
    model.add_argument("--batch-size", type=positive_int, default=16, help="requests per backend call (checkpoint granularity)")
    model.add_argument("--output", type=Path, required=True, help="run folder: results.json, predictions.jsonl, report.md")
    model.add_argument("--cache-dir", type=Path, default=None, help="response cache (default: OUTPUT/cache)")
    model.add_argument("--overwrite", action="store_true",
                           help="replace OUTPUT when it holds another run cyclebench wrote (never a folder it did not write)")

    recorded = sub.add_parser("predictions", help="score recorded outputs of a system (no backend)",
                              description="Parse and score recorded outputs with the same parsers, metrics and "
                                          "report as `evaluate model`; the results are marked imported.")
    recorded.add_argument("--task", required=True)
    recorded.add_argument("--data", required=True, help="the task's dataset build (folder) or Hub id (with --revision)")
    recorded.add_argument("--revision", default=None)
    recorded.add_argument("--split", default=None)
    recorded.add_argument("--task-args", default="")
    recorded.add_argument("--protocol", required=True)
    recorded.add_argument("--protocol-args", default="", help="e.g. decision_rule=threshold,threshold=8")
    recorded.add_argument("--predictions", type=Path, required=True, help="file or folder of recorded outputs")
    recorded.add_argument("--format", default="jsonl", choices=["jsonl", "text", "aiscientist-csv"])
    recorded.add_argument("--model-name", default=None, help="name shown for the system (default: file name)")
    recorded.add_argument("--seed", type=non_negative_int, default=0)
    recorded.add_argument("--bootstrap", type=positive_int, default=10_000)
    recorded.add_argument("--output", type=Path, required=True)
    recorded.add_argument("--overwrite", action="store_true",
                              help="replace OUTPUT when it holds another run cyclebench wrote (never a folder it did not write)")

    from cyclebench.cli.evaluate_generation import (
        add_generator_arguments,
        add_papers_arguments,
    )

    add_generator_arguments(sub)
    add_papers_arguments(sub)


_SUMMARY = ("rating_mae", "rating_mse", "proxy_model_mae", "proxy_human_mae", "decision_accuracy",
            "decision_macro_f1", "decision_accept_f1", "decision_balanced_accuracy", "roc_auc", "spearman",
            "pearson", "pairwise_accuracy")


def _print_summary(output: Path, results: dict) -> None:
    summary = {k: v["value"] for k, v in results["metrics"].items() if k in _SUMMARY}
    counts = {k: results["counts"][k] for k in ("n_papers", "n_evaluated", "n_failed")}
    print(json.dumps({"output": str(output), "counts": counts, "metrics": summary}, indent=2))


def run(args: argparse.Namespace) -> int:
    from cyclebench.backends import parse_model_args

    if args.what in ("generator", "papers"):
        from cyclebench.cli.evaluate_generation import run_generator, run_papers

        return run_generator(args) if args.what == "generator" else run_papers(args)

    if args.what == "predictions":
        from cyclebench.recorded import score_recorded_outputs

        results = score_recorded_outputs(
            task=args.task, data=args.data, revision=args.revision, split=args.split,
            task_options=parse_model_args(args.task_args), protocol=args.protocol,
            protocol_options=parse_model_args(args.protocol_args), predictions=args.predictions, fmt=args.format,
            model_name=args.model_name, seed=args.seed, n_resamples=args.bootstrap, output=args.output,
            overwrite=args.overwrite)
        _print_summary(args.output, results)
        return 0

    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    config = ReviewRunConfig(
        task=args.task, data=args.data, revision=args.revision, split=args.split,
        task_options=parse_model_args(args.task_args), protocol=args.protocol,
        protocol_options=parse_model_args(args.protocol_args), backend=args.backend,
        model_args=parse_model_args(args.model_args), sampling=parse_model_args(args.gen_args),
        limit=args.limit, seed=args.seed, n_resamples=args.bootstrap, batch_size=args.batch_size,
    )
    results = run_review_evaluation(config, args.output, cache_dir=args.cache_dir, overwrite=args.overwrite)
    failure = backend_failure(results, Path(args.output))
    if failure:
        print(f"cyclebench evaluate: error: {failure}", file=sys.stderr)
        return 1
    _print_summary(args.output, results)
    return 0
