"""Metrics: pure functions over arrays and records (no I/O, no backend, numpy only besides the records).

* :mod:`~cyclebench.metrics.review`: a reviewer model against the human reviews, per paper.
* :mod:`~cyclebench.metrics.sets`: a set of judged papers (acceptance rates, average scores, best-of-N).
* :mod:`~cyclebench.metrics.pairwise`: two judgings of the same papers (judge disagreement, injection shift).
* :mod:`~cyclebench.metrics.bootstrap`: the paper-level resamples and intervals they all share;
  :mod:`~cyclebench.metrics.plans`: the vectorised machinery under the array metrics.

Inputs of the array metrics, one entry per paper:

* ``human_ratings``: ``list`` of 1-D arrays, the individual human scores of each paper (``n_i >= 1``,
  all finite).  The ground truth of a paper is the mean of its reviewers' scores.
* ``predicted``: the model's rating per paper; NaN (or ``None``, or any non-finite value) means the model's
  output failed to parse.  Failed papers are excluded from every score metric and counted; a failed parse is
  never scored as 0.
* ``true_decision``: accept (``True``) / reject (``False``); ``None``/NaN when unknown.
* ``predicted_decision``: the model's accept/reject, ``None``/NaN when unparsed (excluded and counted).

Every metric function takes ``weights``:

* ``None``: each paper once; the result is a float (``None`` when undefined).
* a 1-D array of ``n`` non-negative integer multiplicities: same, with paper ``i`` counted ``weights[i]``
  times (one bootstrap resample).
* a 2-D array ``(B, n)`` of multiplicities, e.g. from :func:`bootstrap_counts`: every figure is computed for
  the ``B`` resamples at once and returned as a ``(B,)`` float array (NaN where undefined).

Weighting by multiplicities is *exactly* the plain metric on the resampled list of papers (duplicates
included): ranks are mid-ranks over the expanded list, copies of one paper form tied pairs, and so on.
Counts (``n`` ...) are always plain integers over the unweighted papers.

Bootstrap: paper-level resampling with replacement (``B = 10_000`` by default), the same resamples for every
figure of one evaluation, 95 % percentile intervals over the resamples where the figure is defined.
"""

from cyclebench.metrics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_RESAMPLES,
    DEFAULT_SEED,
    bootstrap_ci,
    bootstrap_counts,
    percentile_interval,
)
from cyclebench.metrics.pairwise import disagreement, injection_shift
from cyclebench.metrics.review import (
    ASPECTS,
    aspect_errors,
    decision_metrics,
    evaluate_reviews,
    human_means,
    pairwise_accuracy,
    pearson,
    proxy_errors,
    rating_errors,
    roc_auc,
    score_predictions,
    spearman,
)
from cyclebench.metrics.sets import (
    DEFAULT_ACCEPT_THRESHOLD,
    FURTHEST_FIRST,
    Candidate,
    SetEntry,
    best_of_n,
    best_of_n_index,
    mean_figure,
    set_figures,
    simulated_acceptance,
)

__all__ = [
    "ASPECTS",
    "DEFAULT_ACCEPT_THRESHOLD",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_N_RESAMPLES",
    "DEFAULT_SEED",
    "FURTHEST_FIRST",
    "Candidate",
    "SetEntry",
    "aspect_errors",
    "best_of_n",
    "best_of_n_index",
    "bootstrap_ci",
    "bootstrap_counts",
    "decision_metrics",
    "disagreement",
    "evaluate_reviews",
    "human_means",
    "injection_shift",
    "mean_figure",
    "pairwise_accuracy",
    "pearson",
    "percentile_interval",
    "proxy_errors",
    "rating_errors",
    "roc_auc",
    "score_predictions",
    "set_figures",
    "simulated_acceptance",
    "spearman",
]
