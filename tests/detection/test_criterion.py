"""Fast-DetectGPT's analytic criterion against a hand computation on a three-token vocabulary."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from cyclebench.detection.criterion import TokenSums, criterion, token_sums  # noqa: E402


def T(x):
    """Logits as float64, so the hand computation sees the same numbers (0.3 is not a float32)."""
    return torch.tensor(x, dtype=torch.float64)


def _softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    return [v / sum(e) for v in e]


def _by_hand(score_rows, ref_rows, labels):
    ll = mu = var = 0.0
    for s, r, y in zip(score_rows, ref_rows, labels):
        q, p = _softmax(s), _softmax(r)
        lq = [math.log(v) for v in q]
        m = sum(pi * li for pi, li in zip(p, lq))
        ll += lq[y]
        mu += m
        var += sum(pi * li * li for pi, li in zip(p, lq)) - m * m
    return ll, mu, var, (ll - mu) / math.sqrt(var)


SCORE = [[2.0, 0.5, -1.0], [0.0, 1.0, 0.3], [-0.5, -0.5, 2.0]]
REF = [[1.0, 1.0, 0.0], [0.2, 2.0, -1.0], [0.0, 0.0, 0.0]]
LABELS = [0, 2, 2]


def test_matches_hand_computation_with_different_models():
    ll, mu, var, expected = _by_hand(SCORE, REF, LABELS)
    [sums] = token_sums(T([SCORE]), T([REF]), torch.tensor([LABELS]))
    assert sums.n_tokens == 3
    assert sums.log_likelihood == pytest.approx(ll, abs=1e-9)
    assert sums.mean == pytest.approx(mu, abs=1e-9)
    assert sums.variance == pytest.approx(var, abs=1e-9)
    assert criterion(sums) == pytest.approx(expected, abs=1e-9)


def test_same_model_as_scorer_and_reference():
    _, _, _, expected = _by_hand(SCORE, SCORE, LABELS)
    logits = T([SCORE])
    [sums] = token_sums(logits, logits, torch.tensor([LABELS]))
    assert criterion(sums) == pytest.approx(expected, abs=1e-9)


def test_mask_drops_padding_and_chunks_add_up():
    """A padded row scores only its real tokens; two chunks summed equal the whole text."""
    whole = _by_hand(SCORE, REF, LABELS)
    padded_score = T([SCORE[:2] + [[9.0, 9.0, 9.0]], SCORE[2:] + [[5.0, 0.0, 0.0]] * 2])
    padded_ref = T([REF[:2] + [[0.0, 0.0, 0.0]], REF[2:] + [[0.0, 3.0, 0.0]] * 2])
    labels = torch.tensor([LABELS[:2] + [1], LABELS[2:] + [0, 0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    first, second = token_sums(padded_score, padded_ref, labels, mask)
    assert (first.n_tokens, second.n_tokens) == (2, 1)
    total = first + second
    assert criterion(total) == pytest.approx(whole[3], abs=1e-9)


def test_likely_text_scores_higher_than_unlikely():
    """The token the model expects most gives a positive criterion, the least expected a negative one."""
    logits = torch.tensor([[[3.0, 0.0, -3.0]] * 5])
    [hi] = token_sums(logits, logits, torch.tensor([[0] * 5]))
    [lo] = token_sums(logits, logits, torch.tensor([[2] * 5]))
    assert criterion(hi) > 0 > criterion(lo)


def test_vocab_padding_cut_to_the_shared_size():
    score = T([[[2.0, 0.5, -1.0, 7.0]]])  # an embedding padded by one slot
    ref = T([[[1.0, 1.0, 0.0]]])
    [sums] = token_sums(score, ref, torch.tensor([[0]]))
    assert criterion(sums) == pytest.approx(_by_hand(SCORE[:1], REF[:1], [0])[3], abs=1e-9)


def test_undefined_cases():
    assert criterion(TokenSums()) is None  # nothing scored
    flat = torch.zeros((1, 2, 3))  # uniform: every token equally likely, no variance
    [sums] = token_sums(flat, flat, torch.tensor([[0, 1]]))
    assert sums.variance == pytest.approx(0.0, abs=1e-12)
    assert criterion(sums) is None
    with pytest.raises(ValueError, match="outside the shared vocabulary"):
        token_sums(flat, flat, torch.tensor([[0, 3]]))
    with pytest.raises(ValueError, match="shapes differ"):
        token_sums(flat, torch.zeros((1, 3, 3)), torch.tensor([[0, 1]]))
