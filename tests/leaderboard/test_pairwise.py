"""Pairwise submissions: a run's results.json + judgments.jsonl verify by re-parsing and re-scoring; forged win
rates, ratings, verdicts, counts, a missing order or a hostile file are rejected by code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cyclebench.backends.fake import FakeBackend
from cyclebench.evaluate_pairwise import PairwiseRunConfig, run_pairwise_evaluation
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.leaderboard.pairwise import pairwise_tables, render_markdown, verify_pairwise
from cyclebench.protocols import get_protocol
from cyclebench.protocols.pairwise_judge import ASPECTS, render_pairwise_output
from cyclebench.records import ParsedReview, SimulatedReview


def _review(rating: float) -> str:
    sim = SimulatedReview(summary=f"summary {rating}", strengths="s", weaknesses="w", questions="q", rating=rating,
                          soundness=3, presentation=3, contribution=3, confidence=3)
    return get_protocol("cyclereviewer", reviewers=1).render(ParsedReview(
        status="ok", reviewers=(sim,), rating=rating, soundness=3, presentation=3, contribution=3, confidence=3,
        decision="reject", meta_review="meta"))


class _Judge(FakeBackend):
    """Prefers the review with the higher rating; on every third request picks the first shown (bias);
    answers garbage to one request."""

    def generate(self, requests):
        out = super().generate(requests)
        fixed = []
        for i, (req, resp) in enumerate(zip(requests, out)):
            content = req.messages[1]["content"]
            a = content.index("## Review A")
            b = content.index("## Review B")
            better = "A" if "summary 6" in content[a:b] else "B"
            text = render_pairwise_output({k: better if (len(self.calls) + i) % 3 else "A" for k in ASPECTS})
            if req.request_id.endswith("|low|high") and i % 4 == 1:
                text = "I am not sure."
            fixed.append(type(resp)(resp.request_id, text, finish_reason="stop"))
        return fixed


@pytest.fixture(scope="module")
def submission(review5k_sample_build, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pairwise-sub")
    runs = []
    for name, rating in (("high", 6), ("low", 3)):
        config = ReviewRunConfig(task="review-5k", data=str(review5k_sample_build), protocol="cyclereviewer",
                                 protocol_options={"reviewers": 1}, backend="fake",
                                 model_args={"text": _review(rating)}, n_resamples=20)
        run_review_evaluation(config, root / name)
        runs.append(str(root / name))
    config = PairwiseRunConfig(runs=tuple(runs), backend="fake", n_resamples=300, seed=2)
    run_pairwise_evaluation(config, root / "run", backend=_Judge(text="x"))
    folder = root / "2026-12-03_pairwise-fake"
    folder.mkdir()
    for name in ("results.json", "judgments.jsonl"):
        shutil.copy(root / "run" / name, folder / name)
    return folder


def _copy(submission: Path, tmp_path: Path) -> Path:
    dest = tmp_path / submission.name
    shutil.copytree(submission, dest)
    return dest


def _edit_results(folder: Path, change) -> None:
    results = json.loads((folder / "results.json").read_text())
    change(results)
    (folder / "results.json").write_text(json.dumps(results, indent=2))


def _codes(v) -> set[str]:
    return {e.split(":", 1)[0] for e in v.errors}


def test_a_run_verifies_and_makes_a_table(submission):
    v = verify_pairwise(submission, allow_test_backends=True)
    assert v.ok, v.errors
    results = v.results
    assert results["counts"]["parse_failures"]["by_reason"]  # the garbage answers are counted
    assert results["metrics"]["overall"]["position_bias"]["bias"]["value"] > 0
    tables, checked = pairwise_tables([submission], allow_test_backends=True)
    (table,) = tables
    assert table.task == "review-5k" and [r["system"] for r in table.rows] == ["high", "low"]
    assert table.rows[0]["rating"] > table.rows[1]["rating"]
    assert "| high |" in render_markdown(tables)


def test_a_test_backend_is_not_a_leaderboard_judge(submission):
    assert _codes(verify_pairwise(submission)) == {"provenance"}


@pytest.mark.parametrize("forge", [
    lambda r: r["metrics"]["overall"]["pairs"][0]["win_rate"].update(value=0.8821),
    lambda r: r["metrics"]["overall"]["bradley_terry"]["ratings"]["low"].update(value=1400.0),
    lambda r: r["metrics"]["technical_accuracy"]["pairs"][0].update(wins=99),
    lambda r: r["metrics"]["overall"]["position_bias"]["bias"].update(value=0.0),
    lambda r: r["counts"]["parse_failures"]["by_reason"].clear(),
    lambda r: r["counts"].update(n_judgments=2),
    lambda r: r["metrics"]["overall"]["pairs"][0]["win_rate"].update(ci_low=0.75),
])
def test_forged_figures_are_rejected(submission, tmp_path, forge):
    folder = _copy(submission, tmp_path)
    _edit_results(folder, forge)
    assert "rescore_mismatch" in _codes(verify_pairwise(folder, allow_test_backends=True))


def test_forged_verdicts_and_dropped_orders_are_rejected(submission, tmp_path):
    folder = _copy(submission, tmp_path)
    rows = (folder / "judgments.jsonl").read_text().splitlines()
    row = json.loads(rows[0])
    row["verdicts"] = {k: ("B" if v == "A" else "A") for k, v in row["verdicts"].items()}
    (folder / "judgments.jsonl").write_text("\n".join([json.dumps(row), *rows[1:]]) + "\n")
    assert "reparse_mismatch" in _codes(verify_pairwise(folder, allow_test_backends=True))
    (folder / "judgments.jsonl").write_text("\n".join(rows[1:]) + "\n")  # one order of one pair dropped
    assert "both_orders" in _codes(verify_pairwise(folder, allow_test_backends=True))


@pytest.mark.parametrize("attack, code", [
    (lambda f: (f / "judgments.jsonl").write_text('{"paper_id": 1}\n'), "schema"),
    (lambda f: (f / "judgments.jsonl").write_text("not json\n"), "malformed"),
    (lambda f: (f / "results.json").write_text('{"a": NaN}'), "malformed"),
    (lambda f: (f / "results.json").write_bytes(b"\xff\xfe"), "malformed"),
    (lambda f: (f / "extra.txt").write_text("x"), "files"),
    (lambda f: (f / "results.json").write_text(json.dumps({"schema_version": 1, "kind": "pairwise"})), "schema"),
])
def test_hostile_files_are_refused_with_a_code(submission, tmp_path, attack, code):
    folder = _copy(submission, tmp_path)
    attack(folder)
    v = verify_pairwise(folder, allow_test_backends=True)
    assert not v.ok and code in _codes(v), v.errors


def test_a_linked_submission_folder_is_refused_and_named(submission, tmp_path):
    """A link could point anywhere on the machine that builds the site: refused, as a review submission's is."""
    from cyclebench.leaderboard.pairwise_site import PAIRWISE_SUBMISSIONS, pairwise_folders

    root = tmp_path / PAIRWISE_SUBMISSIONS
    root.mkdir()
    (root / "2026-12-03_link").symlink_to(submission, target_is_directory=True)
    assert pairwise_folders(tmp_path / "submissions") == [root / "2026-12-03_link"]
    assert _codes(verify_pairwise(root / "2026-12-03_link", allow_test_backends=True)) == {"files"}


def test_an_unknown_protocol_or_changed_aspects_are_refused(submission, tmp_path):
    folder = _copy(submission, tmp_path)
    _edit_results(folder, lambda r: r["judge"]["protocol"].update(name="cyclereviewer"))
    assert "protocol" in _codes(verify_pairwise(folder, allow_test_backends=True))
    folder = _copy(submission, tmp_path / "b")
    _edit_results(folder, lambda r: r["config"].update(aspects=["overall"]))
    assert "protocol" in _codes(verify_pairwise(folder, allow_test_backends=True))


def test_the_dataset_is_checked_against_the_builds_given(submission, review5k_sample_build, tmp_path):
    """Like a review submission, a pairwise one is shown only on a dataset build the leaderboard holds, under a
    task cyclebench has, judged on papers of that build's split."""
    from cyclebench.leaderboard.validate import DatasetBuilds

    builds = DatasetBuilds({"review-5k": [review5k_sample_build]})
    assert verify_pairwise(submission, datasets=builds, allow_test_backends=True).ok
    assert "unknown_dataset" in _codes(verify_pairwise(submission, datasets=DatasetBuilds({}),
                                                       allow_test_backends=True))
    folder = _copy(submission, tmp_path / "fp")
    _edit_results(folder, lambda r: r["task"].update(dataset_fingerprint="sha256:" + "1" * 64))
    assert "dataset_differs" in _codes(verify_pairwise(folder, datasets=builds, allow_test_backends=True))
    folder = _copy(submission, tmp_path / "task")
    _edit_results(folder, lambda r: r["task"].update(name="review-5k-but-better"))
    assert "unknown_task" in _codes(verify_pairwise(folder, allow_test_backends=True))
    folder = _copy(submission, tmp_path / "paper")
    rows = [json.loads(line) for line in (folder / "judgments.jsonl").read_text().splitlines()]
    old = rows[0]["paper_id"]
    for row in rows:
        row["paper_id"] = f"{old}-made-up" if row["paper_id"] == old else row["paper_id"]  # sorts in its place
    (folder / "judgments.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert verify_pairwise(folder, allow_test_backends=True).ok  # the figures alone do not know the papers
    assert "unknown_paper" in _codes(verify_pairwise(folder, datasets=builds, allow_test_backends=True))


def test_site_section_lists_verified_pairwise_submissions_only(submission, tmp_path, monkeypatch):
    from cyclebench.leaderboard import pairwise as pairwise_module
    from cyclebench.leaderboard.pairwise_site import PAIRWISE_SUBMISSIONS, pairwise_folders, sections_from

    root = tmp_path / PAIRWISE_SUBMISSIONS
    good = _copy(submission, root)
    bad = root / "2026-12-03_forged"
    shutil.copytree(submission, bad)
    _edit_results(bad, lambda r: r["metrics"]["overall"]["pairs"][0]["win_rate"].update(value=0.99))
    assert pairwise_folders(tmp_path / "submissions") == sorted([good, bad])
    assert pairwise_folders(tmp_path / "elsewhere" / "submissions") == []
    monkeypatch.setattr(pairwise_module, "TEST_BACKENDS", frozenset())  # the fixture's judge is the fake backend
    (section,) = sections_from(pairwise_folders(tmp_path / "submissions"))
    assert section.task == "review-5k" and [r[0] for r in section.rows] == ["high", "low"]
    assert all(len(r) == len(section.header) for r in section.rows)
    assert "2026-12-03_forged" in section.text and "did not verify" in section.text


def test_the_built_site_shows_the_pairwise_section_of_a_verified_submission(submission, tmp_path, monkeypatch,
                                                                            review5k_sample_build):
    """The hook is wired: ``build_site`` reads ``pairwise_submissions/`` beside ``submissions/`` and renders it."""
    from cyclebench.leaderboard import pairwise as pairwise_module
    from cyclebench.leaderboard.pairwise_site import PAIRWISE_SUBMISSIONS
    from cyclebench.leaderboard.site import SECTION_HOOKS, build_site
    from cyclebench.leaderboard.validate import DatasetBuilds

    assert any(hook.__name__ == "pairwise_sections" for hook in SECTION_HOOKS)
    (tmp_path / "submissions").mkdir()
    _copy(submission, tmp_path / PAIRWISE_SUBMISSIONS)
    monkeypatch.setattr(pairwise_module, "TEST_BACKENDS", frozenset())  # the fixture's judge is the fake backend
    build_site(tmp_path / "site", tmp_path / "submissions", DatasetBuilds({"review-5k": [review5k_sample_build]}))
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "Pairwise review quality" in index and "Bradley-Terry rating" in index
    # without the build it names, the submission is not shown (as a review submission would not be)
    build_site(tmp_path / "site2", tmp_path / "submissions", DatasetBuilds({}))
    assert "Bradley-Terry rating" not in (tmp_path / "site2" / "index.html").read_text(encoding="utf-8")
