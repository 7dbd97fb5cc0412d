"""`cyclebench evaluate pairwise` on two recorded runs with the fake backend: both orders, position bias
measured and removed, Bradley-Terry, parse failures and skips counted by reason, seeded selection, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cyclebench.backends.fake import FakeBackend
from cyclebench.cli import main
from cyclebench.evaluate_pairwise import PairwiseRunConfig, review_text, run_pairwise_evaluation
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.protocols import get_protocol
from cyclebench.protocols.pairwise_judge import ASPECTS, render_pairwise_output
from cyclebench.records import ParsedReview, SimulatedReview

PROTOCOL = get_protocol("cyclereviewer", reviewers=1)


def _review(rating: float, words: str) -> str:
    sim = SimulatedReview(summary=words, strengths="s", weaknesses="w", questions="q", rating=rating, soundness=3,
                          presentation=3, contribution=3, confidence=3)
    return PROTOCOL.render(ParsedReview(status="ok", reviewers=(sim,), rating=rating, soundness=3, presentation=3,
                                        contribution=3, confidence=3, decision="reject", meta_review="meta"))


@pytest.fixture(scope="module")
def runs(review5k_sample_build, tmp_path_factory) -> dict[str, Path]:
    """Two finished review runs of the sample build: ``strong`` reviews every paper; ``weak`` reviews the first
    eight and its output for the first paper does not parse."""
    root = tmp_path_factory.mktemp("pairwise-runs")
    data = str(review5k_sample_build)
    out = {}
    strong = ReviewRunConfig(task="review-5k", data=data, protocol="cyclereviewer", protocol_options={"reviewers": 1},
                             backend="fake", model_args={"text": _review(6, "thorough review")}, n_resamples=50)
    run_review_evaluation(strong, root / "strong")
    out["strong"] = root / "strong"
    from cyclebench.tasks import get_task

    papers = [e.paper_id for e in get_task("review-5k").load(data, "test").examples]
    canned = root / "weak.jsonl"
    canned.write_text(json.dumps({"request_id": papers[0], "text": "no review here"}) + "\n")
    weak = ReviewRunConfig(task="review-5k", data=data, protocol="cyclereviewer", protocol_options={"reviewers": 1},
                           backend="fake", model_args={"responses": str(canned), "text": _review(3, "short")},
                           limit=8, n_resamples=50)
    run_review_evaluation(weak, root / "weak")
    out["weak"] = root / "weak"
    out["papers"] = papers
    return out


def _judge_responses(path: Path, papers: list[str], systems: list[str]) -> Path:
    """A judge that prefers ``strong`` on every aspect but, on half the papers, always picks the review shown
    first for ``overall``; its answer for one paper's swapped order is cut off mid-way (a truncated output)."""
    rows = []
    for k, paper in enumerate(papers):
        for a in systems:
            for b in systems:
                if a == b:
                    continue
                better = "A" if a == "strong" or (b != "strong" and a == "weak") else "B"
                verdicts = {aspect: better for aspect in ASPECTS}
                if k % 2:
                    verdicts["overall"] = "A"
                text = render_pairwise_output(verdicts)
                if k == 1 and a == "weak" and b == "strong":
                    text = text[: text.index("### 3.")]
                rows.append({"request_id": f"{paper}|{a}|{b}", "text": text})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _config(runs, **kw) -> PairwiseRunConfig:
    return PairwiseRunConfig(runs=(str(runs["strong"]), str(runs["weak"])), backend="fake", n_resamples=200, **kw)


def test_two_runs_both_orders_bias_bt_and_failures(runs, tmp_path):
    responses = _judge_responses(tmp_path / "judge.jsonl", runs["papers"], ["strong", "weak"])
    config = _config(runs, model_args={"responses": str(responses)})
    results = run_pairwise_evaluation(config, tmp_path / "out")
    counts = results["counts"]
    n = len(runs["papers"])
    # weak reviewed 8 papers, one of which failed to parse: 7 judged, the rest skipped by reason
    assert counts["skipped"] == {"not_reviewed_by_both": n - 8, "review_failed": 1}
    assert counts["n_pairs_judged"] == 7 and counts["n_judgments"] == 14
    assert counts["n_candidates"] == counts["n_pairs_judged"] + sum(counts["skipped"].values())
    rows = [json.loads(line) for line in (tmp_path / "out" / "judgments.jsonl").read_text().splitlines()]
    assert {(r["paper_id"], r["order"]) for r in rows} == {(p, o) for p in {r["paper_id"] for r in rows}
                                                         for o in ("forward", "swapped")}
    assert all(r["first"] == "strong" for r in rows if r["order"] == "forward")
    # the truncated answer: two aspects read, three counted as missing, never as ties
    assert counts["judgment_status"] == {"ok": 13, "partial": 1}
    assert counts["parse_failures"]["by_reason"] == {"verdict_missing": 3}
    m = results["metrics"]
    (pair,) = m["technical_accuracy"]["pairs"]
    assert (pair["system"], pair["wins"], pair["ties"], pair["losses"]) == ("strong", 7, 0, 0)
    assert m["analytical_depth"]["excluded"] == {"one_order_unreadable": 1}
    assert m["analytical_depth"]["pairs"][0]["n"] == 6
    # overall: on the odd-indexed papers the judge always picks the first shown -> those become ties
    judged = sorted({r["paper_id"] for r in rows}, key=runs["papers"].index)
    odd = sum(runs["papers"].index(p) % 2 for p in judged)
    even = 7 - odd  # paper 1 (odd) lost its swapped order's overall verdict to the cut: excluded, not a tie
    (overall,) = m["overall"]["pairs"]
    assert (overall["n"], overall["wins"], overall["ties"], overall["losses"]) == (6, even, odd - 1, 0)
    bias = m["overall"]["position_bias"]
    assert (bias["n_first"], bias["n_second"], bias["n_unreadable"]) == (even + 2 * odd - 1, even, 1)
    assert bias["first_share"]["value"] == pytest.approx((even + 2 * odd - 1) / 13)
    assert bias["bias"]["value"] > 0
    assert m["technical_accuracy"]["position_bias"]["bias"]["value"] == pytest.approx(0.0)
    ratings = m["overall"]["bradley_terry"]["ratings"]
    assert ratings["strong"]["value"] > 1000 > ratings["weak"]["value"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Bradley-Terry" in report and "Position bias" in report and "verdict_missing 3" in report
    assert json.loads((tmp_path / "out" / "results.json").read_text())["kind"] == "pairwise"


def test_resume_is_cached_and_max_pairs_is_a_seeded_choice(runs, tmp_path):
    judge = render_pairwise_output({a: "tie" for a in ASPECTS})
    backend = FakeBackend(text=judge)
    first = run_pairwise_evaluation(_config(runs, max_pairs=3, seed=4), tmp_path / "out", backend=backend)
    assert len(backend.calls) == 6 and first["counts"]["skipped"]["not_selected"] == 4
    again = FakeBackend(text=judge)
    second = run_pairwise_evaluation(_config(runs, max_pairs=3, seed=4), tmp_path / "out", backend=again)
    assert again.calls == [] and second == first  # every answer from the cache
    # a larger budget with the same seed extends the sample: only the new pairs reach the judge
    more = FakeBackend(text=judge)
    bigger = run_pairwise_evaluation(_config(runs, max_pairs=5, seed=4), tmp_path / "more", backend=more,
                                     cache_dir=tmp_path / "out" / "cache")
    assert len(more.calls) == 4 and bigger["counts"]["skipped"]["not_selected"] == 2

    def chosen(folder):
        return {json.loads(line)["paper_id"] for line in (folder / "judgments.jsonl").read_text().splitlines()}

    assert len(chosen(tmp_path / "out")) == 3 and chosen(tmp_path / "out") < chosen(tmp_path / "more")


def test_judge_failures_counted_and_human_reviews_as_a_system(runs, tmp_path, review5k_sample_build):
    paper = runs["papers"][2]
    backend = FakeBackend(text=render_pairwise_output({a: "B" for a in ASPECTS}), fail_ids=f"{paper}|strong|weak")
    config = PairwiseRunConfig(runs=(str(runs["strong"]),), human_reviews=True, backend="fake", n_resamples=100,
                               data=str(review5k_sample_build))
    results = run_pairwise_evaluation(config, tmp_path / "human", backend=backend)
    assert [s["name"] for s in results["systems"]] == ["strong", "human"]
    assert results["counts"]["n_pairs_judged"] == len(runs["papers"])
    rows = [json.loads(line) for line in (tmp_path / "human" / "judgments.jsonl").read_text().splitlines()]
    human_prompt_side = [r for r in rows if r["first"] == "human"]
    assert human_prompt_side and results["metrics"]["overall"]["pairs"][0]["ties"] == len(runs["papers"])
    # a failing judge call: recorded with its error, counted, its pair excluded (never a tie)
    two = PairwiseRunConfig(runs=(str(runs["strong"]), str(runs["weak"])), backend="fake", n_resamples=50)
    broken = run_pairwise_evaluation(two, tmp_path / "broken", backend=FakeBackend(
        text=render_pairwise_output({a: "A" for a in ASPECTS}), fail_ids=f"{runs['papers'][1]}|strong|weak"))
    assert broken["counts"]["generation_errors"] == {"fake_failure": 1}
    assert broken["metrics"]["overall"]["excluded"] == {"one_order_unreadable": 1}


def test_bad_inputs_are_one_line_errors(runs, tmp_path, review5k_sample_build):
    with pytest.raises(ValueError, match="needs two systems"):
        run_pairwise_evaluation(PairwiseRunConfig(runs=(str(runs["strong"]),), backend="fake"), tmp_path / "a")
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        run_pairwise_evaluation(PairwiseRunConfig(runs=(str(runs["strong"]), str(tmp_path)), backend="fake"),
                                tmp_path / "b")
    twin = tmp_path / "x" / "strong"
    shutil.copytree(runs["strong"], twin)
    with pytest.raises(ValueError, match="repeat"):
        run_pairwise_evaluation(PairwiseRunConfig(runs=(str(runs["strong"]), str(twin)), backend="fake"), tmp_path / "c")
    odd = tmp_path / "odd"
    shutil.copytree(runs["weak"], odd)
    header = json.loads((odd / "results.json").read_text())
    header["task"]["dataset_fingerprint"] = "sha256:" + "0" * 64
    (odd / "results.json").write_text(json.dumps(header))
    with pytest.raises(ValueError, match="runs differ in task dataset_fingerprint"):
        run_pairwise_evaluation(PairwiseRunConfig(runs=(str(runs["strong"]), str(odd)), backend="fake"), tmp_path / "d")
    header["task"]["dataset_fingerprint"] = json.loads((runs["strong"] / "results.json").read_text())["task"][
        "dataset_fingerprint"]
    header["task"]["options"] = {**header["task"]["options"], "human_reviews_only": 0.5}
    (odd / "results.json").write_text(json.dumps(header))
    with pytest.raises(ValueError, match="runs differ in task options"):  # another ground truth, other human reviews
        run_pairwise_evaluation(PairwiseRunConfig(runs=(str(runs["strong"]), str(odd)), backend="fake"), tmp_path / "o")
    (odd / "predictions.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="not a prediction row"):
        run_pairwise_evaluation(PairwiseRunConfig(runs=(str(runs["strong"]), str(odd)), backend="fake"), tmp_path / "e")


def test_one_run_under_two_names_and_undecodable_predictions_are_refused(runs, tmp_path):
    """A link (or any second path) to the same run folder is not a second system; a predictions file that is not
    UTF-8 is one line naming the file."""
    alias = tmp_path / "alias"
    alias.symlink_to(runs["strong"], target_is_directory=True)
    with pytest.raises(ValueError, match="the same run folder"):
        run_pairwise_evaluation(PairwiseRunConfig(runs=(str(runs["strong"]), str(alias)), backend="fake"),
                                tmp_path / "a")
    assert not (tmp_path / "a").exists()
    odd = tmp_path / "odd"
    shutil.copytree(runs["weak"], odd)
    (odd / "predictions.jsonl").write_bytes((runs["weak"] / "predictions.jsonl").read_bytes()[:40] + b"\xff\xfe\n")
    with pytest.raises(ValueError, match=r"predictions.jsonl:1: not UTF-8"):
        run_pairwise_evaluation(PairwiseRunConfig(runs=(str(runs["strong"]), str(odd)), backend="fake"), tmp_path / "b")


def test_review_text_takes_the_boxed_review_of_deepreviewer_outputs():
    assert review_text({"output": "thinking...\\boxed_review{\n## Summary\nGood.\n}"}) == "## Summary\nGood."
    assert review_text({"output": "## Summary\nplain"}) == "## Summary\nplain"
    assert review_text({"output": None}) is None and review_text({"output": "  "}) is None


def test_cli(runs, tmp_path):
    judge = render_pairwise_output({a: "A" for a in ASPECTS})
    args = ["evaluate", "pairwise", "--runs", str(runs["strong"]), str(runs["weak"]), "--backend", "fake",
            "--model-args", f"text={judge}", "--bootstrap", "100", "--output", str(tmp_path / "cli")]
    assert main(args) == 0
    assert {p.name for p in (tmp_path / "cli").iterdir()} >= {"results.json", "judgments.jsonl", "report.md"}
    garbage = ["evaluate", "pairwise", "--runs", str(runs["strong"]), str(runs["weak"]), "--backend", "fake",
               "--model-args", "text=I cannot decide.", "--bootstrap", "0", "--output", str(tmp_path / "bad")]
    assert main(garbage) == 1  # nothing the judge said could be read


def test_cli_bad_input_is_one_line(runs, tmp_path, capsys):
    code = main(["evaluate", "pairwise", "--runs", str(runs["strong"]), "--backend", "fake",
                 "--output", str(tmp_path / "one")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "needs two systems" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "one").exists()


def test_selection_is_seeded_and_a_larger_budget_extends_it():
    from cyclebench.evaluate_pairwise import select

    items = [(f"p{i}", "a", "b") for i in range(30)]
    assert select(items, 5, 1) == select(items, 5, 1) != select(items, 5, 2)
    assert select(items, 8, 1)[:5] == select(items, 5, 1)
    assert select(items, None, 1) == items == select(items, 99, 1)
