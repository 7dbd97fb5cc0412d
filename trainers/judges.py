"""The trainer's judges: the reward and the guard of the Iterative SimPO loop, as scores of generated papers.

Each is the run layer's judge (:mod:`cyclebench.judge`: protocol, backend behind the request-hash cache, a
baseline trained on the train split of ``train_task`` / ``train_data``, reflection rounds, few-shot folders);
what is the trainer's own is the spec (role, ``<role>_*`` recipe fields), the score read from a review (the mean
simulated rating) and the check that the guard is not the reward. An output the judge cannot read, or a
request that failed, gives no score and a reason (``judge_unparseable:<problem>``, ``judge_error:<error>``),
never a 0. A resumed round re-judges nothing it had judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.backends import needs_training
from cyclebench.judge import JudgeConfig, JudgeItem, open_judge
from cyclebench.records import ParsedReview, problem_key


@dataclass(frozen=True)
class JudgeSpec:
    """How to build a judge; ``name`` is its role in the loop ("reward" or "guard")."""

    name: str
    protocol: str
    backend: str
    protocol_options: dict[str, Any] = field(default_factory=dict)
    model_args: dict[str, Any] = field(default_factory=dict)
    train_task: str | None = None
    train_data: str | None = None
    max_tokens: int | None = None

    def identity(self) -> dict[str, Any]:
        """What makes two judges the same judge (the role name aside)."""
        return {"protocol": self.protocol, "protocol_options": self.protocol_options, "backend": self.backend,
                "model_args": self.model_args, "train_task": self.train_task, "train_data": self.train_data}


@dataclass(frozen=True)
class Verdict:
    request_id: str
    score: float | None
    reason: str | None  # why there is no score
    decision: str | None = None
    status: str | None = None


def verdict_from_review(request_id: str, review: ParsedReview | None, error: str | None) -> Verdict:
    """A score from one judge review (None with ``error``: the request failed), or the reason there is none."""
    if review is None:
        return Verdict(request_id, None, f"judge_error:{problem_key(error or 'empty_response')}")
    if review.rating is None:
        problems = [problem_key(p) for p in review.problems if "rating" in p] or [problem_key(p) for p in review.problems]
        return Verdict(request_id, None, f"judge_unparseable:{problems[0] if problems else 'no_rating'}",
                       review.decision, review.status)
    return Verdict(request_id, float(review.rating), None, review.decision, review.status)


def verdict_from_response(request_id: str, text: str | None, error: str | None, protocol: Any) -> Verdict:
    """A score from one judge response, or the reason there is none (pure)."""
    if error is not None or text is None:
        return verdict_from_review(request_id, None, error)
    return verdict_from_review(request_id, protocol.parse(text), None)


def judge_config(spec: JudgeSpec, *, ready_backend: bool = False) -> JudgeConfig:
    """The run layer's judge for a trainer's judge spec. A baseline learns from ``train_task``/``train_data``
    (required, unless a trained backend is passed in: ``ready_backend``); other backends ignore them."""
    train = None
    if needs_training(spec.backend) and not ready_backend:
        if not (spec.train_task and spec.train_data):
            raise ValueError(f"{spec.name} judge: backend {spec.backend} learns from data; give "
                             f"{spec.name}_train_task and {spec.name}_train_data")
        train = f"{spec.train_task}={spec.train_data}"
    sampling = {"max_tokens": int(spec.max_tokens)} if spec.max_tokens is not None else {}
    return JudgeConfig(spec.protocol, spec.backend, dict(spec.model_args), dict(spec.protocol_options), sampling, train)


def score_papers(spec: JudgeSpec, papers: Sequence[tuple[str, str]], *, cache_dir: str | Path, backend: Any = None,
                 seed: int = 0, batch_size: int = 16) -> list[Verdict]:
    """``[(request_id, paper_text), ...]`` -> one verdict each, same order, by the judge ``spec`` names (or
    the ready ``backend`` passed in, which stays the caller's)."""
    judge = open_judge(judge_config(spec, ready_backend=backend is not None), cache_dir, backend=backend)
    try:
        judgements = judge.review([JudgeItem(rid, text) for rid, text in papers], batch_size=batch_size, seed=seed,
                                  progress=False, label=f"{spec.name} judge")
    finally:
        judge.close()
    return [verdict_from_review(j.item_id, None if j.error is not None or j.output is None else j.review, j.error)
            for j in judgements]


def summarize(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """Mean score over the scored papers, with the count of papers without a score by reason."""
    scores = [v.score for v in verdicts if v.score is not None]
    failures: dict[str, int] = {}
    for v in verdicts:
        if v.score is None:
            failures[v.reason or "unknown"] = failures.get(v.reason or "unknown", 0) + 1
    return {"n": len(verdicts), "n_scored": len(scores), "mean_score": sum(scores) / len(scores) if scores else None,
            "min_score": min(scores) if scores else None, "max_score": max(scores) if scores else None,
            "failures": dict(sorted(failures.items()))}


def spec_from_config(role: str, config: Any) -> JudgeSpec:
    """The reward or guard judge of an IterativeSimPOConfig (fields ``<role>_protocol``, ``<role>_backend`` ...)."""
    from cyclebench.backends import parse_model_args

    def get(name: str) -> Any:
        return getattr(config, f"{role}_{name}")

    return JudgeSpec(
        name=role, protocol=get("protocol"), backend=get("backend"),
        protocol_options=parse_model_args(get("protocol_args")), model_args=parse_model_args(get("model_args")),
        train_task=get("train_task"), train_data=get("train_data"), max_tokens=config.judge_max_tokens,
    )


def check_distinct(reward: JudgeSpec | Mapping[str, Any], guard: JudgeSpec | Mapping[str, Any]) -> None:
    """The guard is there to catch reward hacking: it must not be the reward judge itself."""
    a = reward.identity() if isinstance(reward, JudgeSpec) else dict(reward)
    b = guard.identity() if isinstance(guard, JudgeSpec) else dict(guard)
    if a == b:
        raise ValueError("the guard judge is the reward judge: give the guard another model (or protocol), "
                         "or the per-round check against reward hacking means nothing")
