"""Generated-paper evaluation: prompts from a Research-14K-shaped folder, the turns of a generation, judging,
figures (both acceptance definitions, best-of-N, second-judge disagreement), paper sets from the corpus
side by side under a baseline judge, and the prompt-injection check."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pyarrow as pa
import pytest

from cyclebench.backends.fake import FakeBackend
from cyclebench.cli.evaluate_generation import (
    add_generator_arguments,
    add_papers_arguments,
    run_generator,
    run_papers,
)
from cyclebench.evaluate_generator import GeneratorRunConfig, run_generator_evaluation
from cyclebench.evaluate_papers import PapersRunConfig, run_papers_evaluation
from cyclebench.generation import RESULTS_REQUEST, prompts_from_rows
from cyclebench.hub.writer import HubFolderWriter, card_front_matter
from cyclebench.injection import INJECTION_TEXT, plant_latex_comment, plant_visible
from cyclebench.judge import JudgeConfig
from cyclebench.metrics import SetEntry, disagreement, injection_shift, set_figures
from cyclebench.protocols.cycleresearcher import (
    build_generation_messages,
    format_training_messages,
    parse_generation,
)
from cyclebench.protocols.cyclereviewer import format_cyclereviewer_output
from cyclebench.records import ParsedReview, SimulatedReview
from cyclebench.sources.text import PapersDirectory

from tests.protocols.test_cycleresearcher import PART1, PART2, RESULTS_TURN

SCHEMA = pa.schema([
    ("paperId", pa.string()), ("title", pa.string()), ("abstract", pa.string()), ("references", pa.string()),
    ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
])
BIB = "@article{smith2023,\n  title={Long attention},\n  year={2023}\n}\n\nAbstract: Attention over long documents."


def write_research14k(out: Path, rows: dict[str, list[dict]]) -> Path:
    """A folder in the Hub layout shaped like a Research-14K build (rows: paperId, title, abstract, references,
    messages), written with the project's writer so the task reader sees what a real build gives it."""
    writer = HubFolderWriter(out, {"default": SCHEMA}, {"default": list(rows)})
    with writer:
        for split, split_rows in rows.items():
            writer.add_many("default", split, split_rows)
        shards = writer.finish_shards()
        front = card_front_matter({"default": SCHEMA}, writer.split_rows(), shards, license_id="other",
                                  pretty_name="Research-14K fixture", tags=["test"])
        writer.write_text("README.md", front + "\n# Research-14K fixture\n")
        writer.commit()
    return out


def _record(paper_id: str) -> dict:
    paper = parse_generation(PART1, RESULTS_TURN + "\n\n" + PART2)
    messages = format_training_messages(f"topic of {paper_id}", BIB, paper.outline, paper)
    return {"paperId": paper_id, "title": f"Paper {paper_id}", "abstract": "a", "references": BIB, "messages": messages}


@pytest.fixture(scope="module")
def research14k(tmp_path_factory) -> Path:
    rebuilt = {"paperId": "p4", "title": "Paper p4", "abstract": "a", "references": BIB,
               "messages": [{"role": "user", "content": "no system turn"}]}
    empty = {"paperId": "p5", "title": "Paper p5", "abstract": "a", "references": "", "messages": []}
    rows = {"train": [_record("t1")], "test": [_record("p1"), _record("p2"), _record("p3"), rebuilt, empty, _record("p1")]}
    return write_research14k(tmp_path_factory.mktemp("r14k") / "research14k", rows)


def review_text(ratings: list[int], decision: str) -> str:
    return format_cyclereviewer_output([SimulatedReview(summary="s", strengths="a", weaknesses="b", questions="q", rating=r,
                                                        soundness=3, presentation=3, contribution=2, confidence=4)
                                        for r in ratings], "meta", decision)


class RecordingFake(FakeBackend):
    """The fake backend, keeping every request it was sent (messages included)."""

    def generate(self, requests):
        self.seen = [*getattr(self, "seen", []), *requests]
        return super().generate(requests)


def fake(tmp: Path, name: str, canned: dict[str, str], **kw) -> RecordingFake:
    path = tmp / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"request_id": k, "text": v}) + "\n" for k, v in canned.items()))
    return RecordingFake(responses=str(path), **kw)


RESULTS_REPLY = RESULTS_TURN.split("\n\n", 1)[1]  # the JSON block alone, as a model answers the results request
GENERATOR = {
    "p1#s0/part1": PART1, "p1#s0/results": RESULTS_REPLY, "p1#s0/part2": PART2,  # two turns, results simulated
    # One pass: the model wrote through. (Another title: identical papers make identical judge requests, which
    # the cache answers once.)
    "p2#s0/part1": PART1.replace("Bucketed", "Hashed") + "\n" + RESULTS_TURN + "\n\n" + PART2,
}


def _judge(tmp: Path, name: str, canned: dict[str, str]) -> FakeBackend:
    return fake(tmp, name, canned, text=review_text([5, 5, 5, 5], "Reject"))


def test_prompts_from_rows_reconcile(research14k):
    from cyclebench.hub.load import read_rows

    rows = read_rows(str(research14k), "default", ["test"], None)
    prompts, skipped, notes = prompts_from_rows(rows)
    assert [p.paper_id for p in prompts] == ["p1", "p2", "p3", "p4"]
    assert skipped == {"no_prompt": 1, "duplicate_paper_id": 1} and notes == {"prompt_rebuilt_from_references": 1}
    assert len(rows) == len(prompts) + sum(skipped.values())
    assert prompts[0].messages == tuple(_record("p1")["messages"][:2])
    assert prompts[0].given_results == _record("p1")["messages"][3]["content"]
    assert prompts[3].rebuilt and prompts[3].messages == tuple(build_generation_messages("", BIB))


def test_generator_run_turns_figures_and_cached_rerun(research14k, tmp_path):
    generator = fake(tmp_path, "gen", GENERATOR, text="garbage words", fail_ids="p3#s0/part1")
    judge = _judge(tmp_path, "judge", {"p1#s0": review_text([4, 6, 7, 8], "Accept"), "p2#s0": review_text([3, 5, 5, 6], "Reject")})
    config = GeneratorRunConfig(data=str(research14k), backend="fake", judge=JudgeConfig("cyclereviewer", "fake"), n_resamples=300)
    results = run_generator_evaluation(config, tmp_path / "run", backend=generator, judge_backend=judge, progress=False)

    # Turn plans: p1 asked for the results then part 2; p2 wrote through; p3 failed; p4 went all the way and failed to parse.
    assert generator.calls == ["p1#s0/part1", "p2#s0/part1", "p3#s0/part1", "p4#s0/part1",
                               "p1#s0/results", "p4#s0/results", "p1#s0/part2", "p4#s0/part2"]
    assert judge.calls == ["p1#s0", "p2#s0"]
    counts, m = results["counts"], results["metrics"]
    assert counts["outcomes"] == {"judged": 2, "generation_failed": 1, "parse_failed": 1, "unreadable": 0}
    assert counts["n_entries"] == 4 == results["task"]["n_prompts"]
    assert results["task"]["skipped"] == {"no_prompt": 1, "duplicate_paper_id": 1}
    assert counts["turn_plans"] == {"one-pass": 1, "part1-failed": 1, "simulated-results": 2}
    assert m["average_score"]["value"] == pytest.approx((6.25 + 4.75) / 2)
    assert m["avg_min_rating"]["value"] == pytest.approx(3.5) and m["avg_max_rating"]["value"] == pytest.approx(7.0)
    assert m["accept_rate_by_decision"]["value"] == 0.5 and m["accept_rate_by_rating"]["value"] == 0.5
    assert m["accept_rate_by_decision"]["n"] == 2
    assert m["accept_rate_by_decision_over_all"]["value"] == 0.25
    assert m["share_failed_to_generate"]["value"] == 0.25 and m["share_failed_to_parse"]["value"] == 0.25
    assert m["avg_soundness"]["value"] == 3.0
    for name in ("average_score", "accept_rate_by_rating", "avg_min_rating"):
        assert set(m[name]) >= {"value", "ci_low", "ci_high", "n"}
    assert results["judge"]["protocol"] == "cyclereviewer" and results["generator"]["results_are_simulated"]
    assert results["generator"]["sampling"] == {"temperature": 0.4, "top_p": 0.95, "max_tokens": 19000,
                                                "stop": ["\\clearpage"]}

    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    by_id = {r["paper_id"]: r for r in rows}
    assert by_id["p1"]["paper"]["status"] == "ok" and len(by_id["p1"]["paper"]["results"]) == 2
    assert [t["turn"] for t in by_id["p1"]["turns"]] == ["part1", "results", "part2"]
    assert by_id["p1"]["paper"]["results"][0]["name"] == "Speed"  # the simulated results reached the paper
    sent = {r.request_id: r for r in generator.seen}
    assert sent["p1#s0/results"].messages[-2:] == ({"role": "assistant", "content": PART1}, {"role": "user", "content": RESULTS_REQUEST})
    part2_turn = sent["p1#s0/part2"].messages[-1]["content"]
    assert part2_turn.startswith("## Experimental_results\n\n```json\n[") and '"name": "Quality"' in part2_turn
    assert sent["p1#s0/part2"].messages[:2] == sent["p1#s0/part1"].messages
    assert all(r.sampling["seed"] == 0 and r.sampling["stop"] == ["\\clearpage"] for r in generator.seen)
    assert by_id["p2"]["plan"] == "one-pass" and by_id["p2"]["paper"]["status"] == "ok"
    assert by_id["p3"]["outcome"] == "generation_failed" and "fake_failure" in by_id["p3"]["reason"]
    assert by_id["p4"]["outcome"] == "parse_failed" and by_id["p4"]["judge"] is None
    # The results request asked the model itself; the results turn it got is in the training format.
    report = (tmp_path / "run" / "report.md").read_text()
    assert "experimental results in the generated papers are simulated" in report
    assert "| fake generated | measured | cyclereviewer via fake |" in report
    assert "| AI Scientist | reported | CycleReviewer (as published" in report
    assert "different judge" in report

    generator.calls.clear()
    judge.calls.clear()
    before = (tmp_path / "run" / "results.json").read_text()
    run_generator_evaluation(config, tmp_path / "run", backend=generator, judge_backend=judge, progress=False)
    # Everything came from the cache, except the failed request: errors are tried again.
    assert generator.calls == ["p3#s0/part1"] and judge.calls == []
    assert (tmp_path / "run" / "results.json").read_text() == before


def test_best_of_n_and_second_judge(research14k, tmp_path):
    one_pass = GENERATOR["p2#s0/part1"]
    canned = {**GENERATOR, "p1#s1/part1": one_pass.replace("Hashed", "Sample1"), "p2#s1/part1": one_pass.replace("Hashed", "Sample2")}
    generator = fake(tmp_path, "gen", canned, text="garbage words")
    first = _judge(tmp_path, "j1", {"p1#s0": review_text([6, 6, 6, 7], "Accept"), "p1#s1": review_text([7, 7, 7, 8], "Accept"),
                                    "p2#s0": review_text([4, 4, 5, 5], "Reject"), "p2#s1": review_text([4, 4, 5, 5], "Reject")})
    second = _judge(tmp_path, "j2", {"p1#s0": review_text([5, 5, 5, 5], "Reject"), "p1#s1": review_text([6, 6, 6, 6], "Accept"),
                                     "p2#s0": review_text([3, 3, 3, 3], "Reject"), "p2#s1": review_text([8, 8, 8, 8], "Accept")})
    config = GeneratorRunConfig(data=str(research14k), backend="fake", judge=JudgeConfig("cyclereviewer", "fake"),
                                second_judge=JudgeConfig("cyclereviewer", "fake", model_args={"other": 1}), n=2, limit=2,
                                n_resamples=200)
    results = run_generator_evaluation(config, tmp_path / "run", backend=generator, judge_backend=first,
                                       second_judge_backend=second, progress=False)
    sets = results["sets"]
    assert results["generator"]["seeds"] == [0, 1]
    assert sets["generated"]["counts"]["n_entries"] == 4
    best = sets["generated_best_of_n"]
    assert best["counts"]["n_entries"] == 2  # one per prompt
    # p1: sample 1 (7.25) beats sample 0 (6.25); p2: a tie at 4.5 goes to sample 0.
    assert best["metrics"]["average_score"]["value"] == pytest.approx((7.25 + 4.5) / 2)
    assert results["best_of_n_metrics"] == best["metrics"]
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert sorted((r["paper_id"], r["sample"]) for r in rows if r["best_of_n"]) == [("p1", 1), ("p2", 0)]
    # The second judge scores the same samples; its view of the selection is not biased by it.
    assert best["second_judge"]["metrics"]["average_score"]["value"] == pytest.approx((6 + 3) / 2)
    d = sets["generated"]["disagreement"]
    assert d["n_both_rated"] == 4
    assert d["mean_abs_rating_diff"]["value"] == pytest.approx((1.25 + 1.25 + 1.5 + 3.5) / 4)
    assert d["decision_agreement"]["value"] == pytest.approx(2 / 4)
    assert d["spearman"]["value"] is not None
    report = (tmp_path / "run" / "report.md").read_text()
    assert "best-of-2 by the judge" in report and "Disagreement between the two judges" in report
    assert "biased upwards by the selection" in report


def test_given_results_turn(research14k, tmp_path):
    generator = fake(tmp_path, "gen", {"p1#s0/part1": PART1, "p1#s0/part2": PART2}, text="garbage")
    judge = _judge(tmp_path, "judge", {})
    config = GeneratorRunConfig(data=str(research14k), backend="fake", judge=JudgeConfig("cyclereviewer", "fake"),
                                results_turn="given", n_resamples=0)
    results = run_generator_evaluation(config, tmp_path / "run", backend=generator, judge_backend=judge, progress=False)
    assert "p1#s0/results" not in generator.calls  # the record's own results turn was used
    assert results["task"]["skipped"]["no_results_turn_for_given_mode"] == 1  # p4 has no results turn
    assert results["task"]["n_prompts"] == 3 and not results["generator"]["results_are_simulated"]


def test_tiny_models_for_generator_and_judge_fail_counted(research14k, tiny_llama, tiny_qwen2, tmp_path):
    papers = tmp_path / "refs"
    papers.mkdir()
    (papers / "a1.md").write_text("# A paper\n\n## Abstract\n\nWe study things.\n\n## 1 Introduction\n\nText.\n")
    (papers / "a2.md").write_text("# Another\n\n## Abstract\n\nMore things.\n")
    config = GeneratorRunConfig(
        data=str(research14k), backend="hf", model_args={"pretrained": str(tiny_llama), "batch_size": 4},
        sampling={"max_tokens": 8}, limit=2,
        judge=JudgeConfig("cyclereviewer", "hf", model_args={"pretrained": str(tiny_qwen2)}, sampling={"max_tokens": 8}),
        reference_sets=(("refs", str(papers)),), n_resamples=100)
    results = run_generator_evaluation(config, tmp_path / "run", progress=False)
    gen, refs = results["sets"]["generated"], results["sets"]["refs"]
    assert gen["counts"]["n_entries"] == 2
    assert gen["counts"]["outcomes"]["parse_failed"] + gen["counts"]["outcomes"]["generation_failed"] == 2
    assert gen["metrics"]["average_score"]["value"] is None and gen["metrics"]["share_failed_to_parse"]["value"] == 1.0
    assert refs["counts"]["n_judged"] == 2 and refs["counts"]["n_rated"] == 0
    assert refs["metrics"]["share_judge_failed"]["value"] == 1.0
    assert refs["counts"]["judge_problems"]  # the tiny judge's outputs fail to parse, with reasons
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r.get("turns") or r.get("judge") for r in rows)
    assert (tmp_path / "run" / "report.md").is_file()


# ---------------------------------------------------------------------------------------------
# Baseline judge on the corpus


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cyclebench evaluate")
    sub = parser.add_subparsers(dest="what", required=True)
    add_generator_arguments(sub)
    add_papers_arguments(sub)
    return parser


@pytest.mark.slow  # ~6 s: four paper sets judged twice by a TF-IDF judge trained on the corpus
def test_corpus_papers_side_by_side_with_baseline_judge_and_injection(corpus, aiscientist_build, tmp_path, capsys):
    out = tmp_path / "papers"
    args = _parser().parse_args([
        "papers", "--papers", f"human-iclr2022={corpus / 'papers/markdown/iclr2022'}",
        "--papers", f"aiscientist={corpus / 'reviews/aiscientist_fewshot'}",
        "--papers", f"iclr2025-pdf={corpus / 'papers/pdf'}", "--papers", str(corpus / "papers/latex"),
        "--limit", "24", "--set-limit", "iclr2025-pdf=2", "--judge-protocol", "cyclereviewer", "--judge-backend", "baseline-tfidf",
        "--judge-train", f"aiscientist-iclr2022={aiscientist_build}", "--injection", "--bootstrap", "300", "--output", str(out)])
    assert run_papers(args) == 0
    assert json.loads(capsys.readouterr().out)["judge"] == "cyclereviewer via baseline-tfidf"
    results = json.loads((out / "results.json").read_text())
    sets = results["sets"]
    assert list(sets) == ["human-iclr2022", "aiscientist", "iclr2025-pdf", "latex"]
    human = sets["human-iclr2022"]["counts"]
    # Papers the judge trained on are excluded and counted; the rest are judged; nothing is dropped.
    assert human["n_files"] == 24 == human["n_read"] + human["n_unreadable"]
    assert human["n_read"] == human["n_judged"] + human["n_excluded"] and human["n_excluded"] > 0
    assert all(e["reason"].startswith("in_judge_training_data") for e in human["excluded"])
    assert sets["aiscientist"]["counts"]["n_rated"] == 3 and sets["aiscientist"]["counts"]["sources"] == {"text": 3}
    pdf = sets["iclr2025-pdf"]["counts"]
    assert pdf["n_files"] == 2 and pdf["n_read"] == 2 and all(k.startswith("pdf:") for k in pdf["sources"])
    assert results["config"]["set_limits"] == {"iclr2025-pdf": 2}
    assert sets["latex"]["counts"]["sources"] == {"latex": 1}
    for res in sets.values():
        assert 1 <= res["metrics"]["average_score"]["value"] <= 10
        assert res["metrics"]["accept_rate_by_rating"]["value"] is not None
    assert results["judge"]["training"]["task"] == "aiscientist-iclr2022"

    injection = results["injection"]["sets"]
    for name in sets:
        shift = injection[name]["visible"]
        assert shift["n_both_rated"] == sets[name]["counts"]["n_rated"]
        assert shift["rating_shift"]["value"] is not None and math.isfinite(shift["rating_shift"]["value"])
        assert shift["n_rating_up"] + shift["n_rating_down"] + shift["n_rating_same"] == shift["n_both_rated"]
    comment = injection["latex"]["latex_comment"]
    assert comment["n_latex_sources"] == 1 and comment["n_comment_stripped"] == 1
    assert comment["rating_shift"]["value"] == 0.0  # the reader stripped the comment: same text, same score

    report = (out / "report.md").read_text()
    for row in ("| human-iclr2022 | measured | cyclereviewer via baseline-tfidf |", "| aiscientist | measured |",
                "| iclr2025-pdf | measured |", "| AI Scientist | reported | CycleReviewer (as published",
                "| Conference accepted papers | reported |", "| CycleResearcher-12B | reported |"):
        assert row in report, row
    assert "**The reported rows used a different judge**" in report
    assert "## Prompt-injection check" in report and "bag of words" in report
    assert "stripped by the LaTeX reader in 1 of 1" in report
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    latex_row = next(r for r in rows if r["set"] == "latex")
    assert set(latex_row["injection"]) == {"visible", "latex_comment"}
    assert latex_row["injection"]["latex_comment"]["output"] == latex_row["judge"]["output"]
    judged_rows = [r for r in rows if "judge" in r]
    assert len(judged_rows) == sum(res["counts"]["n_judged"] for res in sets.values())
    assert all("injection" in r for r in judged_rows)
    assert len(rows) == sum(res["counts"]["n_files"] for res in sets.values())  # judged + unreadable + excluded


def test_generator_with_baseline_judge_beside_corpus_papers(research14k, corpus, aiscientist_build, tmp_path):
    generator = fake(tmp_path, "gen", GENERATOR, text="garbage words")
    config = GeneratorRunConfig(
        data=str(research14k), backend="fake", limit=2, n_resamples=200,
        judge=JudgeConfig("cyclereviewer", "baseline-tfidf", train=f"aiscientist-iclr2022={aiscientist_build}"),
        second_judge=JudgeConfig("aiscientist", "baseline-constant", train=f"aiscientist-iclr2022={aiscientist_build}"),
        reference_sets=(("human-iclr2022", str(corpus / "papers/markdown/iclr2022")),
                        ("aiscientist", str(corpus / "reviews/aiscientist_fewshot"))),
        reference_limit=10)
    results = run_generator_evaluation(config, tmp_path / "run", backend=generator, progress=False)
    sets = results["sets"]
    assert list(sets) == ["generated", "human-iclr2022", "aiscientist"]
    assert sets["generated"]["counts"]["n_rated"] == 2
    assert sets["aiscientist"]["disagreement"]["n_both_rated"] == 3
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| fake generated | measured | cyclereviewer via baseline-tfidf |" in report
    assert "| aiscientist | measured | aiscientist via baseline-constant |" in report


def test_unreadable_papers_are_counted_with_reasons(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\n## Abstract\n\nFine text.\n")
    (folder / "broken.pdf").write_bytes(b"not a pdf at all")
    (folder / "latin.txt").write_bytes(b"caf\xe9 au lait")
    judge = fake(tmp_path, "judge", {}, text=review_text([6, 6, 7, 7], "Accept"))
    config = PapersRunConfig(sets=(("mixed", str(folder)),), judge=JudgeConfig("cyclereviewer", "fake"), n_resamples=100)
    results = run_papers_evaluation(config, tmp_path / "run", backend=judge, progress=False)
    counts = results["sets"]["mixed"]["counts"]
    assert counts["n_files"] == 3 and counts["n_read"] == 1 and counts["n_unreadable"] == 2
    assert counts["failure_reasons"] == {"pdf_unreadable": 1, "text_not_utf8": 1}
    m = results["metrics"]
    assert m["share_failed_to_parse"]["value"] == pytest.approx(2 / 3)
    assert m["accept_rate_by_decision"]["value"] == 1.0 and m["accept_rate_by_decision_over_all"]["value"] == pytest.approx(1 / 3)
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert sorted(r.get("unreadable", "").split(":")[0] for r in rows) == ["", "pdf_unreadable", "text_not_utf8"]


def test_baseline_judge_needs_its_training_data(tmp_path):
    papers = tmp_path / "papers"  # beside the run folder: a run folder inside its paper set is refused (issue 11)
    papers.mkdir()
    config = PapersRunConfig(sets=(("x", str(papers)),), judge=JudgeConfig("cyclereviewer", "baseline-tfidf"))
    with pytest.raises(ValueError, match="--judge-train"):
        run_papers_evaluation(config, tmp_path / "run", progress=False)
    config = PapersRunConfig(sets=(("x", str(papers)),), judge=JudgeConfig("cyclereviewer", "fake", train="a=b"))
    with pytest.raises(ValueError, match="does not train"):
        run_papers_evaluation(config, tmp_path / "run", progress=False)


def test_cli_help_and_generator_cli(research14k, tmp_path, capsys):
    parser = _parser()
    for what in ("generator", "papers"):
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([what, "--help"])
        assert exit_info.value.code == 0
    canned = tmp_path / "gen.jsonl"
    canned.write_text("".join(json.dumps({"request_id": k, "text": v}) + "\n" for k, v in GENERATOR.items()))
    args = parser.parse_args(["generator", "--data", str(research14k), "--backend", "fake", "--model-args",
                              f"responses={canned},text=garbage", "--judge-protocol", "cyclereviewer", "--judge-backend",
                              "fake", "--judge-model-args", "text=## Rating\n6", "--limit", "2", "--bootstrap", "50",
                              "--output", str(tmp_path / "run")])
    capsys.readouterr()
    assert run_generator(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sets"]["generated"]["n"] == 2


# ---------------------------------------------------------------------------------------------
# Pure pieces


def _review(ratings: list[float | None], decision: str | None) -> ParsedReview:
    reviewers = tuple(SimulatedReview(rating=r) for r in ratings)
    got = [r for r in ratings if r is not None]
    return ParsedReview(status="ok", reviewers=reviewers, rating=sum(got) / len(got) if got else None, decision=decision)


def test_set_figures_by_hand():
    entries = [SetEntry("a", "judged", _review([2, 8], "accept")), SetEntry("b", "judged", _review([5, 6, None], "reject")),
               SetEntry("c", "judged", _review([None], None)), SetEntry("d", "generation_failed", reason="part1: boom"),
               SetEntry("e", "unreadable", reason="pdf_unreadable: x")]
    fig = set_figures(entries, threshold=5.5, n_resamples=0)
    m, c = fig["metrics"], fig["counts"]
    assert m["average_score"]["value"] == pytest.approx(5.25) and m["average_score"]["n"] == 2
    assert m["avg_min_rating"]["value"] == pytest.approx(3.5) and m["avg_max_rating"]["value"] == pytest.approx(7)
    assert m["accept_rate_by_decision"]["value"] == 0.5 and m["accept_rate_by_rating"]["value"] == 0.5
    assert m["accept_rate_by_rating_over_all"]["value"] == pytest.approx(1 / 5)
    assert m["share_judge_failed"]["value"] == pytest.approx(1 / 3)
    assert c["failure_reasons"] == {"part1": 1, "pdf_unreadable": 1}
    assert c["n_entries"] == 5 == sum(c["outcomes"].values())
    with_ci = set_figures(entries, threshold=5.5, n_resamples=500, seed=1)["metrics"]["average_score"]
    assert with_ci["ci_low"] <= with_ci["value"] <= with_ci["ci_high"]


def test_disagreement_and_injection_shift_by_hand():
    a = [_review([5], "reject"), _review([7], "accept"), _review([None], None), None]
    b = [_review([6], "accept"), _review([7], "accept"), _review([3], "reject"), _review([4], "reject")]
    d = disagreement(a, b, n_resamples=0)
    assert d["n_both_rated"] == 2 and d["mean_abs_rating_diff"]["value"] == 0.5
    assert d["mean_rating_diff"]["value"] == 0.5 and d["decision_agreement"]["value"] == 0.5
    s = injection_shift(a, b, threshold=6, n_resamples=0)
    assert s["rating_shift"]["value"] == 0.5 and (s["n_rating_up"], s["n_rating_same"], s["n_rating_down"]) == (1, 1, 0)
    assert s["accept_rate_by_rating_clean"]["value"] == 0.5 and s["accept_rate_by_rating_injected"]["value"] == 1.0
    with pytest.raises(ValueError, match="same papers"):
        disagreement(a, b[:2])


def test_planting_the_instruction(corpus, tmp_path):
    text = "# Title\n\n## Abstract\n\nWe do X.\n\n## 1 Introduction\n\nBody."
    assert plant_visible(text, "OBEY") == "# Title\n\n## Abstract\n\nWe do X.\n\nOBEY\n\n## 1 Introduction\n\nBody."
    source = corpus / "papers" / "latex" / "iclr2021_calibration"
    planted = plant_latex_comment(source, tmp_path)
    assert INJECTION_TEXT in (planted / "main.tex").read_text()
    clean = PapersDirectory(source.parent).read("iclr2021_calibration").text
    read_back = PapersDirectory(planted.parent).read(planted.name).text
    assert read_back == clean and "INSTRUCTION TO THE REVIEWER" not in read_back
    single = tmp_path / "one.tex"
    single.write_text("\\documentclass{article}\\begin{document}\n\\begin{abstract}\nA.\n\\end{abstract}\n\\end{document}\n")
    planted = plant_latex_comment(single, tmp_path / "w", "OBEY")
    assert "\\begin{abstract}\n% OBEY\nA." in (planted / "one.tex").read_text()


# --- The original WestlakeNLP Research-14K files (issue 13): the published columns, JSON text in CSV/JSON cells.

ORIGINAL_COLUMNS = ("paperId", "title", "abstract", "venue", "year", "references", "arxiv", "sections", "figure", "messages")


def _original_row(paper_id: str) -> dict:
    """A record in the published shape: every column as the original files store it (JSON text in cells)."""
    record = _record(paper_id)
    return {"paperId": paper_id, "title": record["title"], "abstract": "a", "venue": "ICLR", "year": 2024,
            "references": BIB, "arxiv": "2401.00001",
            "sections": json.dumps([{"heading": "Introduction", "text": "..."}]), "figure": "[]",
            "messages": json.dumps(record["messages"])}


def _write_original(folder: Path, kind: str) -> Path:
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    rows = [_original_row("p1"), _original_row("p2"), {**_original_row("p3"), "messages": "[]", "references": ""}]
    if kind == "csv":
        with open(folder / "test.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=ORIGINAL_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return folder
    path = folder / "sample.json"
    path.write_text(json.dumps(rows + ["not a record"]), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_original_research14k_files_give_their_own_prompts(tmp_path, kind):
    from cyclebench.generation import load_generation_prompts

    data = _write_original(tmp_path / "orig", kind)
    loaded = load_generation_prompts("research-14k", str(data), "test")
    assert [p.paper_id for p in loaded.prompts] == ["p1", "p2"]
    assert loaded.notes == {}  # the record's own prompt, not one rebuilt from the JSON text
    assert loaded.prompts[0].messages == tuple(_record("p1")["messages"][:2])
    assert loaded.prompts[0].given_results == _record("p1")["messages"][3]["content"]
    assert loaded.skipped == ({"no_prompt": 1} if kind == "csv" else {"no_prompt": 1, "not_a_record": 1})
    assert loaded.n_rows == len(loaded.prompts) + sum(loaded.skipped.values())
    from cyclebench.fileio import sha256_file

    named = data / "test.csv" if kind == "csv" else data
    assert loaded.fingerprint == f"sha256:{sha256_file(named)}"  # the file read, not a hash of nothing


def test_generator_run_on_original_research14k_csv(tmp_path):
    data = _write_original(tmp_path / "orig", "csv")
    generator = fake(tmp_path, "gen", {"p1#s0/part1": PART1, "p1#s0/part2": PART2}, text="garbage")
    judge = _judge(tmp_path, "judge", {"p1#s0": review_text([5, 6, 6, 7], "Accept")})
    config = GeneratorRunConfig(data=str(data), backend="fake", judge=JudgeConfig("cyclereviewer", "fake"),
                                results_turn="given", n_resamples=0, limit=1)
    results = run_generator_evaluation(config, tmp_path / "run", backend=generator, judge_backend=judge, progress=False)
    assert generator.calls == ["p1#s0/part1", "p1#s0/part2"]  # the record's own results turn, no request for one
    assert results["counts"]["outcomes"]["judged"] == 1
    sent = {r.request_id: r for r in generator.seen}
    assert sent["p1#s0/part1"].messages == tuple(_record("p1")["messages"][:2])
