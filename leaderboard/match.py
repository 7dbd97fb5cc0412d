"""Match a submission's predictions to the named dataset build and re-score them.

Reviewer runs: predictions are matched by paper id to the split's examples, the human scores they carry
are checked against the build's, score ranges are checked, the re-parse of the raw outputs must agree with
the submitted parsed fields (``cyclebench.leaderboard.reparse``), and the metrics are recomputed from the re-parse
with ``cyclebench.metrics.score_predictions``; a run of a cyclebench baseline is then re-run
(``cyclebench.leaderboard.reproduce``); each row's request hash must be what its kind of run writes
(``cyclebench.leaderboard.provenance``). Generator runs: samples are matched to the build's prompts x samples per
prompt, each sample's outcome is derived again from its turns (``cyclebench.leaderboard.generation``), and the set
figures (and best-of-N) are recomputed with ``cyclebench.metrics`` from the judge's re-parsed reviews.
Every claimed figure must then agree (``cyclebench.leaderboard.rescore``).
"""

from __future__ import annotations

from typing import Any

from cyclebench.leaderboard import rescore
from cyclebench.leaderboard.datasets import DatasetBuilds
from cyclebench.leaderboard.generation import outcome_problems
from cyclebench.leaderboard.outcome import LABELS, Verification
from cyclebench.leaderboard.provenance import request_hash_problems, truncation_problems
from cyclebench.leaderboard.reparse import Reparsed, replace_judge_reviews
from cyclebench.leaderboard.reproduce import is_baseline_run, reproduce_baseline

# Re-scoring draws papers x resamples bootstrap weights; a cap keeps a hostile submission from tying up CI
# (a 5,000-paper split at the default 10,000 resamples is 5e7).
MAX_RESCORE_DRAWS = 200_000_000


def _rows_by_id(rows: list[tuple[int, Any]], out: Verification) -> dict[str, dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    repeated = []
    for _, row in rows:
        if row["paper_id"] in by_id:
            repeated.append(row["paper_id"])
        by_id[row["paper_id"]] = row
    if repeated:
        out.add("ids_mismatch", f"predictions.jsonl repeats {len(repeated)} paper id(s) (first: {repeated[0]!r})")
    return by_id


def _first(ids: list[str], n: int = 3) -> str:
    return ", ".join(repr(i) for i in sorted(ids)[:n]) + (" ..." if len(ids) > n else "")


def check_review(results: dict[str, Any], rows: list[tuple[int, Any]], reparsed: Reparsed, datasets: DatasetBuilds,
                 out: Verification) -> None:
    """Match and re-score a reviewer run (``rows``: the predictions as ``(line number, row)``; ``reparsed``:
    their raw outputs parsed again, which is what gets scored); a baseline is then re-run."""
    from cyclebench.tasks import get_task

    task_info = results["task"]
    try:
        task = get_task(task_info["name"])
    except ValueError as error:
        out.add("unknown_task", str(error))
        return
    split, options, limit = task_info["split"], task_info.get("options") or {}, task_info.get("source", {}).get("limit")
    path, problem = datasets.find(task.name, task_info["dataset_fingerprint"], split)
    if problem:
        out.problems.append(problem)
        return
    out.dataset_path = str(path)
    try:
        loaded = datasets.load(task, path, split, options, limit)
    except (ValueError, FileNotFoundError, KeyError) as error:
        out.add("task_load", f"cannot load {task.name} split {task_info['split']!r} from {path}: {error}")
        return
    by_id = _rows_by_id(rows, out)
    wanted = [e.paper_id for e in loaded.examples]
    wanted_set = set(wanted)
    missing = [i for i in wanted if i not in by_id]
    extra = [i for i in by_id if i not in wanted_set]
    if missing:
        out.add("ids_mismatch", f"{len(missing)} of the split's {len(wanted)} papers have no prediction "
                                f"(first: {_first(missing)})")
    if extra:
        out.add("ids_mismatch", f"{len(extra)} predictions are for papers not in {task.name}/{task_info['split']} "
                                f"(first: {_first(extra)})")
    if missing or extra or out.problems:
        return
    differ = [e.paper_id for e in loaded.examples
              if [float(x) for x in by_id[e.paper_id]["human_ratings"]] != [float(x) for x in e.ratings]
              or by_id[e.paper_id]["human_accepted"] != e.accepted]
    if differ:
        out.add("human_scores_mismatch", f"{len(differ)} predictions carry human scores that differ from the dataset "
                                         f"build (first: {_first(differ)}); the build's are the ground truth")
    out.problems.extend(request_hash_problems(results, by_id, loaded.examples))
    out.problems.extend(truncation_problems(results, by_id))
    claimed = [rescore.parsed_from_row(by_id[e.paper_id]["parsed"]) for e in loaded.examples]
    bounds = rescore.rating_range(loaded.examples)
    out.rating_bounds = bounds
    for message in rescore.range_problems(list(zip(wanted, claimed)), bounds):
        out.add("out_of_range", message)
    out.problems.extend(reparsed.problems)
    if out.problems or not _affordable(len(claimed), results["n_resamples"], out):
        return
    parsed = [reparsed.reviews[e.paper_id] for e in loaded.examples]
    recomputed = rescore.rescore_review(loaded.examples, parsed, n_resamples=results["n_resamples"], seed=results["seed"])
    _compare(results, recomputed, out)
    out.points = [(sum(e.ratings) / len(e.ratings), p.rating) for e, p in zip(loaded.examples, parsed)
                  if p.rating is not None]
    if not out.problems and is_baseline_run(results) and reproduce_baseline(results, by_id, path, datasets, out):
        out.label = LABELS["baseline"]


def check_generator(results: dict[str, Any], rows: list[tuple[int, Any]], reparsed: Reparsed,
                    datasets: DatasetBuilds, out: Verification) -> None:
    """Generated samples are matched to the prompts of the named build (every prompt x every sample index),
    then the set figures are recomputed with ``cyclebench.metrics.set_figures`` from the judge's re-parsed
    reviews; with N > 1 the best-of-N pick of every prompt is checked against the rule and its figures
    recomputed too."""
    from cyclebench.generation import GENERATION_TASKS, load_generation_prompts

    task_info, generator = results["task"], results["generator"]
    split, limit = task_info["split"], task_info.get("source", {}).get("limit")
    if task_info["name"] not in GENERATION_TASKS:
        out.add("unknown_task", f"unknown generation task {task_info['name']!r}; known: {', '.join(GENERATION_TASKS)}")
        return
    path, problem = datasets.find(task_info["name"], task_info["dataset_fingerprint"], split)
    if problem:
        out.problems.append(problem)
        return
    out.dataset_path = str(path)
    try:
        prompts = load_generation_prompts(task_info["name"], str(path), split, None, limit).prompts
    except (ValueError, FileNotFoundError, KeyError) as error:
        out.add("task_load", f"cannot load the prompts of {task_info['name']} split {split!r} from {path}: {error}")
        return
    if generator.get("results_turn") == "given":  # the run skips prompts whose record has no results turn
        prompts = [p for p in prompts if p.given_results is not None]
    n = generator["n"]
    generated = [row for _, row in rows if row["set"] == "generated"]
    by_key: dict[tuple[str, int], dict[str, Any]] = {}
    repeated = []
    for row in generated:
        key = (row["paper_id"], row["sample"])
        repeated += [key] if key in by_key else []
        by_key[key] = row
    wanted = [(p.paper_id, k) for p in prompts for k in range(n)]
    wanted_set = set(wanted)
    missing = [k for k in wanted if k not in by_key]
    extra = [k for k in by_key if k not in wanted_set]
    for what, keys in (("repeats", repeated), ("lacks", missing), ("has samples not asked for:", extra)):
        if keys:
            out.add("ids_mismatch", f"predictions.jsonl {what} {len(keys)} generated sample(s) (first: paper "
                                    f"{keys[0][0]!r} sample {keys[0][1]}); the build's {len(prompts)} prompts x {n} "
                                    f"samples are expected")
    judged_without = [k for k, r in by_key.items() if r["outcome"] == "judged" and not r.get("judge")]
    if judged_without:
        out.add("malformed", f"{len(judged_without)} judged samples have no judge output (first: {judged_without[0]})")
    if out.problems:
        return
    given = {p.paper_id: p.given_results for p in prompts}
    out.problems.extend(outcome_problems([(k, by_key[k]) for k in wanted], given,
                                         generator.get("results_turn") or "simulate"))
    ordered = [by_key[k] for k in wanted]
    reviews = [(f"{r['paper_id']}#s{r['sample']}", e.review) for r, e in zip(ordered, rescore.generator_entries(ordered))
               if e.review is not None]
    for message in rescore.range_problems(reviews, rescore.JUDGE_RATING_RANGE):
        out.add("out_of_range", message)
    out.problems.extend(reparsed.problems)
    if out.problems or not _affordable(len(ordered), results["n_resamples"], out):
        return
    by_key = dict(zip(wanted, replace_judge_reviews(ordered, reparsed)))
    ordered = [by_key[k] for k in wanted]
    options = {"threshold": results["threshold"], "n_resamples": results["n_resamples"], "seed": results["seed"]}
    recomputed = rescore.rescore_generator(ordered, **options)
    _compare(results, recomputed, out)
    best_claimed = results.get("best_of_n_metrics")
    if n > 1 or best_claimed is not None:
        picks = [rescore.best_of_n_pick([by_key[(p.paper_id, k)] for k in range(n)]) for p in prompts]
        flagged = [(p.paper_id, [k for k in range(n) if by_key[(p.paper_id, k)]["best_of_n"]]) for p in prompts]
        wrong = [pid for (pid, ks), pick in zip(flagged, picks) if ks != [pick["sample"]]]
        if wrong:
            out.add("figure_mismatch", f"best_of_n flags differ from the best-of-N rule for {len(wrong)} prompt(s) "
                                       f"(first: {wrong[0]!r})")
        elif best_claimed is None:
            out.add("figure_mismatch", f"N = {n} samples per prompt but results.json has no best_of_n_metrics")
        else:
            problems, _ = rescore.compare_figures(best_claimed, rescore.rescore_generator(picks, **options)["metrics"])
            for message in problems:
                out.add("figure_mismatch", "best-of-N " + message)
    out.rating_bounds = rescore.JUDGE_RATING_RANGE


def _affordable(n_papers: int, n_resamples: int, out: Verification) -> bool:
    if n_papers * n_resamples <= MAX_RESCORE_DRAWS:
        return True
    out.add("too_large", f"re-scoring {n_papers:,} papers with {n_resamples:,} resamples draws "
                         f"{n_papers * n_resamples:,} weights; the limit is {MAX_RESCORE_DRAWS:,}")
    return False


def _compare(results: dict[str, Any], recomputed: dict[str, Any], out: Verification) -> None:
    problems, summary = rescore.compare_figures(results["metrics"], recomputed["metrics"])
    problems += rescore.compare_counts(results["counts"], recomputed["counts"])
    for message in problems:
        out.add("figure_mismatch", message)
    out.summary = summary
    out.recomputed = recomputed
