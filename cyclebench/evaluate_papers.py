"""The ``evaluate papers`` run: one judge (and optionally a second) over sets of papers read from folders.

Per set: the judge's figures (:func:`cyclebench.metrics.set_figures`: average score, lowest and highest
simulated rating, acceptance rate under both definitions, failure shares, bootstrap intervals over papers);
with a second judge, its figures and the :func:`~cyclebench.metrics.disagreement` between the two; with
``injection``, every judged paper judged again with an instruction to the reviewer planted
(:mod:`cyclebench.injection`) and the :func:`~cyclebench.metrics.injection_shift`. Writes the run log
(:mod:`cyclebench.run_log`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyclebench.injection import INJECTION_TEXT, plant_latex_comment, plant_visible
from cyclebench.judge import (
    Judge,
    JudgeConfig,
    JudgeItem,
    judge_inputs,
    judgement_row,
    open_judge,
)
from cyclebench.judged_sets import (
    JudgedSet,
    judge_paper_set,
    run_marker,
    set_definitions,
)
from cyclebench.metrics import DEFAULT_ACCEPT_THRESHOLD, disagreement, injection_shift
from cyclebench.outputs import run_folder
from cyclebench.paper_sets import DEFAULT_PREFER, read_paper_set
from cyclebench.records import RecordError
from cyclebench.run_log import RunResults, provenance, write_run
from cyclebench.set_report import write_set_report


@dataclass(frozen=True)
class PapersRunConfig:
    """What decides an ``evaluate papers`` run; every field lands in ``results.json``."""

    sets: tuple[tuple[str, str], ...]  # (name, folder)
    judge: JudgeConfig
    second_judge: JudgeConfig | None = None
    prefer: tuple[str, ...] = DEFAULT_PREFER
    limit: int | None = None  # per set
    set_limits: tuple[tuple[str, int], ...] = ()  # (set name, limit): overrides ``limit`` for that set
    threshold: float = DEFAULT_ACCEPT_THRESHOLD
    seed: int = 0
    n_resamples: int = 10_000
    batch_size: int = 16
    injection: bool = False
    injection_text: str = INJECTION_TEXT
    # Papers the (baseline) judge was trained on: "exclude" (default, counted with the reason) or "keep".
    training_overlap: str = "exclude"


def run_papers_evaluation(config: PapersRunConfig, output: str | Path, *, cache_dir: str | Path | None = None,
                          backend: Any = None, second_backend: Any = None, progress: bool | None = None,
                          overwrite: bool = False) -> dict[str, Any]:
    """Judge every set of papers with one judge (and optionally a second); write results, predictions, report.
    ``output`` must be new, empty or this run's folder; ``overwrite`` replaces another run's folder."""
    inputs = [folder for _, folder in config.sets] + judge_inputs(config.judge) + judge_inputs(config.second_judge)
    with run_folder(output, run_marker("papers", config), overwrite=overwrite, inputs=inputs) as claimed:
        return _run_papers(config, claimed, cache_dir=cache_dir, backend=backend, second_backend=second_backend,
                           progress=progress)


def _run_papers(config: PapersRunConfig, output: Path, *, cache_dir: str | Path | None, backend: Any,
                second_backend: Any, progress: bool | None) -> dict[str, Any]:
    if not config.sets:
        raise ValueError("no paper sets given")
    if config.training_overlap not in ("exclude", "keep"):
        raise ValueError(f"training_overlap must be 'exclude' or 'keep', not {config.training_overlap!r}")
    names = [name for name, _ in config.sets]
    if len(set(names)) != len(names):
        raise ValueError(f"paper set names must be distinct: {names}")
    started = time.time()
    cache = Path(cache_dir) if cache_dir else output / "cache"
    limits = dict(config.set_limits)
    unknown = sorted(set(limits) - set(names))
    if unknown:
        raise ValueError(f"limits given for sets that are not in the run: {unknown} (sets: {names})")
    sets = [read_paper_set(name, folder, prefer=config.prefer, limit=limits.get(name, config.limit))
            for name, folder in config.sets]
    common = {"threshold": config.threshold, "n_resamples": config.n_resamples, "seed": config.seed,
              "batch_size": config.batch_size, "progress": progress}

    judge = open_judge(config.judge, cache, backend=backend)
    caches = [judge.cached]
    judged_sets: list[JudgedSet] = []
    injection_rows: dict[str, dict[str, Any]] = {}
    injected: dict[tuple[str, str], dict[str, Any]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="cyclebench-inject-"))
    try:
        for paper_set in sets:
            judged = judge_paper_set(paper_set, judge, overlap=config.training_overlap, **common)
            judged_sets.append(judged)
            if config.injection:
                summary, per_paper = _injection_for_set(judged, judge, config, workdir, progress)
                injection_rows[paper_set.name] = summary
                injected.update({(paper_set.name, pid): rows for pid, rows in per_paper.items()})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        judge.close()
    judge_info = judge.describe()
    predictions = [row for js in judged_sets for row in js.predictions()]
    for row in predictions:
        if (row["set"], row["paper_id"]) in injected:
            row["injection"] = injected[(row["set"], row["paper_id"])]

    second_info = None
    if config.second_judge is not None:
        second = open_judge(config.second_judge, cache, backend=second_backend)
        caches.append(second.cached)
        try:
            second_info = second.describe()
            by_key = {(r["set"], r["paper_id"]): r for r in predictions}
            for js in judged_sets:
                other = judge_paper_set(js.paper_set, second, kept=js.kept, label="second judge", **common)
                js.result["second_judge"] = {"metrics": other.result["metrics"], "counts": other.result["counts"]}
                js.result["disagreement"] = disagreement([e.review for e in js.entries], [e.review for e in other.entries],
                                                         n_resamples=config.n_resamples, seed=config.seed)
                for paper, j in zip(js.kept, other.judgements):
                    by_key[(js.paper_set.name, paper.paper_id)]["second_judge"] = judgement_row(j)
        finally:
            second.close()

    set_results = {js.paper_set.name: js.result for js in judged_sets}
    primary = judged_sets[0].result
    results = RunResults(
        kind="papers",
        judge=judge_info,
        second_judge=second_info,
        threshold=config.threshold,
        seed=config.seed,
        n_resamples=config.n_resamples,
        config={"sets": [list(s) for s in config.sets], "prefer": list(config.prefer), "limit": config.limit,
                "set_limits": dict(config.set_limits), "injection": config.injection,
                "training_overlap": config.training_overlap},
        metrics=primary["metrics"],
        counts={"primary_set": sets[0].name, **primary["counts"],
                "sets": {name: res["counts"]["n_entries"] for name, res in set_results.items()}},
        sets=set_results,
        injection=({"text": config.injection_text, "sets": injection_rows} if config.injection else None),
        definitions=set_definitions(config.threshold),
        provenance=provenance(),
    )
    return write_run(output, results, predictions, write_set_report, started=started, caches=caches)


def _injection_for_set(judged: JudgedSet, judge: Judge, config: PapersRunConfig, workdir: Path,
                       progress: bool | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Judge each judged paper again with the instruction planted, visibly and (LaTeX sources) in a comment:
    the shift figures per channel, and each paper's injected judgements (paper id -> channel -> judgement)."""
    from cyclebench.sources.text import PapersDirectory

    paper_set, kept, clean = judged.paper_set, judged.kept, judged.judgements
    visible = [JudgeItem(f"{paper_set.name}/{p.paper_id}#inject-visible", plant_visible(p.text, config.injection_text)) for p in kept]
    judged_visible = judge.review(visible, batch_size=config.batch_size, seed=config.seed, progress=progress,
                                  label=f"injection {paper_set.name}")
    per_paper = {p.paper_id: {"visible": judgement_row(j)} for p, j in zip(kept, judged_visible)}
    out: dict[str, Any] = {
        "visible": injection_shift([j.review for j in clean], [j.review for j in judged_visible],
                                   threshold=config.threshold, n_resamples=config.n_resamples, seed=config.seed),
    }
    latex = [(i, p) for i, p in enumerate(kept) if p.source == "latex"]
    if latex:
        rows, items, idx, failures = [], [], [], []
        for i, paper in latex:
            try:
                planted = plant_latex_comment(Path(paper_set.folder) / paper.source_path, workdir / paper_set.name,
                                              config.injection_text)
                text = PapersDirectory(planted.parent).read(planted.name, prefer=("latex",))
            except (RecordError, OSError, ValueError) as exc:
                failures.append({"paper_id": paper.paper_id, "reason": f"{type(exc).__name__}: {exc}"})
                continue
            if text is None:
                failures.append({"paper_id": paper.paper_id, "reason": "planted copy has no LaTeX source"})
                continue
            survived = text.text != paper.text
            rows.append({"paper_id": paper.paper_id, "comment_reached_judge": survived,
                         "instruction_in_text": config.injection_text.split(":")[0] in text.text})
            items.append(JudgeItem(f"{paper_set.name}/{paper.paper_id}#inject-latex-comment", text.text))
            idx.append(i)
        judged = judge.review(items, batch_size=config.batch_size, seed=config.seed, progress=progress,
                              label=f"injection (comment) {paper_set.name}") if items else []
        for i, j in zip(idx, judged):
            per_paper[kept[i].paper_id]["latex_comment"] = judgement_row(j)
        out["latex_comment"] = {
            **injection_shift([clean[i].review for i in idx], [j.review for j in judged], threshold=config.threshold,
                              n_resamples=config.n_resamples, seed=config.seed),
            "n_latex_sources": len(latex),
            "n_comment_stripped": sum(not r["comment_reached_judge"] for r in rows),
            "papers": rows,
            "failures": failures,
        }
    return out, per_paper

