"""Fast-DetectGPT's analytic sampling discrepancy (Bao et al., ICLR 2024), as a pure function over logits.

For each scored token x_t, with q the scoring model's and p the reference model's next-token distribution:

    ll_t  = log q(x_t)
    mu_t  = sum_v p(v) log q(v)                  (expected log-likelihood of a token the reference model samples)
    var_t = sum_v p(v) (log q(v))^2 - mu_t^2

    criterion = (sum_t ll_t - sum_t mu_t) / sqrt(sum_t var_t)

as in the authors' ``get_sampling_discrepancy_analytic`` (the "sampling/discrepancy analytic" criterion). The
sums run over every scored token of a text, also across the chunks of a text longer than the context: a
:class:`TokenSums` per chunk is added up and turned into the criterion once (:func:`criterion`). Machine text sits
high (it is likelier than the reference model's own samples), human text near zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

VARIANCE_FLOOR = 1e-12


@dataclass(frozen=True)
class TokenSums:
    """Sums over the scored tokens of one text (or one chunk of it): enough to combine chunks exactly."""

    log_likelihood: float = 0.0
    mean: float = 0.0
    variance: float = 0.0
    n_tokens: int = 0

    def __add__(self, other: TokenSums) -> TokenSums:
        return TokenSums(self.log_likelihood + other.log_likelihood, self.mean + other.mean,
                         self.variance + other.variance, self.n_tokens + other.n_tokens)


def token_sums(logits_score: torch.Tensor, logits_ref: torch.Tensor, labels: torch.Tensor,
               mask: torch.Tensor | None = None) -> list[TokenSums]:
    """Per row of a batch: the sums of ll_t, mu_t and var_t over the positions where ``mask`` is true.

    ``logits_*``: [batch, positions, vocab], the distribution of the token at ``labels[b, t]`` ([batch, positions]);
    the caller shifts (logits at t-1 predict token t). Vocabularies of different sizes (embedding padding) are cut
    to the shorter, as the original does; the caller has checked that both models share one tokenizer.
    Computed in float64 so that long texts do not lose the small differences the criterion lives on.
    """
    if logits_score.shape[:2] != logits_ref.shape[:2] or logits_score.shape[:2] != labels.shape:
        raise ValueError(f"shapes differ: score {tuple(logits_score.shape)}, reference {tuple(logits_ref.shape)}, "
                         f"labels {tuple(labels.shape)}")
    vocab = min(logits_score.shape[-1], logits_ref.shape[-1])
    if labels.numel() and (int(labels.max()) >= vocab or int(labels.min()) < 0):
        raise ValueError(f"a label id is outside the shared vocabulary of {vocab} tokens")
    lq = torch.log_softmax(logits_score[..., :vocab].double(), dim=-1)
    p = torch.softmax(logits_ref[..., :vocab].double(), dim=-1)
    ll = lq.gather(-1, labels.long().unsqueeze(-1)).squeeze(-1)
    mu = (p * lq).sum(-1)
    var = ((p * lq.square()).sum(-1) - mu.square()).clamp_min(0.0)  # rounding can leave -1e-17
    m = torch.ones_like(ll, dtype=torch.bool) if mask is None else mask.bool()
    zero = torch.zeros_like(ll)
    lls, mus, vars_ = (torch.where(m, x, zero).sum(-1) for x in (ll, mu, var))
    counts = m.sum(-1)
    return [TokenSums(float(a), float(b), float(c), int(n)) for a, b, c, n in
            zip(lls.tolist(), mus.tolist(), vars_.tolist(), counts.tolist())]


def criterion(sums: TokenSums) -> float | None:
    """The analytic sampling discrepancy of a text's summed statistics; None when it is undefined (no scored
    token, or a reference distribution with no spread under the scoring model: variance 0)."""
    # float64 rounding leaves ~1e-16 per token where the true variance is 0 (a uniform distribution)
    if sums.n_tokens == 0 or not sums.variance > VARIANCE_FLOOR * sums.n_tokens or not math.isfinite(sums.variance):
        return None
    value = (sums.log_likelihood - sums.mean) / math.sqrt(sums.variance)
    return value if math.isfinite(value) else None
