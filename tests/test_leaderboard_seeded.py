"""The committed seeded submissions: rebuild their datasets from the corpus and re-score every one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leaderboard.seed import BASELINES, SEED_DATE, SEED_TASKS, build_corpus_datasets
from leaderboard.site import build_site
from leaderboard.validate import DatasetBuilds, list_submissions, validate_submissions

SUBMISSIONS = Path(__file__).resolve().parents[1] / "leaderboard" / "submissions"


@pytest.fixture(scope="module")
def corpus_builds(corpus, tmp_path_factory) -> DatasetBuilds:
    builds = build_corpus_datasets(corpus, tmp_path_factory.mktemp("seed-builds"))
    return DatasetBuilds({task: [path] for task, path in builds.items()})


def test_every_seeded_submission_is_verified_against_a_fresh_build(corpus_builds):
    folders = list_submissions(SUBMISSIONS)
    expected = {f"{SEED_DATE}_{backend}-{spec.task}" for spec in SEED_TASKS for backend in BASELINES}
    assert expected <= {f.name for f in folders}
    outcomes = validate_submissions(folders, corpus_builds, folders)
    rejected = {o.folder: [p.message for p in o.problems] for o in outcomes if not o.verified}
    assert rejected == {}
    for outcome in outcomes:
        assert outcome.summary["figures_compared"] >= 16 and outcome.summary["max_abs_difference"] == 0.0
        if outcome.folder in expected:
            assert outcome.label == "baseline" and outcome.split == "test"
    sizes = [p.stat().st_size for f in folders for p in f.iterdir()]
    assert max(sizes) < 2_000_000  # committed files stay small


def test_seeded_site_has_a_table_per_task_with_human_and_baseline_rows(corpus_builds, tmp_path):
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
