"""Evaluation harness overhead and cached reruns, as ratios measured in one run (tiny model, CPU).

1. bare: ``HFBackend.generate`` called directly on the protocol's prompts for every paper of the
   embedded sample's Review-5K build, in the harness's batch size;
2. harness: ``cyclebench evaluate model`` on the same papers with a fresh response cache (prompting,
   generation, caching, parsing, metrics with 10,000 bootstrap resamples, results, report, plots);
3. rerun: the same run again, every response cached.

Goals: harness / bare - 1 <= 5 %; rerun / harness <= 2 %.

    python benchmarks/bench_harness.py --write benchmarks/RESULTS_harness.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()

    from tiny_models import make_tiny_llama

    from cyclebench.backends import GenerationRequest, build_backend
    from cyclebench.cli import main as cli
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
    from cyclebench.protocols import get_protocol
    from cyclebench.tasks import get_task

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "review5k"
        cli(["build", "review-5k", "--sample", "--out", str(data)])
        model_path = make_tiny_llama(tmp / "tiny")
        model_args = {"pretrained": str(model_path), "max_length": 16384, "batch_size": args.batch_size}
        backend = build_backend("hf", model_args)
        sampling = {"max_tokens": args.max_tokens, "temperature": 0.0}
        config = ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="hf",
                                 model_args=model_args, sampling=sampling, limit=args.limit,
                                 batch_size=args.batch_size)
        # Warm-up (first-call costs of torch kernels and imports) outside every timing.
        run_review_evaluation(config, tmp / "warmup", backend=backend, progress=False)

        protocol = get_protocol("cyclereviewer")
        protocol.sampling.update(sampling)
        examples = get_task("review-5k").load(str(data), "test", limit=args.limit).examples
        requests = [GenerationRequest(e.paper_id, tuple(protocol.build_messages(e.paper_text, title=e.title)),
                                      {**protocol.sampling, "seed": 0}) for e in examples]
        # Alternate bare and harness runs, best of --repeats each, so machine noise hits both alike.
        bare = harness = float("inf")
        for attempt in range(args.repeats):
            start = time.perf_counter()
            for i in range(0, len(requests), args.batch_size):
                backend.generate(requests[i : i + args.batch_size])
            bare = min(bare, time.perf_counter() - start)
            start = time.perf_counter()
            run_review_evaluation(config, tmp / f"run{attempt}", backend=backend, progress=False)
            harness = min(harness, time.perf_counter() - start)

        start = time.perf_counter()
        run_review_evaluation(config, tmp / "run0", backend=backend, progress=False)
        rerun = time.perf_counter() - start

    lines = [
        f"- {len(requests)} papers (embedded sample, test split), tiny 2-layer Llama, {args.max_tokens} new tokens, "
        f"batch {args.batch_size}, CPU",
        f"- bare `HFBackend.generate`: {bare:.2f} s (best of {args.repeats}, alternating with the harness)",
        f"- `evaluate model` (fresh cache, 10,000 bootstrap resamples, report + plots): {harness:.2f} s",
        f"- **harness overhead = {100 * (harness / bare - 1):.1f}%** (goal: at most 5%)",
        f"- fully cached rerun: {rerun:.2f} s = **{100 * rerun / harness:.1f}% of the first run** (goal: under 2%)",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        with open(args.write, "a") as handle:
            handle.write(f"\n## {time.strftime('%Y-%m-%d')} - {platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}\n\n{report}\n")


if __name__ == "__main__":
    main()
