"""``cyclebench detect``: Fast-DetectGPT over papers, a JSONL of texts, or a built dataset's reviews."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cyclebench.cli.arg_types import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--papers", help="a folder of papers (md/txt/pdf/LaTeX), as `evaluate papers` reads")
    source.add_argument("--texts", help='a JSONL file of {"id": ..., "text": ...}')
    source.add_argument("--reviews", help="a built Review-5K folder (or Hub id): its `reviews` config")
    parser.add_argument("--splits", nargs="+", default=["train", "test"], help="splits of --reviews")
    parser.add_argument("--revision", default=None, help="Hub tag/commit for --reviews given as a repo id")
    parser.add_argument("--model-args", required=True,
                        help="scoring model, hf backend style: pretrained=PATH[,gguf_file=F,dtype=,device=,batch_size=]")
    parser.add_argument("--reference-model-args", default="",
                        help="reference model (same tokenizer required); default: the scoring model")
    parser.add_argument("--max-tokens", type=positive_int, default=512,
                        help="tokens scored per text; the rest is not scored and the row says truncated")
    parser.add_argument("--limit", type=positive_int, default=None, help="first N texts only")
    parser.add_argument("--calibration", default=None, help="a calibration JSON instead of the shipped one")
    parser.add_argument("--output", type=Path, required=True,
                        help="folder: detections.jsonl, results.json, report.md, histograms")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT when it is an earlier detect run")


def run(args: argparse.Namespace) -> int:
    from cyclebench.backends import parse_model_args
    from cyclebench.detect_texts import DetectConfig, run_detection

    kind, source = next((k, v) for k, v in (("papers", args.papers), ("jsonl", args.texts),
                                            ("reviews", args.reviews)) if v)
    if args.max_tokens < 2:
        raise ValueError("--max-tokens must be at least 2 (one context token, one scored token)")
    config = DetectConfig(
        kind=kind, source=source, model_args=parse_model_args(args.model_args),
        reference_args=parse_model_args(args.reference_model_args) or None, max_tokens=args.max_tokens,
        splits=tuple(args.splits), revision=args.revision, limit=args.limit, calibration_file=args.calibration)
    results = run_detection(config, args.output, overwrite=args.overwrite)
    print(json.dumps({"output": str(args.output), "counts": results["counts"],
                      "probability_note": results["probability_note"]}, indent=2))
    return 0
