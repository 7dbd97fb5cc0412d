"""Red team of ``max_paper_tokens`` (issue 14): hostile budgets from the command line, budgets smaller than the
marker, whitespace papers, a backend without a tokenizer, cache-key stability, and a leaderboard submission
of a run that cut papers: it verifies, and forged truncation flags or counts are caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclebench.leaderboard.submit import submit
from cyclebench.leaderboard.validate import DatasetBuilds, validate_submissions
from transformers import AutoTokenizer

from cyclebench.backends.base import parse_model_args
from cyclebench.backends.fake import FakeBackend
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.records import ReviewExample
from cyclebench.tasks import get_task
from cyclebench.truncation import MARKER, truncate_head, truncate_papers

from .leaderboard.test_leaderboard import (
    codes,
    edit_predictions,
    edit_results,
    messages,
)
from .test_evaluate_generator import review_text

DATE = "2026-02-01"
SERVED = {"base_url": "http://127.0.0.1:8000/v1", "model": "canned-reviewer"}


@pytest.fixture(scope="module")
def tokenizer(tiny_llama):
    return AutoTokenizer.from_pretrained(tiny_llama)


def _paper(pid: str, text: str) -> ReviewExample:
    return ReviewExample(paper_id=pid, title=pid, paper_text=text, ratings=(5.0,), accepted=None)


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "abc", "1e3", "", "true"])
def test_hostile_budget_from_the_command_line_is_one_clear_error(review5k_sample_build, text):
    options = parse_model_args(f"abstract_fallback=true,max_paper_tokens={text}")
    with pytest.raises(ValueError, match="max_paper_tokens must be a whole number of tokens >= 1"):
        get_task("review-5k").load(str(review5k_sample_build), "test", **options)


def test_huge_budget_cuts_nothing(tokenizer):
    papers = [_paper("a", "some words " * 200)]
    out = truncate_papers(papers, parse_model_args("max_paper_tokens=999999999999")["max_paper_tokens"], tokenizer)
    assert out.flags == [False] and out.examples[0] is papers[0] and out.summary["n_truncated"] == 0


def test_budget_smaller_than_the_marker_keeps_a_head_and_says_so(tokenizer):
    text = "attention improves sparse representations " * 30
    cut = truncate_head(text, 1, tokenizer)
    n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
    assert cut.truncated and cut.kept == 1 and cut.tokens == n
    head = cut.text[: -len(MARKER.format(kept=1, total=n))]
    assert head and text.startswith(head) and len(tokenizer(head, add_special_tokens=False)["input_ids"]) == 1
    assert cut.text.endswith(MARKER.format(kept=1, total=n))


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \n" * 200])
def test_whitespace_papers_are_counted_not_crashed(tokenizer, text):
    out = truncate_papers([_paper("w", text)], 2, tokenizer)
    summary = out.summary
    assert summary["n_truncated"] + summary["n_whole"] == summary["n_papers"] == 1
    shown = out.examples[0].paper_text
    if out.flags[0]:
        assert "paper truncated by cyclebench" in shown and text.startswith(shown.split("\n\n[...", 1)[0])
    else:
        assert shown == text


class _Recording(FakeBackend):
    """Canned reviews, recording how many requests reached the model."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sent = 0

    def generate(self, requests):
        self.sent += len(requests)
        return super().generate(requests)


def test_backend_without_tokenizer_fails_before_any_request(review5k_sample_build, tmp_path):
    canned = review_text([6, 8, 5, 6], "Accept")
    backend = _Recording(text=canned)
    config = ReviewRunConfig(task="review-5k", data=str(review5k_sample_build), protocol="cyclereviewer",
                             backend="fake", model_args={"text": canned}, limit=2, n_resamples=20,
                             task_options={"abstract_fallback": True, "max_paper_tokens": 16})
    with pytest.raises(ValueError, match="the fake backend has none"):
        run_review_evaluation(config, tmp_path / "run", backend=backend, progress=False)
    assert backend.sent == 0 and not (tmp_path / "run" / "predictions.jsonl").exists()


class _CannedServer(FakeBackend):
    """A model behind an OpenAI-compatible server (the fingerprint that backend writes), with a tokenizer as
    hf and vllm hold one, so a run can cut papers and its submission is judged as a model run."""

    name = "openai"

    def __init__(self, tokenizer, **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer

    @property
    def fingerprint(self) -> str:
        return json.dumps({"backend": "openai", **SERVED}, sort_keys=True)


def _cut_run(data: Path, out: Path, tokenizer, budget: int | None) -> Path:
    canned = review_text([6, 8, 5, 6], "Accept")
    options = {"abstract_fallback": True, **({"max_paper_tokens": budget} if budget else {})}
    config = ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="openai",
                             model_args=dict(SERVED), n_resamples=50, task_options=options)
    run_review_evaluation(config, out, backend=_CannedServer(tokenizer, text=canned), progress=False)
    return out


@pytest.fixture(scope="module")
def cut_runs(review5k_sample_build, tmp_path_factory, tokenizer):
    root = tmp_path_factory.mktemp("truncated-runs")
    papers = get_task("review-5k").load(str(review5k_sample_build), "test", abstract_fallback=True).examples
    sizes = sorted(len(tokenizer(e.paper_text, add_special_tokens=False)["input_ids"]) for e in papers)
    budget = sizes[len(sizes) // 2]  # the median: some papers cut, some whole
    return {name: _cut_run(review5k_sample_build, root / name, tokenizer, budget)
            for name, budget in (("cut", budget), ("cut-again", budget), ("whole", None))}


def _validate(folder: Path, data: Path):
    [outcome] = validate_submissions([folder], DatasetBuilds({"review-5k": [data]}), [])
    return outcome


def _hashes(run: Path) -> list[str]:
    return [json.loads(line)["request_hash"] for line in (run / "predictions.jsonl").read_text().splitlines()]


def test_same_inputs_same_request_hashes(cut_runs):
    assert _hashes(cut_runs["cut"]) == _hashes(cut_runs["cut-again"])
    assert _hashes(cut_runs["cut"]) != _hashes(cut_runs["whole"])


def test_a_submission_that_cut_papers_verifies(cut_runs, review5k_sample_build, tmp_path):
    results = json.loads((cut_runs["cut"] / "results.json").read_text())
    assert results["counts"]["truncation"]["n_truncated"] > 0  # the attacks need papers cut and papers whole
    assert results["counts"]["truncation"]["n_whole"] > 0
    outcome = _validate(submit(cut_runs["cut"], "cut", out=tmp_path, date=DATE, model_name="m"), review5k_sample_build)
    assert outcome.status == "verified", messages(outcome)
    whole = _validate(submit(cut_runs["whole"], "whole", out=tmp_path / "w", date=DATE, model_name="m"),
                      review5k_sample_build)
    assert whole.status == "verified", messages(whole)


def _submitted(cut_runs, tmp_path, run="cut"):
    return submit(cut_runs[run], run, out=tmp_path, date=DATE, model_name="m")


def _flip(rows, *, to: bool):
    row = next(r for r in rows if r["truncated"] is (not to))
    row["truncated"] = to


@pytest.mark.parametrize("attack", ["cut_says_whole", "whole_says_cut", "count_forged", "summary_dropped",
                                    "flag_dropped", "flag_not_bool", "flags_without_option"])
def test_forged_truncation_records_are_caught(cut_runs, review5k_sample_build, tmp_path, attack):
    folder = _submitted(cut_runs, tmp_path, "whole" if attack == "flags_without_option" else "cut")
    if attack == "cut_says_whole":  # hides a cut: the row's request is then not the whole paper's
        edit_predictions(folder, lambda rows: _flip(rows, to=False))
        edit_results(folder, lambda r: r["counts"]["truncation"].update(
            n_truncated=r["counts"]["truncation"]["n_truncated"] - 1, n_whole=r["counts"]["truncation"]["n_whole"] + 1))
        expected = "provenance"
    elif attack == "whole_says_cut":  # claims a cut that the whole paper's request hash contradicts
        edit_predictions(folder, lambda rows: _flip(rows, to=True))
        edit_results(folder, lambda r: r["counts"]["truncation"].update(
            n_truncated=r["counts"]["truncation"]["n_truncated"] + 1, n_whole=r["counts"]["truncation"]["n_whole"] - 1))
        expected = "provenance"
    elif attack == "count_forged":
        edit_results(folder, lambda r: r["counts"]["truncation"].update(n_truncated=0))
        expected = "truncation"
    elif attack == "summary_dropped":
        edit_results(folder, lambda r: r["counts"].pop("truncation"))
        expected = "truncation"
    elif attack == "flag_dropped":
        edit_predictions(folder, lambda rows: rows[0].pop("truncated"))
        expected = "truncation"
    elif attack == "flag_not_bool":
        def _stringify(rows):
            rows[0]["truncated"] = "yes"
        edit_predictions(folder, _stringify)
        expected = None  # the schema or the truncation check: either way rejected
    else:  # a run without the option claims its rows were cut
        def _claim(rows):
            for row in rows:
                row["truncated"] = False
        edit_predictions(folder, _claim)
        expected = "truncation"
    outcome = _validate(folder, review5k_sample_build)
    assert outcome.status == "rejected"
    if expected is not None:
        assert expected in codes(outcome), messages(outcome)
