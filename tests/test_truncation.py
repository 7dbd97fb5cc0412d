"""The task option max_paper_tokens: head-only cuts in the model's tokenizer, counted in results.json and per
prediction row; without it prompts, cache keys and prediction rows stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclebench.leaderboard.schema_check import schema_errors
from transformers import AutoTokenizer

from cyclebench.backends.fake import FakeBackend
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.records import ReviewExample
from cyclebench.tasks import get_task
from cyclebench.truncation import (
    MARKER,
    paper_tokenizer,
    truncate_head,
    truncate_papers,
)

from .test_evaluate_generator import review_text


@pytest.fixture(scope="module")
def tokenizer(tiny_llama):
    return AutoTokenizer.from_pretrained(tiny_llama)


class _SlowTokenizer:
    """A tokenizer without offsets (``is_fast`` False): one token per word."""

    is_fast = False

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": list(range(len(text.split())))}

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(f"w{i}" for i in ids)


def _paper(pid: str, text: str) -> ReviewExample:
    return ReviewExample(paper_id=pid, title=pid, paper_text=text, ratings=(5.0,), accepted=None)


def test_head_cut_keeps_the_first_tokens_and_says_so(tokenizer):
    text = "the paper proposes a method for learning sparse representations with attention " * 20
    n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
    cut = truncate_head(text, 10, tokenizer)
    assert cut.truncated and cut.tokens == n and cut.kept == 10
    head, marker = cut.text.split("\n\n[...", 1)
    assert text.startswith(head) and len(tokenizer(head, add_special_tokens=False)["input_ids"]) == 10
    assert cut.text.endswith(MARKER.format(kept=10, total=n)) and f"first 10 of {n} tokens" in marker
    whole = truncate_head(text, n, tokenizer)
    assert not whole.truncated and whole.text == text


def test_slow_tokenizer_cuts_by_decoding():
    cut = truncate_head("a b c d e", 2, _SlowTokenizer())
    assert cut.text == "w0 w1" + MARKER.format(kept=2, total=5)
    assert truncate_head("a b", 2, _SlowTokenizer()).text == "a b"


def test_truncate_papers_counts_reconcile(tokenizer):
    papers = [_paper("long", "results improve performance " * 50), _paper("short", "a short paper")]
    out = truncate_papers(papers, 16, tokenizer)
    assert out.flags == [True, False]
    assert out.examples[1] is papers[1] and out.examples[0].paper_text != papers[0].paper_text
    summary = out.summary
    assert summary["max_paper_tokens"] == 16 and summary["method"] == "head"
    assert summary["n_truncated"] + summary["n_whole"] == summary["n_papers"] == 2
    with pytest.raises(ValueError, match="max_paper_tokens must be a whole number"):
        truncate_papers(papers, 0, tokenizer)


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "many"])
def test_task_refuses_a_bad_budget(review5k_sample_build, value):
    with pytest.raises(ValueError, match="max_paper_tokens"):
        get_task("review-5k").load(str(review5k_sample_build), "test", max_paper_tokens=value)


def test_task_accepts_the_budget_and_loads_the_same_papers(review5k_sample_build):
    task = get_task("review-5k")
    plain = task.load(str(review5k_sample_build), "test", abstract_fallback=True)
    budgeted = task.load(str(review5k_sample_build), "test", abstract_fallback=True, max_paper_tokens=64)
    assert budgeted.examples == plain.examples  # the run cuts, with the model's tokenizer
    with pytest.raises(ValueError, match="max_paper_tokens"):  # the error lists it among the options
        task.load(str(review5k_sample_build), "test", max_paper_token=64)


def test_backend_without_tokenizer_is_refused():
    with pytest.raises(ValueError, match="the fake backend has none"):
        paper_tokenizer(FakeBackend(text="x"))


class _TokenizedFake(FakeBackend):
    """The fake backend with a tokenizer (as hf and vllm have), recording every prompt it is sent."""

    def __init__(self, tokenizer, **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.prompts: dict[str, str] = {}

    def generate(self, requests):
        for r in requests:
            self.prompts[r.request_id] = r.messages[-1]["content"]
        return super().generate(requests)


def _run(build: Path, out: Path, tokenizer, **task_options):
    canned = review_text([6, 8, 5, 6], "Accept")
    backend = _TokenizedFake(tokenizer, text=canned)
    config = ReviewRunConfig(task="review-5k", data=str(build), protocol="cyclereviewer", backend="fake",
                             model_args={"text": canned}, limit=4, n_resamples=20,
                             task_options={"abstract_fallback": True, **task_options})
    results = run_review_evaluation(config, out, backend=backend, progress=False)
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    return results, rows, backend.prompts


def test_run_records_truncation_and_keys_change_only_when_cut(review5k_sample_build, tmp_path, tokenizer):
    off, off_rows, off_prompts = _run(review5k_sample_build, tmp_path / "off", tokenizer)
    assert "truncation" not in off["counts"] and "truncation" not in off["definitions"]
    assert all("truncated" not in row for row in off_rows)

    roomy, roomy_rows, _ = _run(review5k_sample_build, tmp_path / "roomy", tokenizer, max_paper_tokens=10**9)
    assert roomy["counts"]["truncation"]["n_truncated"] == 0
    assert [r["request_hash"] for r in roomy_rows] == [r["request_hash"] for r in off_rows]
    assert all(row["truncated"] is False for row in roomy_rows)

    cut, cut_rows, cut_prompts = _run(review5k_sample_build, tmp_path / "cut", tokenizer, max_paper_tokens=32)
    summary = cut["counts"]["truncation"]
    assert summary["max_paper_tokens"] == 32 and summary["n_papers"] == len(cut_rows) == 4
    assert summary["n_truncated"] == sum(row["truncated"] for row in cut_rows) > 0
    assert summary["n_truncated"] + summary["n_whole"] == summary["n_papers"]
    assert cut["task"]["options"]["max_paper_tokens"] == 32 and "truncation" in cut["definitions"]
    for row, before in zip(cut_rows, off_rows):
        changed = row["request_hash"] != before["request_hash"]
        assert changed == row["truncated"]
        if row["truncated"]:
            assert "paper truncated by cyclebench" in cut_prompts[row["paper_id"]]
            assert "paper truncated by cyclebench" not in off_prompts[row["paper_id"]]
    assert schema_errors(cut, "results", 1, "results.json") == []
    for i, row in enumerate(cut_rows):
        assert schema_errors(row, "prediction-review", 1, f"predictions.jsonl:{i + 1}") == []
    # figures are scored against the same human ratings, on the same papers
    assert cut["counts"]["n_papers"] == off["counts"]["n_papers"]
