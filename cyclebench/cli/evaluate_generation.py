"""``cyclebench evaluate generator`` and ``cyclebench evaluate papers``: judge generated or existing papers.

Wired into ``cyclebench evaluate`` (``cyclebench/cli/evaluate.py``) as two more ``WHAT`` subcommands.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cyclebench.cli.arg_types import finite_float, non_negative_int, positive_int
from cyclebench.cli.no_answer import no_answer
from cyclebench.metrics import DEFAULT_ACCEPT_THRESHOLD


def _judge_arguments(parser: argparse.ArgumentParser, prefix: str, required: bool) -> None:
    flag = f"--{prefix}"
    parser.add_argument(f"{flag}-protocol", required=required, default=None,
                        help="review protocol of the judge: cyclereviewer | deepreviewer | aiscientist")
    parser.add_argument(f"{flag}-protocol-args", default="", help="k=v,... e.g. mode=fast or decision_rule=text")
    parser.add_argument(f"{flag}-backend", required=required, default=None,
                        help="hf | vllm | openai | baseline-tfidf | baseline-minilm | baseline-constant | fake")
    parser.add_argument(f"{flag}-model-args", default="", help="lm-eval style k=v,... for the judge's backend")
    parser.add_argument(f"{flag}-gen-args", default="", help="judge sampling overrides k=v,...")
    parser.add_argument(f"{flag}-train", default=None, metavar="TASK=DATA",
                        help="training data of a baseline judge: a review task and its built dataset, e.g. "
                             "aiscientist-iclr2022=ais2022/ (the task's train split is used)")


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    _judge_arguments(parser, "judge", required=True)
    _judge_arguments(parser, "second-judge", required=False)
    parser.add_argument("--threshold", type=finite_float, default=DEFAULT_ACCEPT_THRESHOLD,
                        help=f"accept when the judge's mean rating >= this (default {DEFAULT_ACCEPT_THRESHOLD:g})")
    parser.add_argument("--prefer", default="latex,markdown,text,pdf",
                        help="which file of a paper to read when several exist, in order (default latex,markdown,text,pdf)")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--bootstrap", type=positive_int, default=10_000, help="bootstrap resamples for the intervals")
    parser.add_argument("--batch-size", type=positive_int, default=16, help="requests per backend call (checkpoint granularity)")
    parser.add_argument("--output", type=Path, required=True, help="run folder: results.json, predictions.jsonl, report.md")
    parser.add_argument("--cache-dir", type=Path, default=None, help="response cache (default: OUTPUT/cache)")
    parser.add_argument("--overwrite", action="store_true",
                            help="replace OUTPUT when it holds another run cyclebench wrote (never a folder it did not write)")


def add_generator_arguments(subparsers: Any) -> argparse.ArgumentParser:
    """``evaluate generator``: generate papers from Research-14K prompts, judge them."""
    p = subparsers.add_parser(
        "generator", help="generate papers from Research-14K prompts and judge them (simulated acceptance)",
        description="Generate papers in the CycleResearcher format from Research-14K test prompts, parse every part, "
                    "judge them with a review protocol + backend, and report scores and simulated acceptance rates "
                    "beside the published ones. Generated experimental results are simulated.")
    p.add_argument("--task", default="research-14k", help="generation task (research-14k)")
    p.add_argument("--data", required=True, help="a built Research-14K folder, or a Hub repo id (with --revision)")
    p.add_argument("--revision", default=None)
    p.add_argument("--split", default="test")
    p.add_argument("--backend", required=True, help="generator backend: hf | vllm | openai | fake")
    p.add_argument("--model-args", default="", help="k=v,... e.g. pretrained=WestlakeNLP/CycleResearcher-ML-12B")
    p.add_argument("--gen-args", default="", help="generator sampling overrides k=v,... (defaults: temperature 0.4, "
                                                   "top_p 0.95, max_tokens 19000, stop \\clearpage)")
    p.add_argument("--n", type=positive_int, default=1, help="samples per prompt (seeds seed..seed+N-1); N > 1 adds best-of-N by the judge")
    p.add_argument("--limit", type=positive_int, default=None, help="first N prompts only")
    p.add_argument("--results-turn", choices=("simulate", "given"), default="simulate",
                   help="simulate: the generator writes the experimental results it expects (default); given: the "
                        "test record's own results turn")
    p.add_argument("--reference-papers", action="append", default=[], metavar="NAME=DIR",
                   help="a folder of papers judged beside the generated ones (repeatable)")
    p.add_argument("--reference-limit", type=positive_int, default=None, help="first N papers of each reference folder")
    _common_arguments(p)
    return p


def add_papers_arguments(subparsers: Any) -> argparse.ArgumentParser:
    """``evaluate papers``: judge folders of papers (PDF, LaTeX, markdown, text)."""
    p = subparsers.add_parser(
        "papers", help="judge folders of papers (PDF, LaTeX, markdown) side by side under one judge",
        description="Judge every paper of one or more folders with a review protocol + backend, and report scores and "
                    "simulated acceptance rates per folder beside the published ones; optionally a prompt-injection check.")
    p.add_argument("--papers", action="append", required=True, metavar="[NAME=]DIR",
                   help="a folder of papers named by id (repeatable; each is one row of the comparison)")
    p.add_argument("--limit", type=positive_int, default=None, help="first N papers (sorted ids) of each folder")
    p.add_argument("--set-limit", action="append", default=[], metavar="NAME=N",
                   help="first N papers of the set NAME, overriding --limit for it (repeatable)")
    p.add_argument("--training-overlap", choices=("exclude", "keep"), default="exclude",
                   help="papers the judge was trained on: excluded and counted (default) or kept")
    p.add_argument("--injection", action="store_true",
                   help="judge every paper again with an instruction to the reviewer planted, and report the shift")
    p.add_argument("--injection-text", default=None, help="the planted instruction (default: cyclebench.injection.INJECTION_TEXT)")
    _common_arguments(p)
    return p


def _judge_config(args: argparse.Namespace, prefix: str) -> Any:
    from cyclebench.backends import parse_model_args
    from cyclebench.judge import JudgeConfig

    def get(name: str) -> Any:
        return getattr(args, f"{prefix}_{name}")

    if get("protocol") is None and get("backend") is None:
        return None
    if get("protocol") is None or get("backend") is None:
        raise ValueError(f"--{prefix.replace('_', '-')}-protocol and --{prefix.replace('_', '-')}-backend go together")
    return JudgeConfig(protocol=get("protocol"), backend=get("backend"), model_args=parse_model_args(get("model_args")),
                       protocol_options=parse_model_args(get("protocol_args")), sampling=parse_model_args(get("gen_args")),
                       train=get("train"))


def _prefer(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in ("latex", "markdown", "text", "pdf")]
    if bad or not kinds:
        raise ValueError(f"--prefer takes latex, markdown, text, pdf; not {bad or text!r}")
    return kinds


def _set_limit(text: str) -> tuple[str, int]:
    name, _, value = text.rpartition("=")
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not name.strip() or limit < 1:
        raise ValueError(f"--set-limit takes NAME=N with N a positive whole number, not {text!r}")
    return name.strip(), limit


def _summary(results: dict[str, Any], output: Path) -> str:
    sets = {name: {k: res["metrics"][k]["value"] for k in ("average_score", "accept_rate_by_decision", "accept_rate_by_rating")}
            | {"n": res["counts"]["n_entries"]} for name, res in results["sets"].items()}
    return json.dumps({"output": str(output), "judge": results["judge"]["label"], "sets": sets}, indent=2)


def run_generator(args: argparse.Namespace) -> int:
    from cyclebench.backends import parse_model_args
    from cyclebench.evaluate_generator import (
        GeneratorRunConfig,
        run_generator_evaluation,
    )
    from cyclebench.paper_sets import parse_set_spec

    config = GeneratorRunConfig(
        task=args.task, data=args.data, revision=args.revision, split=args.split, backend=args.backend,
        model_args=parse_model_args(args.model_args), sampling=parse_model_args(args.gen_args), n=args.n,
        limit=args.limit, seed=args.seed, results_turn=args.results_turn, judge=_judge_config(args, "judge"),
        second_judge=_judge_config(args, "second_judge"),
        reference_sets=tuple(parse_set_spec(s) for s in args.reference_papers), reference_limit=args.reference_limit,
        prefer=_prefer(args.prefer), threshold=args.threshold, n_resamples=args.bootstrap, batch_size=args.batch_size,
    )
    results = run_generator_evaluation(config, args.output, cache_dir=args.cache_dir, overwrite=args.overwrite)
    return _finish(results, Path(args.output))


def run_papers(args: argparse.Namespace) -> int:
    from cyclebench.evaluate_papers import PapersRunConfig, run_papers_evaluation
    from cyclebench.injection import INJECTION_TEXT
    from cyclebench.paper_sets import parse_set_spec

    config = PapersRunConfig(
        sets=tuple(parse_set_spec(s) for s in args.papers), judge=_judge_config(args, "judge"),
        second_judge=_judge_config(args, "second_judge"), prefer=_prefer(args.prefer), limit=args.limit,
        set_limits=tuple(_set_limit(s) for s in args.set_limit),
        threshold=args.threshold, seed=args.seed, n_resamples=args.bootstrap, batch_size=args.batch_size,
        injection=args.injection, injection_text=args.injection_text or INJECTION_TEXT,
        training_overlap=args.training_overlap,
    )
    results = run_papers_evaluation(config, args.output, cache_dir=args.cache_dir, overwrite=args.overwrite)
    return _finish(results, Path(args.output))


def _finish(results: dict[str, Any], output: Path) -> int:
    """Print the summary, or fail (exit 1, one line) when no entry got an answer from a backend."""
    failure = no_answer(results, output)
    if failure:
        print(f"cyclebench evaluate: error: {failure}", file=sys.stderr)
        return 1
    print(_summary(results, output))
    return 0
