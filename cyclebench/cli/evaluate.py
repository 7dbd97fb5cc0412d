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
    model.add_argument("--task", "--tasks", dest="task", required=True,
                       help="review-5k | deepreview-13k | aiscientist-iclr2022; several as a,b (one run folder each)")
    model.add_argument("--data", required=True,
                       help="a built dataset folder, or a Hub repo id (with --revision); with several tasks one per "
                            "task as a,b in the same order, or one for all")
    model.add_argument("--revision", default=None, help="Hub tag/commit for a repo id")
    model.add_argument("--split", default=None, help="default: the task's evaluation split")
    model.add_argument("--task-args", default="", help="task options k=v,... e.g. abstract_fallback=true")
    model.add_argument("--protocol", required=True, help="cyclereviewer | deepreviewer | aiscientist")
    model.add_argument("--protocol-args", default="", help="k=v,... e.g. mode=best,reviewers=4")
    model.add_argument("--backend", "--model", dest="backend", required=True, help="hf | vllm | openai | baseline-tfidf | baseline-minilm | baseline-constant")
    model.add_argument("--model-args", "--model_args", dest="model_args", default="", help="lm-eval style k=v,... e.g. pretrained=PATH,batch_size=8")
    model.add_argument("--gen-args", "--gen_kwargs", dest="gen_args", default="", help="sampling overrides k=v,... (temperature, top_p, max_tokens)")
    model.add_argument("--limit", type=positive_int, default=None, help="first N papers only")
    model.add_argument("--seed", type=non_negative_int, default=0)
    model.add_argument("--bootstrap", type=positive_int, default=10_000, help="bootstrap resamples for the intervals")
    model.add_argument("--batch-size", "--batch_size", dest="batch_size", type=positive_int, default=16, help="requests per backend call (checkpoint granularity)")
    model.add_argument("--output", "--output_path", dest="output", type=Path, required=True,
                       help="run folder: results.json, predictions.jsonl, report.md (several tasks: OUTPUT/TASK/)")
    model.add_argument("--log_samples", "--log-samples", action="store_true",
                       help="accepted for lm-eval users: every run writes its samples (predictions.jsonl) anyway")
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
    from cyclebench.cli.evaluate_pairwise import add_pairwise_arguments

    add_pairwise_arguments(sub)


_SUMMARY = ("rating_mae", "rating_mse", "proxy_model_mae", "proxy_human_mae", "decision_accuracy",
            "decision_macro_f1", "decision_accept_f1", "decision_balanced_accuracy", "roc_auc", "spearman",
            "pearson", "pairwise_accuracy")


def _print_summary(output: Path, results: dict) -> None:
    summary = {k: v["value"] for k, v in results["metrics"].items() if k in _SUMMARY}
    counts = {k: results["counts"][k] for k in ("n_papers", "n_evaluated", "n_failed")}
    print(json.dumps({"output": str(output), "counts": counts, "metrics": summary}, indent=2))


def run(args: argparse.Namespace) -> int:
    from cyclebench.backends import parse_model_args

    if args.what == "pairwise":
        from cyclebench.cli.evaluate_pairwise import run_pairwise

        return run_pairwise(args)
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

    runs = task_runs(args.task, args.data, Path(args.output))
    if len(runs) == 1:
        return _evaluate_one(args, *runs[0])
    codes: dict[str, int] = {}
    for task, data, output in runs:  # one task failing does not stop the others
        print(f"cyclebench evaluate: task {task} -> {output}", file=sys.stderr, flush=True)
        try:
            codes[task] = _evaluate_one(args, task, data, output)
        except (ValueError, OSError, ImportError, KeyError) as exc:
            from cyclebench.cli import error_line

            print(f"cyclebench evaluate: task {task}: error: {error_line(exc)}", file=sys.stderr)
            codes[task] = 2
    failed = sorted(task for task, code in codes.items() if code)
    ok = len(codes) - len(failed)
    print(f"cyclebench evaluate: {ok} of {len(codes)} tasks finished" + (f"; failed: {', '.join(failed)}" if failed else ""),
          file=sys.stderr)
    return max(codes.values())


def task_runs(tasks: str, data: str, output: Path) -> list[tuple[str, str, Path]]:
    """``--tasks a,b --data A,B --output OUT`` as (task, data, run folder) triples: one task keeps OUT itself
    (as before); several get OUT/<task>/ each, with one data per task in order or one shared by all (an
    existing folder whose name holds a comma is one dataset). Every name must be a known task, checked
    before any run: a name becomes a folder under OUT, and a typo in the last task is found at once."""
    from cyclebench.tasks import get_task

    names = [t.strip() for t in tasks.split(",")]
    if any(not t for t in names):
        raise ValueError(f"--tasks {tasks!r}: an empty task name; give names as a,b")
    if len(set(names)) != len(names):
        raise ValueError(f"--tasks {tasks!r}: a task is named twice")
    for name in names:
        get_task(name)  # ValueError: unknown task ..., known: ...
    if len(names) == 1:
        return [(names[0], data, output)]
    shared = "," not in data or Path(data).exists()
    folders = [data] * len(names) if shared else [d.strip() for d in data.split(",")]
    if len(folders) != len(names):
        raise ValueError(f"--tasks names {len(names)} tasks but --data gives {len(folders)} datasets; give one per task "
                         f"(a,b in the same order) or one for all")
    return [(task, folder, output / task) for task, folder in zip(names, folders)]


def _evaluate_one(args: argparse.Namespace, task: str, data: str, output: Path) -> int:
    from cyclebench.backends import parse_model_args
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    config = ReviewRunConfig(
        task=task, data=data, revision=args.revision, split=args.split,
        task_options=parse_model_args(args.task_args), protocol=args.protocol,
        protocol_options=parse_model_args(args.protocol_args), backend=args.backend,
        model_args=parse_model_args(args.model_args), sampling=parse_model_args(args.gen_args),
        limit=args.limit, seed=args.seed, n_resamples=args.bootstrap, batch_size=args.batch_size,
    )
    results = run_review_evaluation(config, output, cache_dir=args.cache_dir, overwrite=args.overwrite)
    failure = backend_failure(results, output)
    if failure:
        print(f"cyclebench evaluate: error: {failure}", file=sys.stderr)
        return 1
    _print_summary(output, results)
    return 0
