"""A real judge on a pairwise run: SmolLM2-135M-Instruct (CPU) compares reviews of corpus Review-5K papers.

Builds Review-5K from the corpus as the leaderboard seed does (``iclr2026_v2.jsonl``, papers shown as title and
abstract), evaluates two CPU baselines on it (``baseline-tfidf``, ``baseline-constant``), then runs
``cyclebench evaluate pairwise`` over the two runs plus the dataset's human reviews with SmolLM2 as the judge,
a seeded handful of (paper, pair) items, each judged in both orders. Prints the parse rate and position bias.

    nice -n 5 python benchmarks/pairwise_smollm2.py --work /tmp/pairwise-bench --max-pairs 4
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


def main() -> None:
    from cyclebench.backends.gguf import smollm2_model_args
    from cyclebench.cli import main as cli
    from cyclebench.leaderboard.seed import build_review5k

    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--max-pairs", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    data = work / "review5k"
    if not (data / "manifest.json").is_file():
        build_review5k(CORPUS.resolve(), data)
    runs = []
    for backend in ("baseline-tfidf", "baseline-constant"):
        out = work / backend
        runs.append(str(out))
        if not (out / "results.json").is_file():
            assert cli(["evaluate", "model", "--task", "review-5k", "--data", str(data), "--task-args",
                        "abstract_fallback=true", "--protocol", "cyclereviewer", "--backend", backend,
                        "--bootstrap", "200", "--output", str(out)]) == 0
    started = time.time()
    out = work / "pairwise-smollm2"
    code = cli(["evaluate", "pairwise", "--runs", *runs, "--human-reviews", "--backend", "hf",
                "--model-args", smollm2_model_args(), "--protocol-args", "max_paper_chars=800,max_review_chars=700",
                "--gen-args", f"max_tokens={args.max_tokens}", "--max-pairs", str(args.max_pairs),
                "--seed", str(args.seed), "--batch-size", str(args.batch_size), "--output", str(out), "--overwrite"])
    seconds = time.time() - started
    results = json.loads((out / "results.json").read_text())
    counts, overall = results["counts"], results["metrics"]["overall"]
    aspects = results["config"]["aspects"]
    n_verdicts = counts["n_judgments"] * len(aspects)
    n_read = n_verdicts - sum(results["metrics"][a]["position_bias"]["n_unreadable"] for a in aspects)
    print(json.dumps({
        "exit": code, "seconds": round(seconds, 1), "counts": counts,
        "verdicts_read": f"{n_read}/{n_verdicts}",
        "position_bias_overall": overall["position_bias"],
        "bt_overall": {k: v["value"] for k, v in overall["bradley_terry"]["ratings"].items()},
    }, indent=2))


if __name__ == "__main__":
    main()
