"""A generator evaluation run: Research-14K prompts -> papers in the CycleResearcher format -> judge -> figures.

The generator writes ``n`` samples per prompt (:mod:`cyclebench.generation`: the turns, the simulated or
given results turn, parsing); every response is cached by request hash (a killed run resumes; a rerun
generates nothing). The papers are judged (:mod:`cyclebench.judge`), optionally beside reference sets of
papers from folders and by a second judge. With ``n > 1`` the run also reports the best-of-N selection by the
judge (the paper's rejection sampling: :func:`cyclebench.metrics.best_of_n`). The experimental results of
every generated paper are simulated (or borrowed, with ``given``): the report says so.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.backends import open_backend
from cyclebench.backends.base import recorded_model_args
from cyclebench.generation import (
    RESULTS_REQUEST,
    RESULTS_TURNS,
    Sample,
    generate_samples,
    load_generation_prompts,
)
from cyclebench.judge import (
    JudgeConfig,
    JudgeItem,
    judge_inputs,
    judgement_row,
    open_judge,
    text_sha256,
)
from cyclebench.judged_sets import judge_paper_set, run_marker, set_definitions
from cyclebench.metrics import (
    DEFAULT_ACCEPT_THRESHOLD,
    SetEntry,
    best_of_n,
    disagreement,
    set_figures,
)
from cyclebench.outputs import run_folder
from cyclebench.paper_sets import DEFAULT_PREFER, read_paper_set
from cyclebench.protocols.cycleresearcher import default_sampling
from cyclebench.records import problem_key
from cyclebench.run_log import RunResults, provenance, write_run
from cyclebench.set_report import write_set_report


@dataclass(frozen=True)
class GeneratorRunConfig:
    """What decides a generator evaluation; every field lands in ``results.json``."""

    data: str
    backend: str
    judge: JudgeConfig
    task: str = "research-14k"
    split: str = "test"
    revision: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)  # overrides of the CycleResearcher defaults
    n: int = 1
    limit: int | None = None
    seed: int = 0
    results_turn: str = "simulate"
    second_judge: JudgeConfig | None = None
    reference_sets: tuple[tuple[str, str], ...] = ()  # (name, folder) judged beside the generated papers
    prefer: tuple[str, ...] = DEFAULT_PREFER
    reference_limit: int | None = None
    threshold: float = DEFAULT_ACCEPT_THRESHOLD
    n_resamples: int = 10_000
    batch_size: int = 16


def _entries(samples: list[Sample], reviews: dict[str, Any]) -> list[SetEntry]:
    return [SetEntry(s.item_id, s.outcome, reviews.get(s.item_id) if s.outcome == "judged" else None,  # type: ignore[arg-type]
                     None if s.outcome == "judged" else s.reason) for s in samples]


def run_generator_evaluation(config: GeneratorRunConfig, output: str | Path, *, cache_dir: str | Path | None = None,
                             backend: Any = None, judge_backend: Any = None, second_judge_backend: Any = None,
                             progress: bool | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Run (or resume) one generator evaluation into ``output``; returns the results dict. ``output`` must be
    new, empty or this run's folder; ``overwrite`` replaces another run's folder that cyclebench wrote."""
    inputs = [config.data, *config.model_args.values(), *(folder for _, folder in config.reference_sets),
              *judge_inputs(config.judge), *judge_inputs(config.second_judge)]
    with run_folder(output, run_marker("generator", config), overwrite=overwrite, inputs=inputs) as claimed:
        return _run_generator(config, claimed, cache_dir=cache_dir, backend=backend, judge_backend=judge_backend,
                              second_judge_backend=second_judge_backend, progress=progress)


def _run_generator(config: GeneratorRunConfig, output: Path, *, cache_dir: str | Path | None, backend: Any,
                   judge_backend: Any, second_judge_backend: Any, progress: bool | None) -> dict[str, Any]:
    if config.n < 1:
        raise ValueError(f"n (samples per prompt) must be >= 1, not {config.n}")
    if config.results_turn not in RESULTS_TURNS:
        raise ValueError(f"results_turn must be one of {RESULTS_TURNS}, not {config.results_turn!r}")
    started = time.time()
    cache = Path(cache_dir) if cache_dir else output / "cache"

    loaded = load_generation_prompts(config.task, config.data, config.split, config.revision, config.limit)
    prompts, skipped = loaded.prompts, dict(loaded.skipped)
    if config.results_turn == "given":
        without = [p for p in prompts if p.given_results is None]
        if without:
            skipped["no_results_turn_for_given_mode"] = len(without)
            prompts = [p for p in prompts if p.given_results is not None]
    if not prompts:
        raise ValueError(f"no usable prompts in {config.data} ({config.split}): skipped {skipped}")
    samples = [Sample(p, k, config.seed + k) for p in prompts for k in range(config.n)]

    # 1. Generate (the generator is closed before any judge is loaded: both may be large models).
    sampling = {**default_sampling(), **config.sampling}
    generator = open_backend(config.backend, config.model_args, cache, backend=backend)
    generator_fp = generator.fingerprint
    try:
        generate_samples(samples, generator.cached, sampling, results_turn=config.results_turn,
                         batch_size=config.batch_size, progress=progress)
    finally:
        generator.close()
    caches = [generator.cached]

    # 2. Judge the generated papers, and the reference sets beside them.
    to_judge = [s for s in samples if s.outcome == "judged"]
    items = [JudgeItem(s.item_id, s.paper.text()) for s in to_judge]  # type: ignore[union-attr]
    common = {"threshold": config.threshold, "n_resamples": config.n_resamples, "seed": config.seed,
              "batch_size": config.batch_size, "progress": progress}
    references = [read_paper_set(name, folder, prefer=config.prefer, limit=config.reference_limit)
                  for name, folder in config.reference_sets]
    judge = open_judge(config.judge, cache, backend=judge_backend)
    caches.append(judge.cached)
    try:
        judgements = {j.item_id: j for j in judge.review(items, batch_size=config.batch_size, seed=config.seed,
                                                          progress=progress, label="judging generated papers")}
        judged_refs = [judge_paper_set(r, judge, **common) for r in references]
    finally:
        judge.close()
    reviews = {k: j.review for k, j in judgements.items()}
    chosen = best_of_n(samples, reviews)

    def generated_set(selected: list[Sample], revs: dict[str, Any]) -> dict[str, Any]:
        figures = set_figures(_entries(selected, revs), threshold=config.threshold, n_resamples=config.n_resamples,
                              seed=config.seed)
        figures["counts"]["n_prompts"] = len({s.prompt.paper_id for s in selected})
        figures["counts"]["n_samples"] = len(selected)
        figures["counts"]["paper_status"] = dict(sorted(Counter(s.paper.status for s in selected if s.paper).items()))
        figures["counts"]["paper_problems"] = dict(sorted(Counter(
            problem_key(p) for s in selected if s.paper for p in s.paper.problems).items()))
        figures["counts"]["turn_plans"] = dict(sorted(Counter(s.plan for s in selected).items()))
        return figures

    label = f"{config.backend} generated" + (f" ({config.n} samples per prompt)" if config.n > 1 else "")
    sets: dict[str, Any] = {"generated": {"label": label, "kind": "generated", "source": config.data,
                                          **generated_set(samples, reviews)}}
    if config.n > 1:
        sets["generated_best_of_n"] = {"label": f"{config.backend} best-of-{config.n} by the judge", "kind": "best_of_n",
                                       "source": config.data, **generated_set(chosen, reviews)}
    for js in judged_refs:
        sets[js.paper_set.name] = js.result

    # 3. The second, independent judge on the same papers.
    second_info, second_judgements = None, {}
    if config.second_judge is not None:
        second = open_judge(config.second_judge, cache, backend=second_judge_backend)
        caches.append(second.cached)
        try:
            second_info = second.describe()
            second_judgements = {j.item_id: j for j in second.review(items, batch_size=config.batch_size, seed=config.seed,
                                                                      progress=progress, label="second judge")}
            second_refs = [judge_paper_set(js.paper_set, second, kept=js.kept, label="second judge", **common)
                           for js in judged_refs]
        finally:
            second.close()
        reviews2 = {k: j.review for k, j in second_judgements.items()}
        for key, selected in (("generated", samples), ("generated_best_of_n", chosen)):
            if key in sets:
                sets[key]["second_judge"] = generated_set(selected, reviews2)
                sets[key]["disagreement"] = disagreement([reviews.get(s.item_id) for s in selected],
                                                         [reviews2.get(s.item_id) for s in selected],
                                                         n_resamples=config.n_resamples, seed=config.seed)
        for js, other in zip(judged_refs, second_refs):
            js.result["second_judge"] = {"metrics": other.result["metrics"], "counts": other.result["counts"]}
            js.result["disagreement"] = disagreement([e.review for e in js.entries], [e.review for e in other.entries],
                                                     n_resamples=config.n_resamples, seed=config.seed)

    chosen_ids = {s.item_id for s in chosen}
    predictions: list[dict[str, Any]] = []
    for s in samples:
        row = {"set": "generated", "paper_id": s.prompt.paper_id, "sample": s.index, "seed": s.seed, "plan": s.plan,
               "outcome": s.outcome, "reason": s.reason, "best_of_n": s.item_id in chosen_ids, "turns": s.turns,
               "paper": asdict(s.paper) if s.paper else None,
               "paper_text_sha256": text_sha256(s.paper.text()) if s.paper and s.outcome == "judged" else None,
               "judge": judgement_row(judgements[s.item_id]) if s.item_id in judgements else None}
        if s.item_id in second_judgements:
            row["second_judge"] = judgement_row(second_judgements[s.item_id])
        predictions.append(row)
    for js in judged_refs:
        predictions.extend(js.predictions())

    results = RunResults(
        kind="generator",
        task={"name": config.task, "split": config.split, "dataset_fingerprint": loaded.fingerprint,
              "source": loaded.source, "n_rows": loaded.n_rows, "n_prompts": len(prompts), "skipped": skipped,
              "notes": loaded.notes},
        generator={"backend": config.backend, "model_args": recorded_model_args(config.model_args),
                   "fingerprint": generator_fp, "sampling": sampling, "n": config.n,
                   "seeds": [config.seed + k for k in range(config.n)], "results_turn": config.results_turn,
                   "results_request": RESULTS_REQUEST if config.results_turn == "simulate" else None,
                   "results_are_simulated": config.results_turn == "simulate"},
        judge=judge.describe(),
        second_judge=second_info,
        threshold=config.threshold,
        seed=config.seed,
        n_resamples=config.n_resamples,
        metrics=sets["generated"]["metrics"],
        best_of_n_metrics=sets["generated_best_of_n"]["metrics"] if config.n > 1 else None,
        counts={**sets["generated"]["counts"], "n_rows": loaded.n_rows, "prompts_skipped": skipped},
        sets=sets,
        reference_sets=[list(r) for r in config.reference_sets],
        definitions={
            **set_definitions(config.threshold),
            "best_of_n": "per prompt, the sample with the highest rating by the (first) judge; ties go to the lower "
                         "sample index; a prompt without any rated sample keeps its furthest-got sample as a failure",
            "simulated_results": "the experimental results in generated papers were written by the generator "
                                 "(results_turn=simulate) or copied from the test record (given): never run",
            "samples": "sample k of a prompt is generated with seed = seed + k; every turn of a sample uses its seed",
        },
        provenance=provenance(),
    )
    return write_run(output, results, predictions, write_set_report, started=started, caches=caches)

