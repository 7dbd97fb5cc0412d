"""cyclebench.metrics.review (and the bootstrap under it): hand-computed cases, agreement with sklearn/scipy, the bootstrap's vectorised path."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyclebench import metrics as M
from cyclebench.metrics import review

# scipy / scikit-learn are only the reference implementations the agreement tests compare against; the module
# itself needs numpy alone.  Without them those tests skip.


def _scipy_stats():
    return pytest.importorskip("scipy.stats")


def _sklearn_metrics():
    return pytest.importorskip("sklearn.metrics")

# ----------------------------------------------------------------------------------------- hand-computed case
#
# paper  human ratings  mean  pred  true  predicted decision
# P1     6, 8           7     7     acc   acc
# P2     3, 5, 4        4     5     rej   (unparsed)
# P3     5              5     7     rej   acc
# P4     2, 4           3     NaN   rej   rej          <- rating failed to parse
#
# Reviewer = n (P1-P3): errors 0, 1, 2            -> MSE 5/3, MAE 1
# Reviewer = n-1, leave-one-out means:
#   P1: r=6 -> loo 8, r=8 -> loo 6;  human diffs -2, +2;        model (7): -1, +1
#   P2: sum 12; r=3 -> 4.5, r=5 -> 3.5, r=4 -> 4;  human -1.5, +1.5, 0;  model (5): 0.5, 1.5, 1
#   P3: single reviewer, excluded;  P4: model failed, excluded from both rows (same pairs), in human_all
#   human row  MSE (4+4+2.25+2.25+0)/5 = 2.5,   MAE (2+2+1.5+1.5+0)/5 = 1.4
#   model row  MSE (1+1+0.25+2.25+1)/5 = 1.1,   MAE (1+1+0.5+1.5+1)/5 = 1.0
#   human_all  adds P4: r=2 -> loo 4, r=4 -> loo 2: diffs -2, +2 -> MSE 20.5/7, MAE 11/7
# Decisions over P1, P3, P4 (P2 unparsed): TP=1 (P1), FP=1 (P3), TN=1 (P4), FN=0
#   accuracy 2/3; F1(acc) = 2/(2+1) = 2/3, F1(rej) = 2/(2+1) = 2/3 -> macro 2/3; recalls 1, 1/2 -> balanced 3/4
# AUC over P1-P3 (continuous rating): accept P1 (7) vs rejects P2 (5): 1, P3 (7): 1/2 -> 3/4
# Spearman over P1-P3: pred ranks (2.5, 1, 2.5), truth ranks (3, 1, 2): centred (.5, -1, .5) and (1, -1, 0)
#   -> 1.5 / sqrt(1.5 * 2) = sqrt(3)/2
# Pairwise over P1-P3: (P2<P3) 5<7 right, (P2<P1) 5<7 right, (P3<P1) 7=7 tie 1/2 -> 2.5/3 = 5/6

HR = [np.array([6.0, 8.0]), np.array([3.0, 5.0, 4.0]), np.array([5.0]), np.array([2.0, 4.0])]
PRED = np.array([7.0, 5.0, 7.0, np.nan])
TRUE = [True, False, False, False]
DEC = [True, None, True, False]


def test_hand_computed_functions():
    hm = M.human_means(HR)
    np.testing.assert_allclose(hm, [7, 4, 5, 3])
    assert M.rating_errors(PRED, hm) == pytest.approx({"mse": 5 / 3, "mae": 1.0, "n": 3})
    proxy = M.proxy_errors(PRED, HR)
    assert proxy == pytest.approx(
        {
            "human_mse": 2.5,
            "human_mae": 1.4,
            "model_mse": 1.1,
            "model_mae": 1.0,
            "human_all_mse": 20.5 / 7,
            "human_all_mae": 11 / 7,
            "n_papers": 2,
            "n_pairs": 5,
            "n_papers_all": 3,
            "n_pairs_all": 7,
            "n_single_reviewer": 1,
        }
    )
    dec = M.decision_metrics(TRUE, DEC)
    assert dec == pytest.approx(
        {"accuracy": 2 / 3, "macro_f1": 2 / 3, "accept_f1": 2 / 3, "balanced_accuracy": 0.75, "n": 3, "n_failed": 1,
         "n_truth_missing": 0}
    )
    assert M.roc_auc(PRED, TRUE) == pytest.approx(0.75)
    assert M.spearman(PRED, hm) == pytest.approx(math.sqrt(3) / 2)
    assert M.pairwise_accuracy(PRED, hm) == pytest.approx(5 / 6)
    # Pearson by hand: pred (7, 5, 7) mean 19/3, truth (7, 4, 5) mean 16/3
    dx, dy = np.array([2, -4, 2]) / 3, np.array([5, -4, -1]) / 3
    assert M.pearson(PRED, hm) == pytest.approx((dx @ dy) / math.sqrt((dx @ dx) * (dy @ dy)))


def test_hand_computed_suite():
    out = M.evaluate_reviews(HR, PRED, TRUE, DEC, n_resamples=0)
    assert (out["n_papers"], out["n_evaluated"], out["n_failed"]) == (4, 3, 1)
    assert (out["n_decision_evaluated"], out["n_decision_failed"], out["n_decision_truth_missing"]) == (3, 1, 0)
    assert (out["n_single_reviewer"], out["n_proxy_pairs"], out["n_ranking_pairs"]) == (1, 5, 3)
    m = out["metrics"]
    expected = {
        "rating_mse": (5 / 3, 3),
        "rating_mae": (1.0, 3),
        "proxy_model_mse": (1.1, 2),
        "proxy_model_mae": (1.0, 2),
        "proxy_human_mse": (2.5, 2),
        "proxy_human_mae": (1.4, 2),
        "proxy_human_all_mse": (20.5 / 7, 3),
        "proxy_human_all_mae": (11 / 7, 3),
        "decision_accuracy": (2 / 3, 3),
        "decision_macro_f1": (2 / 3, 3),
        # valid decisions: (accept, accept), (reject, accept), (reject, reject): TP 1, FP 1, TN 1, FN 0
        "decision_accept_f1": (2 / 3, 3),
        "decision_balanced_accuracy": (0.75, 3),
        "roc_auc": (0.75, 3),
        "spearman": (math.sqrt(3) / 2, 3),
        "pairwise_accuracy": (5 / 6, 3),
    }
    for name, (value, n) in expected.items():
        assert m[name]["value"] == pytest.approx(value), name
        assert m[name]["n"] == n, name
        assert m[name]["ci_low"] is None and m[name]["ci_high"] is None
    assert set(expected) | {"pearson"} == set(m)
    for key in ("proxy", "pairwise_accuracy", "roc_auc", "confidence_interval", "failed_parse"):
        assert key in out["definitions"]


def test_aspects_hand_computed():
    pred = {"soundness": [3.0, None, 2.0], "presentation": [2.0, 3.0, 1.0], "extra_only_pred": [1, 2, 3]}
    human = {
        "soundness": [np.array([3.0, 4.0]), np.array([2.0]), np.array([])],  # P3: no human score
        "presentation": [np.array([2.0, np.nan]), np.array([4.0, 4.0]), np.array([2.0, 3.0])],
    }
    out = M.aspect_errors(pred, human)
    assert list(out) == ["soundness", "presentation"]
    assert out["soundness"] == pytest.approx(
        {"mse": 0.25, "mae": 0.5, "n": 1, "n_missing": 2, "n_missing_pred": 1, "n_missing_human": 1}
    )
    # presentation: human means 2 (NaN entry dropped), 4, 2.5 -> errors 0, -1, -1.5
    assert out["presentation"]["mse"] == pytest.approx((0 + 1 + 2.25) / 3)
    assert out["presentation"]["mae"] == pytest.approx(2.5 / 3)
    suite = M.evaluate_reviews(
        HR[:3], PRED[:3], human_aspects=human, predicted_aspects=pred, n_resamples=20
    )
    assert suite["metrics"]["soundness_mse"]["value"] == pytest.approx(0.25)
    assert suite["aspect_counts"]["soundness"]["n_missing"] == 2


# ----------------------------------------------------------------------------------------- random data


def _data(seed: int, n: int = 200, fail: float = 0.1, dec_fail: float = 0.1):
    rng = np.random.default_rng(seed)
    k = rng.integers(1, 6, n)
    q = rng.normal(5, 1.2, n)
    hr = [np.clip(np.round(qq + rng.normal(0, 1.3, kk)), 1, 10) for qq, kk in zip(q, k)]
    pred = np.round(q + rng.normal(0, 1, n))  # integer predictions: plenty of ties
    pred[rng.random(n) < fail] = np.nan
    hm = M.human_means(hr)
    truth = hm >= np.median(hm)
    dec = (pred >= 5).astype(object)
    dec[rng.random(n) < dec_fail] = None
    return hr, pred, hm, truth, dec


def _brute_pairwise(pred, truth):
    num = den = 0.0
    for i in range(len(pred)):
        for j in range(i + 1, len(pred)):
            if truth[i] == truth[j]:
                continue
            den += 1
            s = np.sign(pred[j] - pred[i]) * np.sign(truth[j] - truth[i])
            num += 1.0 if s > 0 else 0.5 if s == 0 else 0.0
    return num / den if den else None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agreement_with_sklearn_and_scipy(seed):
    stats, skm = _scipy_stats(), _sklearn_metrics()
    spearmanr, pearsonr = stats.spearmanr, stats.pearsonr
    accuracy_score, balanced_accuracy_score = skm.accuracy_score, skm.balanced_accuracy_score
    f1_score, roc_auc_score = skm.f1_score, skm.roc_auc_score
    hr, pred, hm, truth, dec = _data(seed)
    ok = ~np.isnan(pred)
    assert M.spearman(pred, hm) == pytest.approx(spearmanr(pred[ok], hm[ok]).statistic, abs=1e-12)
    assert M.pearson(pred, hm) == pytest.approx(pearsonr(pred[ok], hm[ok]).statistic, abs=1e-12)
    assert M.roc_auc(pred, truth) == pytest.approx(roc_auc_score(truth[ok], pred[ok]), abs=1e-12)
    d_ok = np.array([d is not None for d in dec])
    t, d = truth[d_ok], dec[d_ok].astype(bool)
    got = M.decision_metrics(truth, dec)
    assert got["accuracy"] == pytest.approx(accuracy_score(t, d))
    assert got["macro_f1"] == pytest.approx(f1_score(t, d, average="macro"))
    assert got["accept_f1"] == pytest.approx(f1_score(t, d))
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(t, d))
    assert got["n"] == d_ok.sum() and got["n_failed"] == (~d_ok).sum()
    assert M.pairwise_accuracy(pred, hm) == pytest.approx(_brute_pairwise(pred[ok], hm[ok]), abs=1e-12)
    errs = M.rating_errors(pred, hm)
    assert errs["mse"] == pytest.approx(np.mean((pred[ok] - hm[ok]) ** 2))
    assert errs["mae"] == pytest.approx(np.mean(np.abs(pred[ok] - hm[ok])))


def test_decision_edge_cases_match_sklearn():
    skm = _sklearn_metrics()
    cases = [
        ([True, True, True], [True, True, True]),  # one class everywhere
        ([True, True, False], [True, True, True]),  # reject never predicted
        ([False, False, False], [True, False, True]),  # accept never true
    ]
    for t, d in cases:
        got = M.decision_metrics(t, d)
        with warnings.catch_warnings():  # sklearn warns about the missing class; we follow its definition
            warnings.simplefilter("ignore")
            want = (
                skm.accuracy_score(t, d),
                skm.f1_score(t, d, average="macro", zero_division=0.0),
                skm.balanced_accuracy_score(t, d),
            )
        assert (got["accuracy"], got["macro_f1"], got["balanced_accuracy"]) == pytest.approx(want)


@pytest.mark.parametrize("seed", [3, 4])
def test_pairwise_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 150
    truth = rng.integers(0, 6, n) / 2.0  # many ties in truth
    pred = rng.integers(0, 8, n).astype(float)  # many ties in prediction
    pred[rng.random(n) < 0.1] = np.nan
    ok = ~np.isnan(pred)
    assert M.pairwise_accuracy(pred, truth) == pytest.approx(_brute_pairwise(pred[ok], truth[ok]), abs=1e-12)


def test_pairwise_blocks_and_uncached_path(monkeypatch):
    rng = np.random.default_rng(5)
    n = 700  # several row blocks of 256
    truth, pred = rng.integers(0, 40, n) / 4.0, rng.normal(size=n).round(1)
    want = _brute_pairwise(pred, truth)
    assert M.pairwise_accuracy(pred, truth) == pytest.approx(want, abs=1e-12)
    monkeypatch.setattr(review, "_PAIR_CACHE_BYTES", 0)  # rebuild every block on the fly
    assert M.pairwise_accuracy(pred, truth) == pytest.approx(want, abs=1e-12)
    counts = M.bootstrap_counts(n, 3, seed=1)
    for b in range(3):
        idx = np.repeat(np.arange(n), counts[b].astype(int))
        assert M.pairwise_accuracy(pred, truth, weights=counts)[b] == pytest.approx(
            M.pairwise_accuracy(pred[idx], truth[idx]), abs=1e-12
        )


# ----------------------------------------------------------------------------------------- failures, one class


def test_nan_predictions_are_failed_not_zero():
    hr, pred, hm, truth, dec = _data(7, fail=0.25)
    ok = ~np.isnan(pred)
    full = M.evaluate_reviews(hr, pred, truth, n_resamples=0)
    sub = M.evaluate_reviews([h for h, o in zip(hr, ok) if o], pred[ok], truth[ok], n_resamples=0)
    assert full["n_failed"] == (~ok).sum() and full["n_evaluated"] == ok.sum()
    assert full["n_evaluated"] + full["n_failed"] == full["n_papers"]
    for name in ("rating_mse", "rating_mae", "proxy_model_mse", "proxy_model_mae", "roc_auc", "spearman",
                 "pearson", "pairwise_accuracy"):
        assert full["metrics"][name]["value"] == pytest.approx(sub["metrics"][name]["value"]), name
        assert full["metrics"][name]["n"] == sub["metrics"][name]["n"]
    zero = np.where(ok, pred, 0.0)
    assert M.rating_errors(zero, hm)["mse"] != pytest.approx(full["metrics"]["rating_mse"]["value"])
    # None and inf count as failures too
    as_list = [None if np.isnan(p) else p for p in pred]
    assert M.rating_errors(as_list, hm) == M.rating_errors(pred, hm)
    assert M.rating_errors(np.where(ok, pred, np.inf), hm) == M.rating_errors(pred, hm)


def test_one_class_auc_is_none():
    hm = np.array([5.0, 6.0, 7.0])
    assert M.roc_auc([5.0, 6.0, 7.0], [True, True, True]) is None
    assert M.roc_auc([5.0, np.nan, 7.0], [True, False, True]) is None  # the only reject failed to parse
    out = M.evaluate_reviews([np.array([x]) for x in hm], [5.0, 6.0, 7.0], [True] * 3, [True] * 3, n_resamples=50)
    fig = out["metrics"]["roc_auc"]
    assert fig["value"] is None and fig["ci_low"] is None and fig["ci_high"] is None
    assert out["metrics"]["decision_accuracy"]["value"] == 1.0
    w = M.roc_auc([1.0, 2.0, 3.0], [True, False, True], weights=np.array([[1, 0, 1], [1, 1, 1]]))
    assert np.isnan(w[0]) and w[1] == pytest.approx(0.5)


def test_constant_and_empty_cases():
    assert M.spearman([3.0, 3.0, 3.0], [1.0, 2.0, 3.0]) is None
    assert M.pearson([3.0, 3.0, 3.0], [1.0, 2.0, 3.0]) is None
    assert M.pairwise_accuracy([1.0, 2.0], [4.0, 4.0]) is None  # no strictly ordered pair
    assert M.pairwise_accuracy([np.nan, np.nan], [1.0, 2.0]) is None
    assert M.rating_errors([np.nan], [3.0]) == {"mse": None, "mae": None, "n": 0}
    out = M.evaluate_reviews([np.array([5.0])] * 3, [np.nan] * 3, n_resamples=20)
    assert out["n_failed"] == 3 and out["metrics"]["rating_mse"]["value"] is None


def test_input_validation():
    with pytest.raises(ValueError):
        M.human_means([np.array([5.0]), np.array([])])
    with pytest.raises(ValueError):
        M.human_means([np.array([5.0, np.nan])])
    with pytest.raises(ValueError):
        M.evaluate_reviews([np.array([5.0])] * 3, [1.0, 2.0])
    with pytest.raises(ValueError):
        M.decision_metrics([True, False], [True, 2])
    with pytest.raises(ValueError):
        M.evaluate_reviews([np.array([5.0])] * 2, [1.0, 2.0], predicted_decision=[True, False])
    with pytest.raises(ValueError):
        M.rating_errors([1.0, 2.0], [1.0, 2.0], weights=[[1, 1, 1]])
    with pytest.raises(ValueError):
        M.rating_errors([1.0, 2.0], [1.0, 2.0], weights=[-1, 1])


# ----------------------------------------------------------------------------------------- bootstrap


def test_bootstrap_counts():
    c = M.bootstrap_counts(37, 2500, seed=3)
    assert c.shape == (2500, 37)
    np.testing.assert_array_equal(c.sum(axis=1), 37)
    np.testing.assert_array_equal(c, M.bootstrap_counts(37, 2500, seed=3))
    np.testing.assert_array_equal(c[:1200], M.bootstrap_counts(37, 1200, seed=3))  # prefix-stable
    assert not np.array_equal(c, M.bootstrap_counts(37, 2500, seed=4))
    assert abs(c.mean() - 1.0) < 1e-12 and 0.9 < c.var() < 1.1  # Multinomial(n, 1/n): var ~ 1 - 1/n


def test_vectorised_resamples_equal_plain_metric_on_resampled_papers():
    hr, pred, hm, truth, dec = _data(11, n=120)
    truth = truth.astype(object)
    truth[5] = None  # one unknown true decision
    sound_p = np.round(np.random.default_rng(0).uniform(1, 4, 120))
    sound_p[::17] = np.nan
    sound_h = [np.array([3.0, 2.0]) if i % 13 else np.array([]) for i in range(120)]
    n, B = len(hr), 40
    counts = M.bootstrap_counts(n, B, seed=9)
    try:
        import scipy.stats as stats
    except ImportError:  # pragma: no cover - scipy is a test-only extra
        stats = None
    vec = {
        "rating": M.rating_errors(pred, hm, weights=counts),
        "proxy": M.proxy_errors(pred, hr, weights=counts),
        "decision": M.decision_metrics(truth, dec, weights=counts),
        "auc": M.roc_auc(pred, truth, weights=counts),
        "spearman": M.spearman(pred, hm, weights=counts),
        "pearson": M.pearson(pred, hm, weights=counts),
        "pairwise": M.pairwise_accuracy(pred, hm, weights=counts),
        "aspect": M.aspect_errors({"soundness": sound_p}, {"soundness": sound_h}, weights=counts)["soundness"],
    }
    for b in range(B):
        idx = np.repeat(np.arange(n), counts[b].astype(int))
        p, h, t, d = pred[idx], [hr[i] for i in idx], truth[idx], dec[idx]
        plain = {
            "rating": M.rating_errors(p, hm[idx]),
            "proxy": M.proxy_errors(p, h),
            "decision": M.decision_metrics(t, d),
            "auc": M.roc_auc(p, t),
            "spearman": M.spearman(p, hm[idx]),
            "pearson": M.pearson(p, hm[idx]),
            "pairwise": M.pairwise_accuracy(p, hm[idx]),
            "aspect": M.aspect_errors({"soundness": sound_p[idx]}, {"soundness": [sound_h[i] for i in idx]})[
                "soundness"
            ],
        }
        # the 1-D weights path is the same resample
        assert M.spearman(pred, hm, weights=counts[b]) == pytest.approx(plain["spearman"], abs=1e-12)
        for name, want in plain.items():
            got = vec[name]
            if isinstance(want, dict):
                for key, value in want.items():
                    if isinstance(got[key], np.ndarray):
                        assert got[key][b] == pytest.approx(value, abs=1e-12), (name, key, b)
            else:
                assert got[b] == pytest.approx(want, abs=1e-12), (name, b)
        if stats is not None:
            ok = ~np.isnan(p)
            assert vec["spearman"][b] == pytest.approx(stats.spearmanr(p[ok], hm[idx][ok]).statistic, abs=1e-12)


def test_evaluate_uses_the_same_resamples_as_bootstrap_ci():
    hr, pred, hm, truth, dec = _data(12, n=150)
    out = M.evaluate_reviews(hr, pred, truth, dec, n_resamples=300, seed=5)
    pairs = {
        "rating_mse": M.bootstrap_ci(M.rating_errors, pred, hm, n_resamples=300, seed=5)["mse"],
        "proxy_human_mse": M.bootstrap_ci(M.proxy_errors, pred, hr, n_resamples=300, seed=5)["human_mse"],
        "decision_macro_f1": M.bootstrap_ci(M.decision_metrics, truth, dec, n_resamples=300, seed=5)["macro_f1"],
        "roc_auc": M.bootstrap_ci(M.roc_auc, pred, truth, n_resamples=300, seed=5),
        "spearman": M.bootstrap_ci(M.spearman, pred, hm, n_resamples=300, seed=5),
        "pairwise_accuracy": M.bootstrap_ci(M.pairwise_accuracy, pred, hm, n_resamples=300, seed=5),
    }
    for name, ci in pairs.items():
        fig = out["metrics"][name]
        assert (fig["value"], fig["ci_low"], fig["ci_high"]) == pytest.approx(
            (ci["value"], ci["ci_low"], ci["ci_high"]), abs=1e-12
        ), name
        assert fig["ci_low"] <= fig["ci_high"] and fig["n_resamples"] == 300
    # by hand: percentiles of the per-resample values
    counts = M.bootstrap_counts(len(hr), 300, seed=5)
    s = M.spearman(pred, hm, weights=counts)
    np.testing.assert_allclose(
        [out["metrics"]["spearman"]["ci_low"], out["metrics"]["spearman"]["ci_high"]], np.percentile(s, [2.5, 97.5])
    )
    assert "B = 300" in out["definitions"]["confidence_interval"]


def test_bootstrap_ci_nested_and_explicit_n():
    pred = {"soundness": [3.0, 2.0, 4.0, 1.0, np.nan]}
    human = {"soundness": [np.array([3.0]), np.array([2.0, 3.0]), np.array([4.0]), np.array([2.0]), np.array([1.0])]}
    ci = M.bootstrap_ci(M.aspect_errors, pred, human, n_resamples=200, seed=2, n_papers=5)
    fig = ci["soundness"]["mse"]
    assert fig["value"] == pytest.approx((0 + 0.25 + 0 + 1) / 4)
    assert fig["n"] == 4 and 0 <= fig["ci_low"] <= fig["ci_high"]
    assert ci["soundness"]["n_missing"] == 1


def test_percentile_interval():
    assert M.percentile_interval([1.0, np.nan, 3.0, 2.0]) == (
        pytest.approx(np.percentile([1, 2, 3], 2.5)),
        pytest.approx(np.percentile([1, 2, 3], 97.5)),
        3,
    )
    assert M.percentile_interval([np.nan, 1.0]) == (None, None, 1)


# ----------------------------------------------------------------------------------------- properties

_scores = st.one_of(st.floats(1, 10, allow_nan=False), st.just(float("nan")))


@st.composite
def _suites(draw):
    n = draw(st.integers(1, 25))
    hr = [np.array(draw(st.lists(st.integers(1, 10), min_size=1, max_size=5)), dtype=float) for _ in range(n)]
    pred = np.array(draw(st.lists(_scores, min_size=n, max_size=n)))
    truth = draw(st.lists(st.sampled_from([True, False, None]), min_size=n, max_size=n))
    dec = draw(st.lists(st.sampled_from([True, False, None]), min_size=n, max_size=n))
    return hr, pred, truth, dec


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_suites())
def test_properties(data):
    hr, pred, truth, dec = data
    out = M.evaluate_reviews(hr, pred, truth, dec, n_resamples=30, seed=1)
    n = len(hr)
    assert out["n_evaluated"] + out["n_failed"] == out["n_papers"] == n
    assert out["n_failed"] == int(np.isnan(pred).sum())
    assert out["n_decision_evaluated"] + out["n_decision_failed"] + out["n_decision_truth_missing"] == n
    assert out["n_single_reviewer"] == sum(len(h) < 2 for h in hr)
    m = out["metrics"]
    for name, fig in m.items():
        for key in ("value", "ci_low", "ci_high"):
            v = fig[key]
            if v is None:
                continue
            if name.endswith(("_mse", "_mae")):
                assert v >= 0, (name, key)
            elif name == "pairwise_accuracy" or name.startswith(("decision_", "roc_")):
                assert -1e-12 <= v <= 1 + 1e-12, (name, key)
            else:
                assert -1 - 1e-12 <= v <= 1 + 1e-12, (name, key)
        if fig["ci_low"] is not None:
            assert fig["ci_low"] <= fig["ci_high"]
    assert m["rating_mse"]["n"] == out["n_evaluated"]
    assert m["decision_accuracy"]["n"] == out["n_decision_evaluated"]
    pw = M.pairwise_accuracy(pred, M.human_means(hr))
    ok = ~np.isnan(pred)
    assert pw == (None if pw is None else pytest.approx(_brute_pairwise(pred[ok], M.human_means(hr)[ok])))
