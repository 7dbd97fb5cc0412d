"""The committed seeded submissions: rebuild their datasets from the corpus and re-score every one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cyclebench.leaderboard import rescore
from cyclebench.leaderboard.seed import BASELINES, SEED_DATE, SEED_TASKS, build_corpus_datasets
from cyclebench.leaderboard.site import build_site
from cyclebench.leaderboard.validate import DatasetBuilds, Verification, list_submissions, validate_submissions

SUBMISSIONS = Path(__file__).resolve().parents[2] / "leaderboard" / "submissions"
_SEEDED: dict[str, Any] = {}


def seeded_validation(corpus: Path, tmp_path_factory: Any) -> tuple[DatasetBuilds, list[Verification]]:
    """The corpus builds and every committed submission validated against them, once per test session: the
    validation re-runs the six seeded baselines (MiniLM among them, about 3 minutes on 2 CPU cores), and
    the DatasetBuilds keeps those re-runs for the site build."""
    if not _SEEDED:
        builds = build_corpus_datasets(corpus, tmp_path_factory.mktemp("seed-builds"))
        datasets = DatasetBuilds({task: [path] for task, path in builds.items()})
        folders = list_submissions(SUBMISSIONS)
        _SEEDED.update(datasets=datasets, outcomes=validate_submissions(folders, datasets, folders))
    return _SEEDED["datasets"], _SEEDED["outcomes"]


@pytest.fixture(scope="module")
def seeded(corpus, tmp_path_factory) -> tuple[DatasetBuilds, list[Verification]]:
    return seeded_validation(corpus, tmp_path_factory)


def test_every_seeded_submission_is_verified_against_a_fresh_build(seeded):
    _, outcomes = seeded
    folders = list_submissions(SUBMISSIONS)
    expected = {f"{SEED_DATE}_{backend}-{spec.task}" for spec in SEED_TASKS for backend in BASELINES}
    assert expected <= {f.name for f in folders}
    rejected = {o.folder: [p.message for p in o.problems] for o in outcomes if not o.verified}
    assert rejected == {}
    for outcome in outcomes:
        # Within the validator's tolerance, never "exactly 0": another BLAS sums the bootstrap in another order,
        # and the seeded figures are written to 10 significant digits.
        assert outcome.summary["figures_compared"] >= 16
        assert outcome.summary["max_abs_difference"] <= max(rescore.ABS_TOLERANCE, 100 * rescore.REL_TOLERANCE)
        if outcome.folder in expected:
            assert outcome.label == "baseline" and outcome.split == "test"
    sizes = [p.stat().st_size for f in folders for p in f.iterdir()]
    assert max(sizes) < 2_000_000  # committed files stay small


def test_seeded_results_are_written_to_ten_significant_digits():
    """What seed writes does not depend on the machine's last float bits (a rerun rewrites no file)."""
    from cyclebench.leaderboard.seed import round_floats

    for folder in list_submissions(SUBMISSIONS):
        results = json.loads((folder / "results.json").read_text())
        assert round_floats(results) == results, folder.name


def test_seeded_site_has_a_table_per_task_with_human_and_baseline_rows(seeded, tmp_path):
    corpus_builds, _ = seeded
    report = build_site(tmp_path / "site", SUBMISSIONS, corpus_builds)
    assert report.counts["excluded"] == 0
    for spec in SEED_TASKS:
        [table] = [t for t in report.tables if t.task == spec.task and t.split == "test" and t.fingerprint]
        labels = [r.label for r in table.rows]
        assert labels.count("baseline") >= len(BASELINES) and labels.count("human") == 1
        human = next(r for r in table.rows if r.label == "human")
        assert human.cells["proxy_mae"].value > 0 and human.cells["proxy_mae"].ci_low is not None
    review5k = next(t for t in report.tables if t.task == "review-5k" and t.fingerprint)
    assert {r.name for r in review5k.rows if r.label == "reported"} >= {"GPT-4o", "CycleReviewer-123B"}
    verification = json.loads((tmp_path / "site" / "verification.json").read_text())
    assert verification["verified"] == verification["submissions"] == len(list_submissions(SUBMISSIONS))
