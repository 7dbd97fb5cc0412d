"""Win rates: both orders combined (position bias removed), bias measured, Bradley-Terry, failures excluded."""

from __future__ import annotations

import numpy as np
import pytest

from cyclebench.metrics.win_rates import (
    OrderedJudgment,
    bradley_terry,
    combine_orders,
    fit_bradley_terry,
    parse_failure_counts,
    position_bias,
    win_rate_metrics,
)

S = ["x", "y"]


def both(paper, forward, swapped, x="x", y="y", aspect="overall"):
    """x shown first says ``forward``; y shown first says ``swapped``."""
    return [OrderedJudgment(paper, x, y, {aspect: forward}), OrderedJudgment(paper, y, x, {aspect: swapped})]


@pytest.mark.parametrize("forward, swapped, score, agree", [
    ("A", "B", 1.0, True),     # x preferred in both orders
    ("B", "A", 0.0, True),     # y preferred in both
    ("A", "A", 0.5, False),    # always the first shown: pure position bias, a tie once removed
    ("B", "B", 0.5, False),
    ("tie", "tie", 0.5, True),
    ("A", "tie", 0.75, False),
    ("tie", "A", 0.25, False),
])
def test_combination_rule(forward, swapped, score, agree):
    combined, excluded = combine_orders(both("p", forward, swapped), S, "overall")
    assert [(c.x, c.y, c.score, c.agree) for c in combined] == [("x", "y", score, agree)]
    assert not excluded


def test_unreadable_or_missing_orders_are_excluded_by_reason_never_tied():
    judgments = [*both("p1", None, "B"), *both("p2", None, None), both("p3", "A", "B")[0], *both("p4", "A", "B")]
    combined, excluded = combine_orders(judgments, S, "overall")
    assert [c.paper_id for c in combined] == ["p4"]
    assert dict(excluded) == {"one_order_unreadable": 1, "both_orders_unreadable": 1, "order_missing": 1}


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="unknown system"):
        combine_orders(both("p", "A", "B", y="z"), S, "overall")
    with pytest.raises(ValueError, match="twice in the same order"):
        combine_orders(both("p", "A", "B") + both("p", "A", "B")[:1], S, "overall")
    with pytest.raises(ValueError, match="against itself"):
        combine_orders([OrderedJudgment("p", "x", "x", {"overall": "A"})], S, "overall")
    with pytest.raises(ValueError, match="not A, B, tie"):
        combine_orders([OrderedJudgment("p", "x", "y", {"overall": "a"})], S, "overall")


def test_win_tie_loss_counts_and_rates():
    judgments = (both("p1", "A", "B") + both("p2", "A", "B") + both("p3", "A", "A") + both("p4", "B", "A"))
    m = win_rate_metrics(judgments, S, ["overall"], n_resamples=500, seed=1)["overall"]
    (pair,) = m["pairs"]
    assert (pair["system"], pair["opponent"], pair["n"]) == ("x", "y", 4)
    assert (pair["wins"], pair["ties"], pair["losses"]) == (2, 1, 1)
    assert pair["win_rate"]["value"] == 0.5 and pair["tie_rate"]["value"] == 0.25
    assert pair["score"]["value"] == pytest.approx(0.625)
    assert pair["order_agreement"]["value"] == 0.75
    assert 0.0 <= pair["win_rate"]["ci_low"] <= 0.5 <= pair["win_rate"]["ci_high"] <= 1.0
    assert pair["win_rate"]["n_resamples"] == 500


def test_position_bias_of_a_judge_that_always_picks_the_first():
    judgments = [j for p in range(10) for j in both(f"p{p}", "A", "A")]
    bias = position_bias(judgments, "overall", n_resamples=200)
    assert bias["first_share"]["value"] == 1.0 and bias["bias"]["value"] == 0.5
    assert (bias["n_first"], bias["n_second"], bias["n_tie"]) == (20, 0, 0)
    # ... and once both orders are combined it favours no one
    m = win_rate_metrics(judgments, S, ["overall"], n_resamples=0)["overall"]
    assert m["pairs"][0]["ties"] == 10 and m["bradley_terry"]["ratings"]["x"]["value"] == pytest.approx(1000.0)


def test_position_bias_unbiased_and_undefined():
    judgments = [j for p in range(10) for j in both(f"p{p}", "A", "B")]  # x always wins, whatever the order
    bias = position_bias(judgments, "overall", n_resamples=200)
    assert bias["bias"]["value"] == 0.0
    ties = [j for p in range(3) for j in both(f"p{p}", "tie", None)]
    none = position_bias(ties, "overall", n_resamples=200)
    assert none["bias"]["value"] is None and none["n_unreadable"] == 3 and none["n_tie"] == 3


def test_bradley_terry_orders_systems_and_matches_two_player_closed_form():
    # x beats y on 3 of 4 papers: with one virtual tie (half a win each way) p_x/p_y = 3.5/1.5
    judgments = both("p1", "A", "B") + both("p2", "A", "B") + both("p3", "A", "B") + both("p4", "B", "A")
    combined, _ = combine_orders(judgments, S, "overall")
    bt = bradley_terry(combined, S, n_resamples=300)
    gap = bt["ratings"]["x"]["value"] - bt["ratings"]["y"]["value"]
    assert gap == pytest.approx(400 * np.log10(3.5 / 1.5), abs=1e-6)
    assert bt["ratings"]["x"]["value"] + bt["ratings"]["y"]["value"] == pytest.approx(2000.0)
    assert bt["connected"] and bt["ratings"]["x"]["ci_low"] <= bt["ratings"]["x"]["value"]


def test_bradley_terry_three_systems_never_winning_stays_finite():
    systems = ["a", "b", "c"]
    judgments = []
    for p in range(5):
        judgments += both(f"p{p}", "A", "B", x="a", y="b") + both(f"p{p}", "A", "B", x="b", y="c")
        judgments += both(f"p{p}", "A", "B", x="a", y="c")
    m = win_rate_metrics(judgments, systems, ["overall"], n_resamples=200)["overall"]
    ratings = {k: v["value"] for k, v in m["bradley_terry"]["ratings"].items()}
    assert ratings["a"] > ratings["b"] > ratings["c"] and all(np.isfinite(list(ratings.values())))


def test_bradley_terry_disconnected_graph_is_undefined():
    systems = ["a", "b", "c", "d"]
    judgments = both("p", "A", "B", x="a", y="b") + both("p", "A", "B", x="c", y="d")
    combined, _ = combine_orders(judgments, systems, "overall")
    bt = bradley_terry(combined, systems, n_resamples=50)
    assert not bt["connected"] and all(v["value"] is None for v in bt["ratings"].values())


def test_mm_fit_against_brute_force_likelihood_maximum():
    rng = np.random.default_rng(3)
    wins = rng.integers(0, 6, size=(4, 4)).astype(float)
    np.fill_diagonal(wins, 0)
    mask = 1 - np.eye(4)
    ratings = fit_bradley_terry(wins, mask)
    p = 10 ** ((ratings - 1000) / 400)
    w = wins + 0.5 * mask

    def loglik(q):
        return sum(w[i, j] * np.log(q[i] / (q[i] + q[j])) for i in range(4) for j in range(4) if i != j)

    best = loglik(p)
    for _ in range(200):  # no nearby point is more likely
        assert loglik(p * np.exp(rng.normal(0, 0.05, 4))) <= best + 1e-9


def test_bootstrap_is_seeded_and_failures_counted_by_reason():
    judgments = [j for p in range(8) for j in both(f"p{p}", "AB"[p % 2], "B")]
    a = win_rate_metrics(judgments, S, ["overall"], n_resamples=300, seed=5)
    b = win_rate_metrics(judgments, S, ["overall"], n_resamples=300, seed=5)
    assert a == b
    counts = parse_failure_counts([["overall.verdict_missing: no section", "analytical_depth.verdict_ambiguous: x"],
                                   [], ["overall.verdict_missing"]])
    assert counts == {"by_reason": {"verdict_ambiguous": 1, "verdict_missing": 2},
                      "by_aspect": {"analytical_depth": 1, "overall": 2}}
