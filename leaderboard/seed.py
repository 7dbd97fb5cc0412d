"""Produce the seeded leaderboard submissions: the CPU baselines on two datasets built from the corpus.

    python -m cyclebench.leaderboard.seed [--corpus ../shared/corpus] [--work build/leaderboard-seed]
                               [--out leaderboard/submissions] [--without-minilm]

Steps, each the documented command's own code path:

1. build ``aiscientist-iclr2022`` (``iclr2022_ratings.tsv`` + the 150 markdown papers) and ``review-5k``
   (``iclr2026_v2.jsonl`` without paper texts, ``require_text=False``) from the corpus into ``--work`` with
   the builders ``cyclebench build`` calls, with its default configs (both builds are byte-reproducible, so
   CI can rebuild and re-score them);
2. evaluate ``baseline-constant``, ``baseline-tfidf`` and ``baseline-minilm`` on each with
   ``run_review_evaluation`` (trained on the train split, scored on the test split; review-5k with
   ``abstract_fallback=true`` since the corpus has no texts for those papers);
3. ``submit`` every run under ``--out`` as ``<SEED_DATE>_<backend>-<task>``, replacing an earlier seed;
4. score the AI Scientist reviewer's six recorded configurations (``reviews/aiscientist_llm_reviews``) on the
   ``aiscientist-iclr2022`` build with ``evaluate predictions`` and submit them as imported recorded outputs.

The same corpus, package versions and ``--work`` path give byte-identical submissions (results.json
records the build path as given (relative by default) and the package versions, so another machine differs only there).
Floats in the submitted results.json are written to 10 significant digits (:func:`round_floats`): the last
bits of a bootstrap sum differ between BLAS builds, and a rerun elsewhere must not rewrite committed files;
the validator's tolerance (1e-9 relative) is wider than that rounding.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED_DATE = "2026-11-24"
AUTHORS = ["cyclebench (leaderboard/seed.py)"]
RECORDED_AUTHORS = ["SakanaAI/AI-Scientist (recorded reviews)"]


# What ``cyclebench build`` runs for each seed task (the builder with its default config; the writer refuses an
# output folder that holds an input, as the command does), called directly: the leaderboard imports no CLI.


def build_aiscientist_iclr2022(corpus: Path, out: Path) -> None:
    """``cyclebench build aiscientist-iclr2022 --ratings ... --papers ... --out OUT --overwrite``."""
    from cyclebench.builders import aiscientist_iclr2022 as builder

    ratings, papers = corpus / "reviews" / "iclr2022_ratings.tsv", corpus / "papers" / "markdown" / "iclr2022"
    builder.build(ratings, papers, out, builder.AIScientistConfig(), overwrite=True)


def build_review5k(corpus: Path, out: Path) -> None:
    """``cyclebench build review-5k --openreview ... --allow-missing-text --out OUT --overwrite``."""
    from cyclebench.builders import review5k as builder

    builder.build([corpus / "openreview" / "iclr2026_v2.jsonl"], None, out, builder.Review5KConfig(require_text=False),
                  overwrite=True)


@dataclass(frozen=True)
class SeedTask:
    task: str
    protocol: str
    build: Callable[[Path, Path], None]  # (resolved corpus folder, output folder): the task's dataset
    task_options: dict[str, Any] = field(default_factory=dict)


SEED_TASKS = (
    SeedTask("aiscientist-iclr2022", "aiscientist", build_aiscientist_iclr2022),
    SeedTask("review-5k", "cyclereviewer", build_review5k, {"abstract_fallback": True}),
)
# backend -> display name (the site's label column says "baseline")
BASELINES = {
    "baseline-constant": "Training mean",
    "baseline-tfidf": "TF-IDF ridge",
    "baseline-minilm": "MiniLM ridge",
}


SIGNIFICANT_DIGITS = 10
ZERO_BELOW = 1e-12  # the validator's absolute tolerance: float noise around zero is written as 0


def round_floats(value: Any) -> Any:
    """``value`` with every float at ``SIGNIFICANT_DIGITS`` significant digits (and noise around zero as 0),
    so the same figures computed on two machines are written as the same bytes."""
    if isinstance(value, float) and math.isfinite(value):
        return 0.0 if abs(value) < ZERO_BELOW else float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: round_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [round_floats(v) for v in value]
    return value


def round_results_file(run_dir: Path) -> None:
    """Rewrite a run's results.json with :func:`round_floats` (as ``cyclebench.run_log`` lays it out)."""
    from cyclebench.fileio import atomic_write_text

    path = Path(run_dir) / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    atomic_write_text(path, json.dumps(round_floats(results), indent=2) + "\n")


def remove_earlier_seed(target: Path, authors: list[str]) -> None:
    """Make room for a seeded submission: an earlier seed of it is replaced; any other folder of that name
    (someone's own submission) is never deleted, the seed stops instead."""
    import yaml

    if not target.exists() and not target.is_symlink():
        return
    try:
        metadata = yaml.safe_load((target / "metadata.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        metadata = None
    if target.is_symlink() or not isinstance(metadata, dict) or metadata.get("authors") != authors:
        raise FileExistsError(f"{target} exists and is not a submission leaderboard/seed.py wrote; move it away")
    shutil.rmtree(target)


def build_corpus_datasets(corpus: str | Path, work: str | Path, tasks: tuple[SeedTask, ...] = SEED_TASKS) -> dict[str, Path]:
    """Build the seed tasks' datasets from the corpus into ``work/<task>``; ``{task: folder}``."""
    corpus, work = Path(corpus).resolve(), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    out = {}
    for spec in tasks:
        folder = work / spec.task
        spec.build(corpus, folder)
        out[spec.task] = folder
    return out


def seed(corpus: str | Path, work: str | Path, out: str | Path, backends: tuple[str, ...] = tuple(BASELINES),
         progress: bool | None = False, datasets: dict[str, Path] | None = None) -> list[Path]:
    """Build (unless ``datasets`` holds the builds already), evaluate and submit; returns the submission
    folders written. Each run keeps its response and embedding caches in ``work/runs/<run>/cache``, so a
    rerun over the same ``work`` folder embeds and generates nothing again."""
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
    from cyclebench.leaderboard.submit import submit

    work, out = Path(work), Path(out)
    if datasets is None:
        datasets = build_corpus_datasets(corpus, work)
    written = []
    for spec in SEED_TASKS:
        for backend in backends:
            run_dir = work / "runs" / f"{backend}-{spec.task}"
            config = ReviewRunConfig(task=spec.task, data=str(datasets[spec.task]), protocol=spec.protocol,
                                     backend=backend, task_options=dict(spec.task_options))
            run_review_evaluation(config, run_dir, progress=progress)
            round_results_file(run_dir)
            name = f"{backend}-{spec.task}"
            target = out / f"{SEED_DATE}_{name}"
            remove_earlier_seed(target, AUTHORS)
            written.append(submit(
                run_dir, name, out=out, model_name=BASELINES[backend], authors=AUTHORS, date=SEED_DATE,
                description=f"Seeded by leaderboard/seed.py: {backend} trained on the train split of the "
                            f"{spec.task} build made from the shared corpus, scored on its test split "
                            f"with the {spec.protocol} protocol."))
            print(f"seeded {target}", file=sys.stderr)
    return written


# The AI Scientist reviewer's recorded configurations (its review_iclr_bench/llm_reviews CSVs): file stem
# prefix -> the name its paper gives the configuration.
RECORDED = {
    "claude-3-5-sonnet-20240620_temp_0_1_reflect_5_ensemble_5": "AI Scientist reviewer: Claude 3.5 Sonnet, reflection 5, ensemble 5",
    "gpt-4o-2024-05-13_temp_0_1_fewshot_1_reflect_5_ensemble_5": "AI Scientist reviewer: GPT-4o, 1-shot, reflection 5, ensemble 5",
    "gpt-4o-2024-05-13_temp_0_1_pages_all": "AI Scientist reviewer: GPT-4o",
    "gpt-4o-2024-05-13_temp_0_1_reflect_5_ensemble_5": "AI Scientist reviewer: GPT-4o, reflection 5, ensemble 5",
    "gpt-4o-2024-05-13_temp_0_1_reflect_5_pages_all": "AI Scientist reviewer: GPT-4o, reflection 5",
    "gpt-4o-mini-2024-07-18_temp_0_1_fewshot_1_reflect_5_ensemble_5": "AI Scientist reviewer: GPT-4o-mini, 1-shot, reflection 5, ensemble 5",
}


def seed_imported(corpus: str | Path, work: str | Path, out: str | Path,
                  datasets: dict[str, Path] | None = None) -> list[Path]:
    """Submit the AI Scientist's six recorded reviewer configurations on the corpus build (``datasets``'s,
    else built here), as imported recorded outputs (scored with the aiscientist protocol, Overall >= 6;
    never re-run)."""
    from cyclebench.leaderboard.submit import submit
    from cyclebench.recorded import score_recorded_outputs

    corpus, work, out = Path(corpus).resolve(), Path(work), Path(out)
    if datasets is None or "aiscientist-iclr2022" not in datasets:
        datasets = build_corpus_datasets(corpus, work, tuple(t for t in SEED_TASKS if t.task == "aiscientist-iclr2022"))
    written = []
    for csv_path in sorted((corpus / "reviews" / "aiscientist_llm_reviews").glob("*.csv")):
        label = next((v for k, v in RECORDED.items() if csv_path.stem.startswith(k)), csv_path.stem)
        slug = csv_path.stem.replace("_temp_0_1", "").replace("_pages_all", "").replace("_", "-")
        run_dir = work / "runs" / f"imported-{slug}"
        score_recorded_outputs(task="aiscientist-iclr2022", data=str(datasets["aiscientist-iclr2022"]),
                               protocol="aiscientist", protocol_options={"decision_rule": "threshold", "threshold": 6},
                               predictions=csv_path, fmt="aiscientist-csv", output=run_dir, model_name=label)
        round_results_file(run_dir)
        name = f"imported-{slug}"
        target = out / f"{SEED_DATE}_{name}"
        remove_earlier_seed(target, RECORDED_AUTHORS)
        written.append(submit(
            run_dir, name, out=out, model_name=label, authors=RECORDED_AUTHORS,
            date=SEED_DATE, description=f"Recorded reviews of the AI Scientist reviewer ({csv_path.name}, "
                                        "Apache-2.0), imported and scored by cyclebench; not re-run."))
        print(f"seeded {target}", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cyclebench.leaderboard.seed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--work", type=Path, default=Path("build/leaderboard-seed"),
                        help="dataset builds and run folders (not committed)")
    parser.add_argument("--out", type=Path, default=Path("leaderboard/submissions"))
    parser.add_argument("--without-minilm", action="store_true", help="skip baseline-minilm (the slow one)")
    parser.add_argument("--only-imported", action="store_true",
                        help="only the AI Scientist's recorded reviewer configurations")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"no corpus at {args.corpus}")
    # Each dataset is built once and shared by the baseline runs and the imported ones.
    datasets = build_corpus_datasets(args.corpus, args.work, SEED_TASKS if not args.only_imported else tuple(
        t for t in SEED_TASKS if t.task == "aiscientist-iclr2022"))
    if not args.only_imported:
        backends = tuple(b for b in BASELINES if not (args.without_minilm and b == "baseline-minilm"))
        seed(args.corpus, args.work, args.out, backends, progress=None, datasets=datasets)
    seed_imported(args.corpus, args.work, args.out, datasets=datasets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
