"""The committed seeded submissions: rebuild their datasets from the corpus and re-score every one."""

from __future__ import annotations

import json

import pytest

from cyclebench.leaderboard import rescore
from cyclebench.leaderboard.seed import BASELINES, SEED_DATE, SEED_TASKS
from cyclebench.leaderboard.site import build_site
from cyclebench.leaderboard.validate import list_submissions

from .conftest import SUBMISSIONS


@pytest.mark.slow  # the session's seeded_validation: ~3 minutes on 2 CPU cores
def test_every_seeded_submission_is_verified_against_a_fresh_build(seeded_validation):
    _, outcomes = seeded_validation
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


@pytest.mark.slow  # seeded_validation, as above
def test_seeded_site_has_a_table_per_task_with_human_and_baseline_rows(seeded_validation, tmp_path):
    corpus_builds, _ = seeded_validation
    report = build_site(tmp_path / "site", SUBMISSIONS, corpus_builds)
    assert report.counts["excluded"] == 0
    for spec in SEED_TASKS:
        [table] = [t for t in report.tables if t.task == spec.task and t.split == "test" and t.fingerprint]
        labels = [r.label for r in table.rows]
        assert labels.count("baseline") >= len(BASELINES) and labels.count("human") == 1
        human = next(r for r in table.rows if r.label == "human")
        assert human.cells["proxy_mae"].value > 0 and human.cells["proxy_mae"].ci_low is not None
    review5k = next(t for t in report.tables if t.task == "review-5k" and t.published)  # not with the measured rows
    assert {r.name for r in review5k.rows if r.label == "reported"} >= {"GPT-4o", "CycleReviewer-123B"}
    verification = json.loads((tmp_path / "site" / "verification.json").read_text())
    assert verification["verified"] == verification["submissions"] == len(list_submissions(SUBMISSIONS))
