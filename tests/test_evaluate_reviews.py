"""Evaluation runs end to end: baselines on corpus builds, tiny models through hf and openai, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cyclebench.backends import build_backend
from cyclebench.cli import main
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

from .openai_server import OpenAIServer


def _results(path: Path) -> dict:
    return json.loads((path / "results.json").read_text())


def test_baseline_on_corpus_review5k_with_human_proxy_row(review5k_build, tmp_path):
    config = ReviewRunConfig(task="review-5k", data=str(review5k_build), protocol="cyclereviewer",
                             backend="baseline-tfidf", task_options={"abstract_fallback": True}, n_resamples=500)
    results = run_review_evaluation(config, tmp_path / "run", progress=False)
    counts, metrics = results["counts"], results["metrics"]
    assert results["task"]["split"] == "test" and results["model"]["baseline"]
    assert results["model"]["training"]["n_examples"] > 100
    assert counts["n_papers"] == counts["n_evaluated"] + counts["n_failed"] == results["task"]["n_examples"]
    for name in ("rating_mae", "proxy_model_mae", "proxy_human_mae", "decision_accuracy", "spearman", "roc_auc"):
        assert metrics[name]["value"] is not None, name
        assert metrics[name]["ci_low"] <= metrics[name]["value"] <= metrics[name]["ci_high"], name
    predictions = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == counts["n_papers"]
    assert all(p["parsed"]["rating"] is not None for p in predictions)
    for plot in ("pred_vs_human.svg", "rating_hist.svg", "confusion.svg", "report.md"):
        assert (tmp_path / "run" / plot).stat().st_size > 0


@pytest.mark.parametrize("backend", ["baseline-constant", "baseline-tfidf"])
def test_baseline_on_aiscientist_iclr2022(aiscientist_build, tmp_path, backend):
    config = ReviewRunConfig(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                             backend=backend, n_resamples=500)
    results = run_review_evaluation(config, tmp_path / "run", progress=False)
    assert results["task"]["split"] == "test"  # never the split the baseline learned from
    assert results["counts"]["n_papers"] == results["task"]["n_examples"] == 73
    assert results["metrics"]["proxy_human_mae"]["value"] > 0
    assert results["protocol"]["options"]["decision_rule"] == "threshold"


def test_tiny_model_through_hf_counts_parse_failures(review5k_sample_build, tiny_llama, tmp_path):
    code = main(["evaluate", "model", "--task", "review-5k", "--data", str(review5k_sample_build), "--protocol", "cyclereviewer",
                 "--backend", "hf", "--model-args", f"pretrained={tiny_llama},max_length=16384,batch_size=2",
                 "--gen-args", "max_tokens=12", "--limit", "3", "--bootstrap", "200", "--output", str(tmp_path / "run")])
    assert code == 0
    results = _results(tmp_path / "run")
    counts = results["counts"]
    assert counts["n_papers"] == 3
    assert counts["n_failed"] == 3  # random weights write no review: counted, not scored as 0
    assert counts["parse_status"] == {"failed": 3}
    assert sum(counts["parse_problems"].values()) >= 3
    assert results["metrics"]["rating_mae"]["value"] is None
    assert results["model"]["model_args"]["pretrained"] == str(tiny_llama)
    predictions = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert all(p["output"] is not None and p["generation_error"] is None for p in predictions)


def test_tiny_model_through_openai_server_matches_hf(review5k_sample_build, tiny_llama, tmp_path):
    common = dict(task="review-5k", data=str(review5k_sample_build), protocol="cyclereviewer", limit=2, n_resamples=100,
                  sampling={"max_tokens": 8, "temperature": 0.0})
    hf = build_backend("hf", {"pretrained": str(tiny_llama), "max_length": 16384})
    direct = run_review_evaluation(ReviewRunConfig(backend="hf", **common), tmp_path / "hf", backend=hf, progress=False)
    with OpenAIServer(hf) as server:
        served = run_review_evaluation(
            ReviewRunConfig(backend="openai", model_args={"base_url": server.base_url, "model": "tiny", "concurrency": 2}, **common),
            tmp_path / "openai", progress=False)
        assert server.seen == 2
    out_hf = [json.loads(line)["output"] for line in (tmp_path / "hf" / "predictions.jsonl").read_text().splitlines()]
    out_api = [json.loads(line)["output"] for line in (tmp_path / "openai" / "predictions.jsonl").read_text().splitlines()]
    assert out_hf == out_api  # greedy decoding: the same text through HTTP
    assert direct["counts"]["parse_status"] == served["counts"]["parse_status"]


class _Killed(Exception):
    pass


def test_killed_run_resumes_without_regenerating(review5k_sample_build, tmp_path):
    canned = tmp_path / "canned.jsonl"
    protocol_out = ("## Summary\nS\n## Soundness\n3 good\n## Presentation\n3 good\n## Contribution\n2 fair\n"
                    "## Strengths\nx\n## Weaknesses\ny\n## Questions\nz\n## Rating\n{r}: ok\n## Confidence\n3: fine\n"
                    "## Meta Review\nm\n## Paper Decision\n{d}\n")
    from datasets import load_dataset

    ids = [r["id"] for r in load_dataset(str(review5k_sample_build), split="test").to_list()]
    canned.write_text("".join(json.dumps({"request_id": pid, "text": protocol_out.format(r=(3, 5, 6, 8)[i % 4],
                              d="Accept" if i % 2 else "Reject")}) + "\n" for i, pid in enumerate(ids)))
    config = ReviewRunConfig(task="review-5k", data=str(review5k_sample_build), protocol="cyclereviewer", backend="fake",
                             model_args={"responses": str(canned)}, batch_size=2, n_resamples=300)

    run_review_evaluation(config, tmp_path / "reference", progress=False)

    killed = build_backend("fake", config.model_args)
    real_generate = killed.generate

    def dies_on_third_batch(requests):
        if len(killed.batches) == 2:
            raise _Killed
        return real_generate(requests)

    killed.generate = dies_on_third_batch
    with pytest.raises(_Killed):
        run_review_evaluation(config, tmp_path / "run", backend=killed, progress=False)
    assert not (tmp_path / "run" / "results.json").exists()
    done_before = list(killed.calls)
    assert len(done_before) == 4

    resumed = build_backend("fake", config.model_args)
    run_review_evaluation(config, tmp_path / "run", backend=resumed, progress=False)
    assert not set(resumed.calls) & set(done_before)  # finished papers were not generated again
    assert len(resumed.calls) == len(ids) - 4
    assert (tmp_path / "run" / "results.json").read_text() == (tmp_path / "reference" / "results.json").read_text()

    rerun = build_backend("fake", config.model_args)
    run_review_evaluation(config, tmp_path / "run", backend=rerun, progress=False)
    assert rerun.calls == []  # a finished run costs no generation
    assert (tmp_path / "run" / "results.json").read_text() == (tmp_path / "reference" / "results.json").read_text()


def _aiscientist_answer(overall: int, done: bool) -> str:
    review = {"Summary": "s", "Strengths": ["a"], "Weaknesses": ["b"], "Originality": 2, "Quality": 2, "Clarity": 2,
              "Significance": 2, "Questions": ["q"], "Limitations": ["l"], "Ethical Concerns": False, "Soundness": 2,
              "Presentation": 2, "Contribution": 2, "Overall": overall, "Confidence": 3, "Decision": "Reject"}
    return ("THOUGHT:\nfine" + (" I am done" if done else "") + "\n\nREVIEW JSON:\n```json\n"
            + json.dumps(review) + "\n```")


@pytest.mark.parametrize(("done", "rounds_run"), [(False, 3), (True, 2)])
def test_aiscientist_reflection_rounds(aiscientist_build, tmp_path, done, rounds_run):
    backend = build_backend("fake", {"text": _aiscientist_answer(7, done)})
    config = ReviewRunConfig(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                             protocol_options={"reflections": 3}, backend="fake", limit=4, n_resamples=100)
    results = run_review_evaluation(config, tmp_path / "run", backend=backend, progress=False)
    # Round 1 for every paper; later rounds until the model says it is done (after round 2 here).
    assert len(backend.calls) == 4 * rounds_run
    assert results["counts"]["parse_status"] == {"ok": 4}
    assert results["protocol"]["options"]["reflections"] == 3


def test_aiscientist_few_shot_from_the_corpus_folder(corpus, aiscientist_build, tmp_path):
    backend = build_backend("fake", {"text": _aiscientist_answer(4, True)})
    folder = corpus / "reviews" / "aiscientist_fewshot"
    config = ReviewRunConfig(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                             protocol_options={"few_shot": str(folder), "num_fs": 1}, backend="fake", limit=2,
                             n_resamples=100)
    results = run_review_evaluation(config, tmp_path / "run", backend=backend, progress=False)
    assert results["protocol"]["options"]["few_shot"] == 1
    assert results["protocol"]["arguments"]["few_shot"] == str(folder)
    cache = next((tmp_path / "run" / "cache").rglob("responses.jsonl"))
    assert cache.stat().st_size > 0


def test_undecided_papers_count_for_ratings_and_are_skipped_for_decisions(corpus, tmp_path):
    """A Review-5K built with ``--undecided keep`` from ICLR 2026 notes where half the live papers are still
    undecided: every paper is scored for the rating, only the decided ones for the decision, and the run says
    how many were left out of the decision figures and why."""
    from cyclebench.builders import review5k
    from cyclebench.tasks import get_task

    src = corpus / "openreview" / "iclr2026_v2.jsonl"
    mixed = tmp_path / "mixed.jsonl"
    with open(src, encoding="utf-8") as f, open(mixed, "w", encoding="utf-8") as out:
        for i, line in enumerate(f):
            note = json.loads(line)
            if i % 2 and not note["content"]["venueid"]["value"].endswith(("Withdrawn_Submission",
                                                                         "Desk_Rejected_Submission")):
                note["content"]["venueid"]["value"] = "ICLR.cc/2026/Conference/Submission"
                note["content"]["venue"]["value"] = "Submitted to ICLR 2026"
            out.write(json.dumps(note) + "\n")
    build = review5k.build(mixed, None, tmp_path / "r5k", review5k.Review5KConfig(undecided="keep", require_text=False),
                           progress=False)
    assert 0 < build.manifest["counts"]["papers_undecided_kept"] < build.manifest["counts"]["papers_kept"]
    loaded = get_task("review-5k").load(str(build.out), "test", abstract_fallback=True)
    undecided = sum(1 for e in loaded.examples if e.accepted is None)
    assert 0 < undecided < len(loaded.examples)
    assert loaded.source["decision_skipped"] == {"no_decision": undecided}

    config = ReviewRunConfig(task="review-5k", data=str(build.out), protocol="cyclereviewer",
                             backend="baseline-constant", task_options={"abstract_fallback": True}, n_resamples=0)
    results = run_review_evaluation(config, tmp_path / "run", progress=False)
    counts, metrics = results["counts"], results["metrics"]
    assert results["task"]["source"]["decision_skipped"] == {"no_decision": undecided}
    assert counts["n_papers"] == counts["n_evaluated"] == len(loaded.examples)
    assert metrics["rating_mae"]["n"] == len(loaded.examples)
    assert counts["n_decision_truth_missing"] == undecided
    assert counts["n_decision_evaluated"] + counts["n_decision_failed"] == len(loaded.examples) - undecided
    assert metrics["decision_accuracy"]["n"] == len(loaded.examples) - undecided


def test_decided_build_has_no_decision_skipped(review5k_build):
    from cyclebench.tasks import get_task

    loaded = get_task("review-5k").load(str(review5k_build), "test", abstract_fallback=True)
    assert "decision_skipped" not in loaded.source
