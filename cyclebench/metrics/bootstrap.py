"""Paper-level bootstrap: the resamples, percentile intervals, and a suite of plans over shared resamples.

Resampling is with replacement (``B = 10_000`` by default), the same resamples for every figure of one
evaluation, 95 % percentile intervals over the resamples where the figure is defined.  Pure numpy, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cyclebench.metrics.plans import Array, Plan, scratch, to_scalar

DEFAULT_N_RESAMPLES = 10_000
DEFAULT_SEED = 0
DEFAULT_CONFIDENCE = 0.95

# Resamples are drawn in blocks of this many, block k from SeedSequence(seed, spawn_key=(k,)), so resample b
# is the same whatever n_resamples is.  Changing it changes every seeded interval.
_BLOCK = 1000

def _count_block(n: int, size: int, seed: int, block: int, arena: dict | None = None) -> Array:
    """Multiplicities (n, size) for resamples [block*_BLOCK, block*_BLOCK + size): each resample draws n
    papers uniformly with replacement.  With ``arena`` the result lives in a reused buffer."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
    small = n <= np.iinfo(np.uint16).max + 1  # uint16 draws are ~2x cheaper and just as uniform
    idx = rng.integers(0, n, size=(size, n), dtype=np.uint16 if small else np.int64).astype(np.intp)
    idx *= size
    idx += np.arange(size)[:, None]
    counts = np.bincount(idx.reshape(-1), minlength=n * size).reshape(n, size)
    out = scratch({} if arena is None else {"_arena": arena}, "counts", (n, size))
    np.copyto(out, counts)
    return out


def _count_blocks(n: int, n_resamples: int, seed: int, arena: dict | None = None):
    if n < 1 or n_resamples < 1:
        raise ValueError("need n >= 1 papers and n_resamples >= 1")
    for blk, start in enumerate(range(0, n_resamples, _BLOCK)):
        yield _count_block(n, min(_BLOCK, n_resamples - start), seed, blk, arena)


def bootstrap_counts(n: int, n_resamples: int = DEFAULT_N_RESAMPLES, seed: int = DEFAULT_SEED) -> Array:
    """Paper-level bootstrap: a ``(n_resamples, n)`` float array of multiplicities; row b says how many times
    each paper occurs in resample b (n draws with replacement, so each row sums to n).  The resamples are the
    ones :func:`bootstrap_ci` and :func:`evaluate_reviews` use for the same seed."""
    return np.concatenate(list(_count_blocks(n, n_resamples, seed)), axis=1).T


def percentile_interval(samples: Any, confidence: float = DEFAULT_CONFIDENCE) -> tuple[Any, Any, int]:
    """Percentile interval over the finite samples: ``(low, high, n_defined)``; ``(None, None, k)`` if fewer
    than 2 samples are defined."""
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if s.size < 2:
        return None, None, int(s.size)
    alpha = 100.0 * (1.0 - confidence) / 2.0
    lo, hi = np.percentile(s, [alpha, 100.0 - alpha])
    return float(lo), float(hi), int(s.size)


def figure(value: Any, samples: Array, n: int, confidence: float) -> dict[str, Any]:
    """One reported figure: its value, the interval over the defined resamples, papers used, resamples kept."""
    lo, hi, defined = percentile_interval(samples, confidence)
    if value is None:
        lo = hi = None
    return {"value": value, "ci_low": lo, "ci_high": hi, "n": n, "n_resamples": defined}


def bootstrap_ci(
    metric: Callable[..., Any],
    *args: Any,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    n_papers: int | None = None,
    **kwargs: Any,
) -> Any:
    """Bootstrap percentile interval for any metric of this module (anything accepting ``weights=``).

    The metric is evaluated once plainly and once per block of resamples from :func:`bootstrap_counts` with
    2-D weights.  A scalar metric gives ``{"value", "ci_low", "ci_high", "n", "n_resamples"}`` (``n`` = papers
    used, ``n_resamples`` = resamples where the figure is defined); a dict metric gives that per float figure
    (nested dicts recurse), integer counts passed through.  The number of papers is ``len(args[0])`` unless
    ``n_papers`` is given (needed for :func:`aspect_errors`, whose first argument is a mapping)."""
    n = len(args[0]) if n_papers is None else n_papers
    point = metric(*args, **kwargs)
    parts = [metric(*args, weights=w.T, **kwargs) for w in _count_blocks(n, n_resamples, seed)]
    return _ci_tree(point, parts, n, confidence)


def _ci_tree(point: Any, parts: list, n: int, confidence: float) -> Any:
    if not isinstance(point, dict):
        return figure(point, np.concatenate(parts), n, confidence)
    used = point.get("n", point.get("n_papers", n))
    out: dict[str, Any] = {}
    for key, value in point.items():
        sub = [p[key] for p in parts]
        if isinstance(value, dict):
            out[key] = _ci_tree(value, sub, n, confidence)
        elif isinstance(sub[0], np.ndarray):
            out[key] = figure(value, np.concatenate(sub), used, confidence)
        else:
            out[key] = value
    return out


def run_suite(plans: dict[str, Plan], n: int, n_resamples: int, seed: int):
    """Point values and bootstrap samples of every plan: ({plan: {figure: value}}, {plan: {figure: (B,)}})."""
    feats = [p.features for p in plans.values()]
    sizes = np.cumsum([0] + [f.shape[1] for f in feats])
    f_all = np.ascontiguousarray(np.concatenate(feats, axis=1).T)

    arena: dict = {}  # scratch buffers reused from one block of resamples to the next

    def evaluate(wt):
        sums, cache = f_all @ wt, {"_arena": arena}
        return {
            name: plan.finish(sums[sizes[i] : sizes[i + 1]], wt, cache) for i, (name, plan) in enumerate(plans.items())
        }

    point = {name: {k: to_scalar(v) for k, v in res.items()} for name, res in evaluate(np.ones((n, 1))).items()}
    if n_resamples <= 0 or n == 0:
        return point, None
    blocks = [evaluate(w) for w in _count_blocks(n, n_resamples, seed, arena)]
    samples = {
        name: {k: np.concatenate([b[name][k] for b in blocks]) for k in point[name]} for name in plans
    }
    return point, samples



def interval_definition(n_resamples: int, seed: int, confidence: float) -> str:
    """The ``confidence_interval`` definition every results file states for its figures."""
    pct = f"{100 * confidence:g}%"
    return (f"{pct} percentile bootstrap interval, paper-level resampling with replacement, "
            f"B = {n_resamples} resamples shared by all figures, seed {seed} (numpy PCG64, SeedSequence(seed, "
            f"spawn_key=(block,)) per block of {_BLOCK}); resamples where a figure is undefined are dropped "
            "(n_resamples says how many remain)")
