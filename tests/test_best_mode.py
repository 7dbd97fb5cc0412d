"""DeepReviewer ``mode=best`` end to end with the fake backend and the BM25 retriever: the first answer's
questions are read, the retrieved abstracts go back as the next user turn, the second answer is the review;
what happened per paper lands in predictions.jsonl and results.json, and a rerun is answered by the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cyclebench.backends.base import GenerationResponse
from cyclebench.backends.fake import FakeBackend
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.protocols.deepreviewer import format_deepreviewer_output

ABSTRACTS = [
    {"id": "sam", "title": "Sharpness-Aware Minimization", "abstract": "Minimizing loss sharpness finds flat minima "
     "that generalize.", "year": 2021},
    {"id": "hessian", "title": "Hessian spectra", "abstract": "Hessian eigenvalues measure sharpness of minima."},
    {"id": "vit", "title": "Vision transformers", "abstract": "Transformers applied to image patches."},
]
QUESTIONS = ("\\boxed_questions{\n1. Which prior work finds flat minima by minimizing sharpness?\n"
             "2. How do Hessian eigenvalues measure sharpness?\n3. What are the costs of quantum annealing?\n}\n\n")


def _review(rating: float, decision: str) -> str:
    return format_deepreviewer_output({
        "rating": rating, "soundness": 3.0, "presentation": 3.0, "contribution": 3.0, "confidence": 4.0,
        "decision": decision, "sections": {"summary": "A summary.", "analysis": "Analysis."},
        "reviewers": [{"summary": "s", "rating": rating, "soundness": 3, "presentation": 3, "contribution": 3,
                       "confidence": 4}] * 4})


FIRST = QUESTIONS + _review(3.0, "reject")  # the first answer: questions, then a review written without search
SECOND = _review(8.0, "accept")  # the review written after the answers turn

pytestmark = pytest.mark.slow  # runs on the shared review-5k sample build (several seconds a test)


class TwoTurnFake(FakeBackend):
    """The fake backend answering the first turn (2 messages) and the answers turn (4 messages) differently;
    ``no_questions`` ids answer the first turn without questions, ``fail_second`` ids fail the second turn."""

    def __init__(self, no_questions: tuple[str, ...] = (), fail_second: tuple[str, ...] = (),
                 fail_first: tuple[str, ...] = ()):
        super().__init__(text="two-turn script v1")
        self.no_questions, self.fail_second, self.fail_first = set(no_questions), set(fail_second), set(fail_first)
        self.seen: list[tuple[str, tuple[dict[str, str], ...]]] = []

    def generate(self, requests):
        out = []
        for r in requests:
            self.calls.append(r.request_id)
            self.seen.append((r.request_id, r.messages))
            if len(r.messages) == 2 and r.request_id in self.fail_first:
                out.append(GenerationResponse(r.request_id, None, error="fake_failure"))
                continue
            if len(r.messages) == 2:
                text = _review(3.0, "reject") if r.request_id in self.no_questions else FIRST
            elif r.request_id in self.fail_second:
                out.append(GenerationResponse(r.request_id, None, error="fake_failure"))
                continue
            else:
                text = SECOND
            out.append(GenerationResponse(r.request_id, text, finish_reason="stop"))
        return out


def _abstracts(tmp_path: Path) -> Path:
    path = tmp_path / "abstracts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ABSTRACTS))
    return path


def _config(data: Path, abstracts: Path, **options) -> ReviewRunConfig:
    return ReviewRunConfig(task="review-5k", data=str(data), protocol="deepreviewer", backend="fake",
                           protocol_options={"mode": "best", "retriever": "bm25", "index": str(abstracts), "top_k": 2,
                                             **options}, limit=4, n_resamples=50)


def _predictions(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]


def test_best_mode_end_to_end_with_bm25(review5k_sample_build, tmp_path):
    backend = TwoTurnFake()
    results = run_review_evaluation(_config(review5k_sample_build, _abstracts(tmp_path)), tmp_path / "run",
                                    backend=backend, progress=False)
    n = results["counts"]["n_papers"]
    assert n == 4
    # two requests a paper: the first turn, then the answers turn
    assert len(backend.calls) == 2 * n
    second = [messages for _, messages in backend.seen if len(messages) == 4]
    assert len(second) == n
    system, paper, first, answers = second[0]
    assert first == {"role": "assistant", "content": FIRST}
    assert answers["role"] == "user" and answers["content"].startswith(
        "## Question 1:\nWhich prior work finds flat minima by minimizing sharpness?\n\n### Retrieved Passages:\n"
        "[1] Sharpness-Aware Minimization (2021)\nMinimizing loss sharpness")
    assert "## Question 3:\nWhat are the costs of quantum annealing?\n\n### Retrieved Passages:\nNo information retrieved." \
        in answers["content"]
    assert "Transformers applied" not in answers["content"]  # BM25 returns only what matches
    # the final review is the second answer's, parsed
    predictions = _predictions(tmp_path / "run")
    for p in predictions:
        assert p["output"] == SECOND and p["parsed"]["rating"] == 8.0 and p["parsed"]["decision"] == "accept"
        assert p["parsed"]["status"] == "ok" and "boxed_questions_missing" not in p["parsed"]["problems"]
        lit = p["notes"]["literature"]
        assert lit["status"] == "answered" and lit["retrieved"] == [2, 2, 0] and len(lit["questions"]) == 3
    counts = results["counts"]["literature"]
    assert counts["answered"] == n and counts["fell_back"] == 0 and counts["questions"] == 3 * n
    assert counts["questions_with_passages"] == 2 * n and counts["passages"] == 4 * n
    assert counts["search"]["retriever"]["n_documents"] == 3 and counts["search"]["top_k"] == 2
    assert "literature" in results["definitions"]
    assert results["protocol"]["options"]["literature"]["retriever"] == "bm25"

    # a rerun is answered from the caches: no request reaches the model, the same predictions come back
    rerun = TwoTurnFake()
    again = run_review_evaluation(_config(review5k_sample_build, _abstracts(tmp_path)), tmp_path / "run",
                                  backend=rerun, progress=False)
    assert rerun.calls == [] and _predictions(tmp_path / "run") == predictions
    assert again["counts"]["literature"]["answered"] == n


def test_fallbacks_are_counted_by_reason(review5k_sample_build, tmp_path):
    probe = TwoTurnFake()
    run_review_evaluation(_config(review5k_sample_build, _abstracts(tmp_path)), tmp_path / "probe", backend=probe,
                          progress=False)
    ids = list(dict.fromkeys(probe.calls))
    backend = TwoTurnFake(no_questions=(ids[0],), fail_second=(ids[1],))
    results = run_review_evaluation(_config(review5k_sample_build, _abstracts(tmp_path)), tmp_path / "run",
                                    backend=backend, progress=False)
    by_id = {p["paper_id"]: p for p in _predictions(tmp_path / "run")}
    no_q, failed = by_id[ids[0]], by_id[ids[1]]
    # no questions: the first answer is the review, one request
    assert no_q["notes"]["literature"]["reason"] == "no_questions" and no_q["parsed"]["rating"] == 3.0
    assert backend.calls.count(ids[0]) == 1
    # the answers turn failed: the first answer (which did not fail) is kept, and that is said
    assert failed["notes"]["follow_up_error"] == "round 2: fake_failure" and failed["parsed"]["rating"] == 3.0
    assert failed["generation_error"] is None
    counts = results["counts"]["literature"]
    assert counts["fell_back_reasons"] == {"no_questions": 1, "second_turn_failed": 1}
    assert counts["answered"] + counts["fell_back"] + counts["first_turn_failed"] == counts["n_papers"] == 4


def test_summarizer_answers_are_injected(review5k_sample_build, tmp_path):
    backend = TwoTurnFake()
    results = run_review_evaluation(
        _config(review5k_sample_build, _abstracts(tmp_path), summarizer="fake",
                summarizer_args="text=Prior work [1] minimizes sharpness."),
        tmp_path / "run", backend=backend, progress=False)
    answers = next(messages for _, messages in backend.seen if len(messages) == 4)[3]["content"]
    assert answers.count("### Answer:\nPrior work [1] minimizes sharpness.") == 2  # the two questions with passages
    assert "### Answer:\nNo answer retrieved." in answers  # the question nothing was found for
    counts = results["counts"]["literature"]
    assert counts["summarized"] == 2 * counts["n_papers"]
    assert counts["search"]["summarizer"]["backend"] == "fake"


def test_first_turn_failure_and_a_dead_literature_server(review5k_sample_build, tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probe = TwoTurnFake()
    run_review_evaluation(_config(review5k_sample_build, _abstracts(tmp_path)), tmp_path / "probe", backend=probe,
                          progress=False)
    backend = TwoTurnFake(fail_first=(probe.calls[0],))
    config = ReviewRunConfig(task="review-5k", data=str(review5k_sample_build), protocol="deepreviewer", backend="fake",
                             protocol_options={"mode": "best", "retriever": "s2", "s2_url": f"http://127.0.0.1:{port}/v1"},
                             limit=3, n_resamples=50)
    from cyclebench.retrieval import semantic_scholar
    from cyclebench.sources.http_fetch import HttpPolicy

    fast = HttpPolicy(min_interval=0.0, timeout=1.0, retries=1, backoff=0.01)
    original = semantic_scholar.SemanticScholarRetriever.__init__

    def quick(self, *args, **kw):
        original(self, *args, **{**kw, "policy": fast, "sleep": lambda s: None})

    monkeypatch.setattr(semantic_scholar.SemanticScholarRetriever, "__init__", quick)
    results = run_review_evaluation(config, tmp_path / "run", backend=backend, progress=False)
    counts = results["counts"]["literature"]
    assert counts["first_turn_failed"] == 1 and counts["fell_back_reasons"] == {"retrieval_failed": 2}
    assert counts["retrieval_errors"] == {"server_down": 6}  # 3 questions x 2 papers, all counted
    assert counts["answered"] + counts["fell_back"] + counts["first_turn_failed"] == 3
    rows = {p["paper_id"]: p for p in _predictions(tmp_path / "run")}
    assert rows[probe.calls[0]]["generation_error"] == "fake_failure" and "notes" not in rows[probe.calls[0]]
    assert [p["parsed"]["rating"] for i, p in rows.items() if i != probe.calls[0]] == [3.0, 3.0]
