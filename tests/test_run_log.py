"""The run log: every kind of run writes results.json and prediction rows the leaderboard's schemas accept,
laid out as ``cyclebench.run_log.LAYOUT`` declares; one problem-to-reason rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclebench.leaderboard.schema_check import schema_errors

from cyclebench.backends.fake import FakeBackend
from cyclebench.evaluate_generator import GeneratorRunConfig, run_generator_evaluation
from cyclebench.evaluate_papers import PapersRunConfig, run_papers_evaluation
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.judge import JudgeConfig
from cyclebench.recorded import score_recorded_outputs
from cyclebench.records import problem_key
from cyclebench.run_log import LAYOUT, RESULTS_SCHEMA_VERSION

from .test_evaluate_generator import GENERATOR, _judge, fake, research14k, review_text  # noqa: F401  (fixture)


def _written(folder: Path) -> tuple[dict, list[dict]]:
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    return results, rows


def _check(folder: Path, kind: str, prediction_schema: str, *, results_schema: bool = True) -> dict:
    results, rows = _written(folder)
    assert list(results) == ["schema_version", "kind", *LAYOUT[kind]]
    assert results["schema_version"] == RESULTS_SCHEMA_VERSION and results["kind"] == kind
    if results_schema:
        assert schema_errors(results, "results", RESULTS_SCHEMA_VERSION, "results.json") == []
    assert rows
    for i, row in enumerate(rows):
        assert schema_errors(row, prediction_schema, RESULTS_SCHEMA_VERSION, f"predictions.jsonl:{i + 1}") == []
    return results


def test_review_runs_model_and_recorded_validate(review5k_sample_build, tmp_path):
    canned = review_text([6, 8, 5, 6], "Accept")
    config = ReviewRunConfig(task="review-5k", data=str(review5k_sample_build), protocol="cyclereviewer", backend="fake",
                             model_args={"text": canned, "fail_ids": ""}, limit=6, n_resamples=50,
                             task_options={"abstract_fallback": True})
    results = run_review_evaluation(config, tmp_path / "run", progress=False)
    assert _check(tmp_path / "run", "review", "prediction-review") == json.loads(json.dumps(results))
    recorded = score_recorded_outputs(task="review-5k", data=str(review5k_sample_build), protocol="cyclereviewer",
                                      predictions=tmp_path / "run" / "predictions.jsonl", fmt="jsonl",
                                      output=tmp_path / "recorded", task_options={"abstract_fallback": True},
                                      n_resamples=50)
    assert recorded["provenance"]["imported"] is True
    _check(tmp_path / "recorded", "review", "prediction-review")


def test_generator_run_validates(research14k, tmp_path):  # noqa: F811
    config = GeneratorRunConfig(data=str(research14k), backend="fake", judge=JudgeConfig("cyclereviewer", "fake"),
                                limit=2, n_resamples=50)
    run_generator_evaluation(config, tmp_path / "run", backend=fake(tmp_path, "gen", GENERATOR),
                             judge_backend=_judge(tmp_path, "judge", {}), progress=False)
    _check(tmp_path / "run", "generator", "prediction-generator")


def test_papers_run_layout_and_rows(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    for name in ("a", "b"):
        (papers / f"{name}.md").write_text(f"# Paper {name}\n\nAn abstract about {name}.\n\n## Method\n\nWords.\n")
    config = PapersRunConfig(sets=(("mine", str(papers)),), judge=JudgeConfig("cyclereviewer", "fake"), n_resamples=50)
    run_papers_evaluation(config, tmp_path / "run", backend=FakeBackend(text=review_text([6, 6, 6, 6], "Accept")),
                          progress=False)
    # The leaderboard takes review and generator runs only; a papers run's rows are reference-set rows.
    _check(tmp_path / "run", "papers", "prediction-generator", results_schema=False)


@pytest.mark.parametrize(("problem", "key"), [
    ("rating_missing", "rating_missing"),
    ("judge_generation_error: fake: no canned response", "judge_generation_error"),
    ("http_error:503: unavailable", "http_error"),
    (" spaced : detail", "spaced"),
])
def test_one_problem_to_reason_rule(problem, key):
    from cyclebench.leaderboard import rescore
    from cyclebench.trainers import judges

    assert problem_key(problem) == key
    assert rescore.problem_key is problem_key and judges.problem_key is problem_key
