"""Review metrics: a reviewer model's ratings, decisions and aspect scores against the human reviews.

Per paper (REFERENCE.md section 4): rating MSE/MAE against the mean human rating ("Reviewer = n") and the
leave-one-out proxy ("Reviewer = n-1"), decision accuracy / F1 / balanced accuracy, ROC AUC, Spearman,
Pearson, pairwise ranking accuracy, aspect errors; :func:`evaluate_reviews` computes them all over shared
bootstrap resamples, :func:`score_predictions` from the records of a run.  Input conventions and weights:
see :mod:`cyclebench.metrics`.  Pure functions over arrays and records: no I/O, no backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cyclebench.metrics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_RESAMPLES,
    DEFAULT_SEED,
    figure,
    interval_definition,
    run_suite,
)
from cyclebench.metrics.plans import (
    Array,
    Plan,
    Ranker,
    apply_plan,
    as_decisions,
    as_scores,
    check_len,
    masked_weights,
    ragged,
    safe_div,
    scratch,
)
from cyclebench.records import ParsedReview, ReviewExample

ASPECTS = ("soundness", "presentation", "contribution", "confidence")

# Upper bound (bytes) on the cached pair-sign blocks of pairwise_accuracy; beyond it they are rebuilt per block.
_PAIR_CACHE_BYTES = 256 << 20
_PAIR_ROWS = 256


def human_means(human_ratings: Sequence[Any]) -> Array:
    """Ground truth per paper: the mean of its human reviewers' scores ("Reviewer = n")."""
    flat, pid = ragged(human_ratings, "human_ratings", strict=True)
    n = len(human_ratings)
    return np.bincount(pid, flat, minlength=n) / np.bincount(pid, minlength=n)



class _ErrorPlan(Plan):
    """MSE / MAE of pred against target over papers where both are finite."""

    def __init__(self, pred: Array, target: Array):
        valid = np.isfinite(pred) & np.isfinite(target)
        e = np.where(valid, pred - np.where(valid, target, 0.0), 0.0)
        self.features = np.column_stack([valid, e * e, np.abs(e)]).astype(float)
        self.counts = {"n": int(valid.sum())}

    def finish(self, sums, wt, cache):
        return {"mse": safe_div(sums[1], sums[0]), "mae": safe_div(sums[2], sums[0])}


class _ProxyPlan(Plan):
    """"Reviewer = n-1": each human score against the leave-one-out mean of the paper's other reviewers."""

    def __init__(self, pred: Array, human_ratings: Sequence[Any]):
        flat, pid = ragged(human_ratings, "human_ratings", strict=True)
        n = len(human_ratings)
        k = np.bincount(pid, minlength=n).astype(float)
        total = np.bincount(pid, flat, minlength=n)
        multi = k >= 2
        kp = k[pid]
        loo = np.where(kp >= 2, (total[pid] - flat) / np.maximum(kp - 1, 1), np.nan)
        dh = flat - loo
        p = pred[pid]
        dm = np.where(np.isfinite(p), p, 0.0) - loo
        ok = kp >= 2

        def per_paper(v):
            return np.bincount(pid[ok], v[ok], minlength=n)

        hs, ha, ms, ma = per_paper(dh * dh), per_paper(np.abs(dh)), per_paper(dm * dm), per_paper(np.abs(dm))
        both = multi & np.isfinite(pred)
        b, m = both.astype(float), multi.astype(float)
        self.features = np.column_stack([b * k, b * hs, b * ha, b * ms, b * ma, m * k, m * hs, m * ha])
        self.counts = {
            "n_papers": int(both.sum()),
            "n_pairs": int(k[both].sum()),
            "n_papers_all": int(multi.sum()),
            "n_pairs_all": int(k[multi].sum()),
            "n_single_reviewer": int((~multi).sum()),
        }

    def finish(self, sums, wt, cache):
        return {
            "model_mse": safe_div(sums[3], sums[0]),
            "model_mae": safe_div(sums[4], sums[0]),
            "human_mse": safe_div(sums[1], sums[0]),
            "human_mae": safe_div(sums[2], sums[0]),
            "human_all_mse": safe_div(sums[6], sums[5]),
            "human_all_mae": safe_div(sums[7], sums[5]),
        }


class _DecisionPlan(Plan):
    """Accuracy, macro-F1, F1 of the accept class and balanced accuracy of decisions (sklearn's definitions).

    The accept-class F1 is sklearn's default binary F1 (positive = accept), the figure the AI Scientist
    paper reports; macro-F1 is the CycleReviewer tables' figure."""

    def __init__(self, truth: Array, decided: Array):
        valid = np.isfinite(truth) & np.isfinite(decided)
        t, d = valid & (truth == 1), valid & (decided == 1)
        tp, fn = t & d, t & ~d
        fp, tn = valid & ~t & d, valid & ~t & ~d
        self.features = np.column_stack([valid, tp, fn, fp, tn]).astype(float)
        self.counts = {
            "n": int(valid.sum()),
            "n_failed": int((np.isfinite(truth) & ~np.isfinite(decided)).sum()),
            "n_truth_missing": int((~np.isfinite(truth)).sum()),
        }

    def finish(self, sums, wt, cache):
        n, tp, fn, fp, tn = sums
        acc = safe_div(tp + tn, n)
        # F1 per class = 2TP / (2TP + FP + FN); macro = mean over the classes that occur in the truth or the
        # predictions (sklearn's f1_score(average="macro")).
        f_pos_den, f_neg_den = 2 * tp + fp + fn, 2 * tn + fn + fp
        f_pos, f_neg = safe_div(2 * tp, f_pos_den), safe_div(2 * tn, f_neg_den)
        macro = safe_div(np.nan_to_num(f_pos) + np.nan_to_num(f_neg), (f_pos_den > 0) * 1.0 + (f_neg_den > 0))
        # balanced accuracy = mean recall over the classes present in the truth (sklearn).
        r_pos, r_neg = safe_div(tp, tp + fn), safe_div(tn, tn + fp)
        bal = safe_div(np.nan_to_num(r_pos) + np.nan_to_num(r_neg), (tp + fn > 0) * 1.0 + (tn + fp > 0))
        return {"accuracy": acc, "macro_f1": macro, "accept_f1": f_pos, "balanced_accuracy": bal}


class _PearsonPlan(Plan):
    def __init__(self, x: Array, y: Array):
        valid = np.isfinite(x) & np.isfinite(y)
        xc = np.where(valid, x - (x[valid].mean() if valid.any() else 0.0), 0.0)
        yc = np.where(valid, y - (y[valid].mean() if valid.any() else 0.0), 0.0)
        self.features = np.column_stack([valid, xc, yc, xc * xc, yc * yc, xc * yc]).astype(float)
        self.counts = {"n": int(valid.sum())}

    def finish(self, sums, wt, cache):
        w, sx, sy, sxx, syy, sxy = sums
        with np.errstate(divide="ignore", invalid="ignore"):
            mx, my = sx / w, sy / w
            cov = sxy - w * mx * my
            vx, vy = sxx - w * mx * mx, syy - w * my * my
            # a side is constant when its variance is rounding noise relative to its own second moment
            ok = (w > 0) & (vx > 1e-12 * sxx) & (vy > 1e-12 * syy)
            r = np.where(ok, cov / np.sqrt(np.abs(vx * vy)), np.nan)
        return {"pearson": np.clip(r, -1.0, 1.0)}



class _SpearmanPlan(Plan):
    """Spearman = Pearson correlation of the (weighted) mid-ranks."""

    def __init__(self, x: Array, y: Array, names: tuple[str, str] = ("x", "y")):
        valid = np.isfinite(x) & np.isfinite(y)
        self.valid = valid
        self.mask_key = ("mask", valid.tobytes())
        self.rx = Ranker(np.where(valid, x, np.nan), (names[0], valid.tobytes()))
        self.ry = Ranker(np.where(valid, y, np.nan), (names[1], valid.tobytes()))
        self.features = valid[:, None].astype(float)
        self.counts = {"n": int(valid.sum())}

    def finish(self, sums, wt, cache):
        w = masked_weights(wt, self.valid, self.mask_key, cache)
        rx, sxx = self.rx.ranks(w, cache)
        ry, syy = self.ry.ranks(w, cache)
        sxy = np.einsum("ib,ib,ib->b", w, rx, ry)
        tot = sums[0]
        c = tot * ((tot + 1.0) / 2.0) ** 2  # sum of w * mean_rank**2; the mean rank is (W + 1) / 2
        vx, vy = sxx - c, syy - c
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where((vx > 1e-9) & (vy > 1e-9), (sxy - c) / np.sqrt(vx * vy), np.nan)
        return {"spearman": np.clip(r, -1.0, 1.0)}


class _AucPlan(Plan):
    """ROC AUC of the continuous score against the true decision, by the Mann-Whitney rank formula:
    AUC = (sum of positives' mid-ranks - P (P + 1) / 2) / (P N), P / N = weight of accepts / rejects."""

    def __init__(self, score: Array, truth: Array, name: str = "x"):
        valid = np.isfinite(score) & np.isfinite(truth)
        self.valid = valid
        self.mask_key = ("mask", valid.tobytes())
        self.pos = (valid & (truth == 1)).astype(float)
        self.ranker = Ranker(np.where(valid, score, np.nan), (name, valid.tobytes()))
        self.features = np.column_stack([valid & (truth == 1), valid & (truth == 0)]).astype(float)
        self.counts = {"n": int(valid.sum())}

    def finish(self, sums, wt, cache):
        w = masked_weights(wt, self.valid, self.mask_key, cache)
        r, _ = self.ranker.ranks(w, cache)
        p, q = sums
        u = np.einsum("i,ib,ib->b", self.pos, w, r) - p * (p + 1.0) / 2.0
        return {"roc_auc": safe_div(u, p * q)}


class _PairwisePlan(Plan):
    """Pairwise ranking accuracy.

    Over ordered pairs (i, j) with truth y_i < y_j (pairs tied in truth excluded):
    accuracy = sum w_i w_j s_ij / sum w_i w_j, s_ij = 1 if p_i < p_j, 1/2 if p_i == p_j, 0 otherwise.
    With s_ij = (1 + sign(p_j - p_i)) / 2:  accuracy = 1/2 + q / (2 D), where
    D = sum_{y_i < y_j} w_i w_j = (W^2 - sum over truth-tie groups of W_g^2) / 2 and
    q = w' K w, K_ij = [y_i < y_j] sign(p_j - p_i).  With the papers sorted by y, K is upper triangular; q is
    computed for all resamples at once by float32 matrix products over row blocks of K (exact for integer
    weights: every partial sum in the product is an integer of magnitude <= the resample size < 2^24).
    """

    def __init__(self, pred: Array, truth: Array, names: tuple[str, str] = ("x", "y")):
        valid = np.isfinite(pred) & np.isfinite(truth)
        self.valid = valid
        self.mask_key = ("mask", valid.tobytes())
        self.ranker = Ranker(np.where(valid, truth, np.nan), (names[1], valid.tobytes()))
        m = int(valid.sum())
        self.m = m
        order = self.ranker.order[:m]  # valid papers by increasing truth (NaN sort last)
        self.ys, self.ps = truth[order], pred[order]
        sizes = np.diff(np.r_[self.ranker.starts[self.ranker.starts < m], m])
        group_end = np.repeat(np.cumsum(sizes), sizes)  # first sorted index with a strictly larger y
        self.blocks = []
        cached = 0
        for a in range(0, m, _PAIR_ROWS):
            b = min(a + _PAIR_ROWS, m)
            j0 = int(group_end[a])
            if j0 >= m:
                break
            cached += (b - a) * (m - j0) * 4
            self.blocks.append((a, b, j0, self._block(a, b, j0) if cached <= _PAIR_CACHE_BYTES else None))
        self.features = np.zeros((pred.size, 0))
        self.counts = {"n": m, "n_pairs": int((m * m - int((sizes * sizes).sum())) // 2)}

    def _block(self, a: int, b: int, j0: int) -> Array:
        ys, ps = self.ys, self.ps
        k = np.sign(ps[None, j0:] - ps[a:b, None]).astype(np.float32)
        k *= ys[None, j0:] > ys[a:b, None]
        return k

    def finish(self, sums, wt, cache):
        w = masked_weights(wt, self.valid, self.mask_key, cache)
        g = self.ranker.group_weights(w, cache)
        tot = g.sum(axis=0)
        d = 0.5 * (tot * tot - np.einsum("gb,gb->b", g, g))
        w32 = scratch(cache, ("float32",) + self.ranker.key, (self.m, w.shape[1]), np.float32)
        np.copyto(w32, self.ranker.sorted_weights(w, cache)[: self.m], casting="same_kind")
        q = np.zeros(wt.shape[1])
        for a, b, j0, k in self.blocks:
            part = (self._block(a, b, j0) if k is None else k) @ w32[j0:]
            q += np.einsum("ib,ib->b", w32[a:b], part, dtype=np.float64)
        return {"pairwise_accuracy": 0.5 + safe_div(q, 2.0 * d)}



# --------------------------------------------------------------------------------------------- public metrics


def rating_errors(pred: Any, human_means: Any, weights: Any = None) -> dict[str, Any]:
    """"Reviewer = n": ``mse`` = mean over papers of (pred - mean of all n human scores)^2, ``mae`` the same
    with |.|; papers whose prediction is NaN (failed parse) are excluded.  ``n`` = papers used."""
    p, t = as_scores(pred, "pred"), as_scores(human_means, "human_means")
    check_len(len(p), human_means=t)
    return apply_plan(_ErrorPlan(p, t), weights)


def proxy_errors(pred: Any, human_ratings: Sequence[Any], weights: Any = None) -> dict[str, Any]:
    """"Reviewer = n-1" proxy.

    For each paper with n >= 2 reviewers and a parsed prediction, and each reviewer j, the leave-one-out mean
    loo_j = (sum of the paper's scores - r_j) / (n - 1).  Over all such (paper, j) pairs:
    ``human_mse`` = mean (r_j - loo_j)^2, ``human_mae`` = mean |r_j - loo_j| (the human row);
    ``model_mse`` = mean (pred - loo_j)^2, ``model_mae`` = mean |pred - loo_j| (the model row, same pairs).
    ``human_all_*``: the human row over every paper with n >= 2, whether or not the model parsed.
    Papers with n < 2 are excluded (``n_single_reviewer``).  Under weights, a paper's pairs all carry its weight.
    """
    p = as_scores(pred, "pred")
    check_len(len(p), human_ratings=human_ratings)
    return apply_plan(_ProxyPlan(p, human_ratings), weights)


def decision_metrics(true_decision: Any, predicted_decision: Any, weights: Any = None) -> dict[str, Any]:
    """Accept/reject decision metrics over papers with a known true and a parsed predicted decision.

    ``accuracy`` = share correct; ``macro_f1`` = mean of F1(accept) and F1(reject), F1 = 2TP / (2TP + FP + FN),
    over the classes present in truth or prediction (= sklearn ``f1_score(average="macro")``);
    ``balanced_accuracy`` = mean recall over the classes present in the truth (= sklearn).
    ``n_failed`` = papers whose predicted decision did not parse (excluded, never scored as reject)."""
    t, d = as_decisions(true_decision, "true_decision"), as_decisions(predicted_decision, "predicted_decision")
    check_len(len(t), predicted_decision=d)
    return apply_plan(_DecisionPlan(t, d), weights)


def roc_auc(pred: Any, true_decision: Any, weights: Any = None) -> Any:
    """ROC AUC of the continuous predicted rating against the true accept decision (not the binary decision):
    probability that an accepted paper is rated above a rejected one, ties 1/2.  ``None`` (NaN in vector mode)
    when only one class is present.  Papers with NaN prediction or unknown truth are excluded."""
    p, t = as_scores(pred, "pred"), as_decisions(true_decision, "true_decision")
    check_len(len(p), true_decision=t)
    return apply_plan(_AucPlan(p, t), weights)["roc_auc"]


def spearman(pred: Any, human_means: Any, weights: Any = None) -> Any:
    """Spearman rank correlation of predicted vs mean human rating (average ranks for ties); ``None`` when
    either side is constant."""
    p, t = as_scores(pred, "pred"), as_scores(human_means, "human_means")
    check_len(len(p), human_means=t)
    return apply_plan(_SpearmanPlan(p, t), weights)["spearman"]


def pearson(pred: Any, human_means: Any, weights: Any = None) -> Any:
    """Pearson correlation of predicted vs mean human rating; ``None`` when either side is constant."""
    p, t = as_scores(pred, "pred"), as_scores(human_means, "human_means")
    check_len(len(p), human_means=t)
    return apply_plan(_PearsonPlan(p, t), weights)["pearson"]


def pairwise_accuracy(pred: Any, human_means: Any, weights: Any = None) -> Any:
    """Share of paper pairs with a strict true order (ties in the human mean excluded) that the prediction
    orders the same way; a tie in the prediction counts 1/2.  ``None`` when no pair is strictly ordered."""
    p, t = as_scores(pred, "pred"), as_scores(human_means, "human_means")
    check_len(len(p), human_means=t)
    return apply_plan(_PairwisePlan(p, t), weights)["pairwise_accuracy"]


def _aspect_plans(
    predicted_aspects: Mapping[str, Any], human_aspects: Mapping[str, Sequence[Any]], n: int | None
) -> dict[str, _ErrorPlan]:
    plans = {}
    names = [a for a in ASPECTS if a in predicted_aspects and a in human_aspects]
    names += sorted(k for k in predicted_aspects.keys() & human_aspects.keys() if k not in ASPECTS)
    for name in names:
        p = as_scores(predicted_aspects[name], f"predicted_aspects[{name!r}]")
        rows = human_aspects[name]
        expected = len(p) if n is None else n
        check_len(expected, **{f"predicted_aspects[{name!r}]": p, f"human_aspects[{name!r}]": rows})
        flat, pid = ragged(rows, f"human_aspects[{name!r}]", strict=False)
        k = np.bincount(pid, minlength=len(rows))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(pid, flat, minlength=len(rows)) / k
        plan = _ErrorPlan(p, mean)
        plan.counts = {
            "n": plan.counts["n"],
            "n_missing": len(p) - plan.counts["n"],
            "n_missing_pred": int((~np.isfinite(p)).sum()),
            "n_missing_human": int((k == 0).sum()),
        }
        plans[name] = plan
    return plans


def aspect_errors(
    predicted_aspects: Mapping[str, Any], human_aspects: Mapping[str, Sequence[Any]], weights: Any = None
) -> dict[str, dict[str, Any]]:
    """Per aspect (soundness, presentation, contribution, confidence, or any other key present on both sides):
    MSE / MAE of the predicted score against the mean of the human scores, over papers where the prediction is
    finite and at least one human score is finite (non-finite human entries are dropped).  Skipped papers are
    counted: ``n_missing`` (= ``n_missing_pred`` and/or ``n_missing_human``)."""
    plans = _aspect_plans(predicted_aspects, human_aspects, None)
    return {name: apply_plan(plan, weights) for name, plan in plans.items()}



# --------------------------------------------------------------------------------------------- suites


def evaluate_reviews(
    human_ratings: Sequence[Any],
    predicted: Any,
    true_decision: Any = None,
    predicted_decision: Any = None,
    *,
    human_aspects: Mapping[str, Sequence[Any]] | None = None,
    predicted_aspects: Mapping[str, Any] | None = None,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """The full review-evaluation suite with paper-level bootstrap intervals.

    Returns ``{"metrics": {figure: {"value", "ci_low", "ci_high", "n", "n_resamples"}}, counts...,
    "definitions": {...}}``.  ``value``/``ci_*`` are ``None`` where undefined (e.g. AUC with one class).
    Decision figures need ``true_decision`` and ``predicted_decision``; AUC needs ``true_decision``; aspect
    figures need both aspect mappings.  ``n_resamples=0`` skips the bootstrap (intervals ``None``)."""
    n = len(human_ratings)
    if n == 0:
        raise ValueError("no papers to evaluate")
    pred = as_scores(predicted, "predicted")
    check_len(n, predicted=pred)
    hm = human_means(human_ratings)
    plans: dict[str, Plan] = {
        "rating": _ErrorPlan(pred, hm),
        "proxy": _ProxyPlan(pred, human_ratings),
        "spearman": _SpearmanPlan(pred, hm, names=("pred", "human")),
        "pearson": _PearsonPlan(pred, hm),
        "pairwise": _PairwisePlan(pred, hm, names=("pred", "human")),
    }
    truth = None
    if predicted_decision is not None and true_decision is None:
        raise ValueError("predicted_decision given without true_decision")
    if true_decision is not None:
        truth = as_decisions(true_decision, "true_decision")
        check_len(n, true_decision=truth)
        plans["auc"] = _AucPlan(pred, truth, name="pred")
        if predicted_decision is not None:
            dec = as_decisions(predicted_decision, "predicted_decision")
            check_len(n, predicted_decision=dec)
            plans["decision"] = _DecisionPlan(truth, dec)
    aspect_plans = {}
    if human_aspects is not None and predicted_aspects is not None:
        aspect_plans = _aspect_plans(predicted_aspects, human_aspects, n)
        plans.update({f"aspect:{k}": v for k, v in aspect_plans.items()})

    point, samples = run_suite(plans, n, n_resamples, seed)
    empty = np.full(0, np.nan)

    def fig(plan: str, key: str, count: str = "n") -> dict[str, Any]:
        s = samples[plan][key] if samples is not None else empty
        return figure(point[plan][key], s, plans[plan].counts[count], confidence)

    metrics: dict[str, Any] = {
        "rating_mse": fig("rating", "mse"),
        "rating_mae": fig("rating", "mae"),
        "proxy_model_mse": fig("proxy", "model_mse", "n_papers"),
        "proxy_model_mae": fig("proxy", "model_mae", "n_papers"),
        "proxy_human_mse": fig("proxy", "human_mse", "n_papers"),
        "proxy_human_mae": fig("proxy", "human_mae", "n_papers"),
        "proxy_human_all_mse": fig("proxy", "human_all_mse", "n_papers_all"),
        "proxy_human_all_mae": fig("proxy", "human_all_mae", "n_papers_all"),
    }
    if "decision" in plans:
        metrics["decision_accuracy"] = fig("decision", "accuracy")
        metrics["decision_macro_f1"] = fig("decision", "macro_f1")
        metrics["decision_accept_f1"] = fig("decision", "accept_f1")
        metrics["decision_balanced_accuracy"] = fig("decision", "balanced_accuracy")
    if "auc" in plans:
        metrics["roc_auc"] = fig("auc", "roc_auc")
    metrics["spearman"] = fig("spearman", "spearman")
    metrics["pearson"] = fig("pearson", "pearson")
    metrics["pairwise_accuracy"] = fig("pairwise", "pairwise_accuracy")
    for name in aspect_plans:
        metrics[f"{name}_mse"] = fig(f"aspect:{name}", "mse")
        metrics[f"{name}_mae"] = fig(f"aspect:{name}", "mae")

    proxy = plans["proxy"].counts
    out: dict[str, Any] = {
        "n_papers": n,
        "n_evaluated": int(np.isfinite(pred).sum()),
        "n_failed": int((~np.isfinite(pred)).sum()),
        "n_single_reviewer": proxy["n_single_reviewer"],
        "n_proxy_pairs": proxy["n_pairs"],
        "n_ranking_pairs": plans["pairwise"].counts["n_pairs"],
    }
    if "decision" in plans:
        c = plans["decision"].counts
        out["n_decision_evaluated"] = c["n"]
        out["n_decision_failed"] = c["n_failed"]
        out["n_decision_truth_missing"] = c["n_truth_missing"]
    elif truth is not None:
        out["n_decision_truth_missing"] = int((~np.isfinite(truth)).sum())
    if aspect_plans:
        out["aspect_counts"] = {k: dict(v.counts) for k, v in aspect_plans.items()}
    out["metrics"] = metrics
    out["definitions"] = _definitions(n_resamples, seed, confidence)
    return out

def _definitions(n_resamples: int, seed: int, confidence: float) -> dict[str, str]:
    return {
        "ground_truth": "per paper, the mean of its human reviewers' ratings",
        "failed_parse": "a NaN/non-finite predicted rating (or unparsed decision) is excluded from the metrics "
        "that need it and counted (n_failed, n_decision_failed); it is never scored as 0 or as reject",
        "rating_mse/mae": "'Reviewer = n': mean over papers of (pred - mean of all n human ratings)^2 / |.|",
        "proxy": "'Reviewer = n-1': over every (paper with n >= 2, reviewer j), loo_j = mean of the other n-1 "
        "ratings; human row = mean (r_j - loo_j)^2 / |.|, model row = mean (pred - loo_j)^2 / |.| on the same "
        "pairs (papers with a parsed prediction); proxy_human_all_* = human row over every paper with n >= 2; "
        "papers with n < 2 excluded (n_single_reviewer)",
        "decision": "accept/reject; accuracy; macro-F1 = mean F1 of the classes present in truth or prediction "
        "(sklearn f1_score average='macro'); balanced accuracy = mean recall of the classes present in the truth",
        "roc_auc": "ROC AUC of the continuous predicted rating (not the binary decision) against the true "
        "decision, Mann-Whitney with mid-ranks (ties count 1/2); None with one class",
        "spearman": "Spearman (average ranks for ties) of predicted rating vs mean human rating across papers",
        "pearson": "Pearson of predicted rating vs mean human rating across papers",
        "pairwise_accuracy": "over all paper pairs with a strict order in mean human rating (pairs with exactly "
        "equal means excluded), the share ordered the same way by the prediction; prediction ties count 1/2",
        "aspects": "per aspect, MSE/MAE of the predicted score vs the mean of the finite human scores; papers "
        "missing either side skipped and counted",
        "confidence_interval": interval_definition(n_resamples, seed, confidence),
    }



def score_predictions(
    examples: Sequence[ReviewExample], parsed: Sequence[ParsedReview], *, n_resamples: int, seed: int
) -> dict[str, Any]:
    """:func:`evaluate_reviews` of parsed reviews against the examples' human scores (a failed parse is NaN):
    what a review run writes and what the leaderboard re-scores."""
    nan = float("nan")
    predicted = [p.rating if p.rating is not None else nan for p in parsed]
    predicted_decision = [None if p.decision is None else p.decision == "accept" for p in parsed]
    human_aspects = {a: [list(getattr(e, a)) for e in examples] for a in ASPECTS if any(getattr(e, a) for e in examples)}
    predicted_aspects = {
        a: [getattr(p, a) if getattr(p, a) is not None else nan for p in parsed] for a in human_aspects
    }
    return evaluate_reviews(
        [list(e.ratings) for e in examples],
        predicted,
        [e.accepted for e in examples],
        predicted_decision,
        human_aspects=human_aspects or None,
        predicted_aspects=predicted_aspects or None,
        n_resamples=n_resamples,
        seed=seed,
    )
