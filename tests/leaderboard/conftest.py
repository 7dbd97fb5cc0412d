"""Leaderboard test setup shared by its modules (a session fixture imported into two modules runs twice; one
defined here runs once): the embedded sample with three baseline runs, and the committed submissions
validated against the seed builds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

SUBMISSIONS = Path(__file__).resolve().parents[2] / "leaderboard" / "submissions"


@pytest.fixture(scope="session")
def seeded_validation(seed_builds):
    """Every committed submission validated against the session's corpus builds (``seed_builds``): the
    validation re-runs the six seeded baselines (MiniLM among them, about 3 minutes on 2 CPU cores), and the
    DatasetBuilds keeps those re-runs for the site build. Here, not in a test module, so the modules that use
    it share one validation."""
    from cyclebench.leaderboard.validate import DatasetBuilds, list_submissions, validate_submissions

    datasets = DatasetBuilds({task: [path] for task, path in seed_builds.items()})
    folders = list_submissions(SUBMISSIONS)
    return datasets, validate_submissions(folders, datasets, folders)


@dataclass(frozen=True)
class Sample:
    data: Path
    other_build: Path
    runs: dict[str, Path]


@pytest.fixture(scope="session")
def lb_sample(review5k_sample_build, tmp_path_factory) -> Sample:
    """The embedded sample (the session's shared build), built again with another test fraction (so another
    fingerprint), and three runs on the first: the constant and TF-IDF baselines, and TF-IDF with other
    arguments."""
    from cyclebench.cli import main
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    root = tmp_path_factory.mktemp("leaderboard-sample")
    data, other = review5k_sample_build, root / "review5k-other"
    assert main(["build", "review-5k", "--sample", "--out", str(other), "--test-fraction", "0.3"]) == 0
    runs = {}
    for name, backend, args in (("constant", "baseline-constant", {}), ("tfidf", "baseline-tfidf", {}),
                                ("tfidf-alpha", "baseline-tfidf", {"alpha": 3.0})):
        config = ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend=backend,
                                 model_args=args, n_resamples=300)
        run_review_evaluation(config, root / "runs" / name, progress=False)
        runs[name] = root / "runs" / name
    return Sample(data, other, runs)
